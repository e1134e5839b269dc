import { inArray, Param, sql, SQL, StringChunk, type SQLChunk } from 'drizzle-orm';
import { dbOf, rowsOf, type Database, type Db, type DrizzleDb } from './database.js';
import { storedColumns, type Enqueued } from './enqueue.js';
import { dueAt } from './clock.js';
import { messages } from './schema.js';
import type { ComposedMessage } from '../transport/compose.js';
import { validateSendOptions } from '../transport/validate.js';
import { storing } from './query-errors.js';
import { InvariantError } from '../errors.js';
import { traceEnqueue } from '../tracing/spans.js';
import { withTraceparent } from '../tracing/traceparent.js';

/** One message for `enqueueMany`, with the per-send options `enqueue` takes. */
export interface BulkItem {
  /** The message, already validated and built to its RFC 822 bytes. */
  message: ComposedMessage;
  /** The same key queued twice is one message: the later resolves to the first row, `duplicate: true`. */
  idempotencyKey?: string | undefined;
  /** Not sent before this time (default: at once). */
  sendAt?: Date | undefined;
  /** The mail view's name, stored with the message. */
  view?: string | undefined;
}

/** How `enqueueMany` and `enqueueMailMany` cut the work into INSERTs; the defaults suit any size. */
export interface BulkOptions {
  /** Rows per INSERT, default 1,000 (Postgres allows 65,535 parameters: 14 columns × 1,000 rows is well under). */
  rowsPerInsert?: number;
  /** Start a new INSERT once this many bytes of raw messages are in one (large attachments). Default 16 MB. */
  bytesPerInsert?: number;
}

/**
 * One multi-row INSERT, built as a flat list of SQL chunks: Drizzle's nested `sql`
 * fragments cost more than the database on a 1,000-row insert (the bench's bulk figure).
 * Columns at their default (no key, no sendAt in the whole chunk) are left out.
 */
export function insertOf(chunk: BulkItem[]): SQL {
  const keyed = chunk.some((item) => item.idempotencyKey != null);
  const timed = chunk.some((item) => item.sendAt !== undefined);
  const named = chunk.some((item) => item.view != null);
  const topical = chunk.some((item) => item.message.topic != null);
  const columns = ['message_id', 'priority', 'subject', 'from_address', 'envelope_from', 'recipients', 'raw', 'size'];
  if (keyed) columns.push('idempotency_key');
  if (timed) columns.push('send_at', 'next_attempt_at');
  if (named) columns.push('view');
  if (topical) columns.push('topic');
  const parts: SQLChunk[] = [sql`insert into ${messages} `, new StringChunk(`(${columns.join(', ')}) values `)];
  const comma = new StringChunk(', ');
  chunk.forEach((item, i) => {
    const row = storedColumns(item.message, item);
    parts.push(new StringChunk(i === 0 ? '(' : ', ('), row.messageId, comma, row.priority, comma, row.subject, comma, row.from, comma);
    parts.push(row.envelopeFrom, comma, new Param(row.recipients), comma, new Param(row.raw), comma, row.size);
    if (keyed) parts.push(comma, new Param(row.idempotencyKey));
    if (timed) {
      const due = dueAt(row.sendAt); // send_at and next_attempt_at
      parts.push(comma, due, comma, due);
    }
    if (named) parts.push(comma, new Param(row.view));
    if (topical) parts.push(comma, new Param(row.topic));
    parts.push(new StringChunk(')'));
  });
  parts.push(new StringChunk(' on conflict (idempotency_key) do nothing returning id, message_id, idempotency_key'));
  return new SQL(parts);
}

export type Returned = { id: number | string; message_id: string; idempotency_key: string | null };

/** Consecutive slices of at most `rows` items and (unless one item alone is larger) `bytes` raw bytes. */
function* chunks(items: BulkItem[], rows: number, bytes: number): Generator<BulkItem[]> {
  let chunk: BulkItem[] = [];
  let size = 0;
  for (const item of items) {
    if (chunk.length > 0 && (chunk.length >= rows || size + item.message.raw.length > bytes)) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(item);
    size += item.message.raw.length;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The items with the keyed ones in key order (unkeyed ones keep their places). Postgres
 * takes a row's unique-index lock as it inserts it, in VALUES order: two bulk enqueues
 * that share keys in different orders each held one the other wanted, a deadlock every
 * time. In one order, the second waits for the first and then skips its keys.
 */
function inKeyOrder(items: BulkItem[]): BulkItem[] {
  const keyed = items.filter((item) => item.idempotencyKey != null);
  keyed.sort((a, b) => (a.idempotencyKey! < b.idempotencyKey! ? -1 : a.idempotencyKey! > b.idempotencyKey! ? 1 : 0)); // stable: the first of a key stays first
  let next = 0;
  return items.map((item) => (item.idempotencyKey != null ? keyed[next++]! : item));
}

/** The body of `enqueueMany`, inside its transaction. */
async function insertAll(tx: Db, items: BulkItem[], rows: number, bytes: number): Promise<Enqueued[]> {
  const byKey = new Map<string, Enqueued>();
  // Rows without a key, by Message-ID (a list: the same composed message may be queued twice).
  const byMessageId = new Map<string, Enqueued[]>();
  const record = (inserted: unknown) => {
    for (const row of rowsOf<Returned>(inserted)) {
      const queued = { id: Number(row.id), state: 'queued' as const, messageId: row.message_id, duplicate: false };
      if (row.idempotency_key !== null) byKey.set(row.idempotency_key, queued);
      else byMessageId.set(row.message_id, [...(byMessageId.get(row.message_id) ?? []), queued]);
    }
  };
  // Each INSERT is built and sent while the one before runs (two in flight at most):
  // the database works while the next chunk is prepared. In order, so results are too.
  let running: Promise<unknown> | undefined;
  for (const chunk of chunks(inKeyOrder(items), rows, bytes)) {
    // Drizzle's query runs on every then(): made a real promise once, it runs once.
    const next = Promise.resolve(tx.execute(insertOf(chunk)));
    next.catch(() => {}); // awaited below; a failure of the one before it is reported first
    if (running) record(await running);
    running = next;
  }
  if (running) record(await running);
  // Keys that inserted nothing were queued before this call.
  const missing = [...new Set(items.map((i) => i.idempotencyKey).filter((k): k is string => k != null && !byKey.has(k)))];
  const earlier = new Map<string, Enqueued>();
  for (let i = 0; i < missing.length; i += rows) {
    const found = await tx
      .select({ id: messages.id, state: messages.state, messageId: messages.messageId, key: messages.idempotencyKey })
      .from(messages)
      .where(inArray(messages.idempotencyKey, missing.slice(i, i + rows)));
    for (const { key, ...row } of found) earlier.set(key!, { ...row, duplicate: true });
  }
  const seen = new Set<string>();
  return items.map(({ message, idempotencyKey: key }) => {
    if (key == null) {
      const queued = byMessageId.get(message.messageId)?.shift();
      if (!queued) throw new InvariantError(`bulk insert returned no row for ${message.messageId}`);
      return queued;
    }
    const first = !seen.has(key);
    seen.add(key);
    const queued = byKey.get(key);
    if (queued) return first ? queued : { ...queued, duplicate: true };
    const existing = earlier.get(key);
    if (!existing) throw new InvariantError(`idempotency conflict without an existing row for key ${key}`);
    return existing;
  });
}

/**
 * Stores many composed messages with a few multi-row INSERTs, in one transaction
 * (a savepoint inside the app's own): all are queued or none. Results come back
 * in input order. An idempotency key already queued, or repeated in `items`, is
 * stored once; its other items resolve to that row with `duplicate: true`.
 * `target` is any Drizzle Postgres database or transaction, or an opened Database.
 * Throws an InvalidMessageError for a bad `sendAt` or key (nothing stored), a
 * TablesMissingError when the database was never migrated, else a DatabaseError.
 */
export async function enqueueMany(target: DrizzleDb | Database, items: BulkItem[], options: BulkOptions = {}): Promise<Enqueued[]> {
  const db = dbOf(target);
  const rows = Math.max(1, options.rowsPerInsert ?? 1000);
  const bytes = Math.max(1, options.bytesPerInsert ?? 16 * 1024 * 1024);
  if (items.length === 0) return [];
  for (const item of items) validateSendOptions(item);
  // One span for the whole call where the app has a tracer; every message keeps its traceparent.
  const only = <T>(values: T[]) => (values.every((v) => v === values[0]) ? values[0] : undefined);
  const facts = { view: only(items.map((i) => i.view)), priority: only(items.map((i) => i.message.priority)), recipients: items.reduce((n, i) => n + i.message.envelope.to.length, 0), messages: items.length };
  return traceEnqueue(facts, (traceparent) => {
    const traced = traceparent === undefined ? items : items.map((item) => ({ ...item, message: { ...item.message, raw: withTraceparent(item.message.raw, traceparent) } }));
    const values = () => traced.map((item) => Object.values(storedColumns(item.message, item)));
    return storing('queue the messages', values, () => db.transaction((tx) => insertAll(tx, traced, rows, bytes)));
  });
}
