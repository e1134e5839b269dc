import { and, asc, count, desc, eq, getTableColumns, gte, ilike, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { attempts, messages, type MessageState } from '../store/schema.js';
import { retryMessages } from '../store/retry.js';
import { stateCounts } from '../store/status.js';
import { SENDABLE_NOW, sendStoredNow } from '../drain/send-now.js';

/** The outbox's read side and the few actions a staging user needs, one query each. */

export interface OutboxFilter {
  state?: MessageState;
  /** Matched, case-insensitively and literally, against the subject and every recipient. */
  search?: string;
  /** Only messages built by this mail view (its name). */
  view?: string | undefined;
  /** Created on or after this day (UTC, `YYYY-MM-DD`). */
  after?: string | undefined;
  /** Created on or before this day (UTC, `YYYY-MM-DD`): the whole day counts. */
  before?: string | undefined;
  page: number;
  pageSize: number;
}

/** A `YYYY-MM-DD` from the page, or undefined when it is anything else (never passed to SQL as text it did not check). */
export function dayOf(value: string | undefined): string | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? undefined : value;
}

/** Recipients shown per message in the list. */
export const LIST_RECIPIENTS = 3;

const listColumns = {
  id: messages.id,
  state: messages.state,
  priority: messages.priority,
  subject: messages.subject,
  view: messages.view,
  fromAddress: messages.fromAddress,
  // The first few and the count: a message to 20,000 people must not make a 450 KB row of the list.
  recipients: sql<string[]>`(${messages.recipients})[1:${LIST_RECIPIENTS}]`,
  recipientCount: sql<number>`cardinality(${messages.recipients})`.mapWith(Number),
  attempts: messages.attempts,
  size: messages.size,
  lastError: messages.lastError,
  createdAt: messages.createdAt,
  nextAttemptAt: messages.nextAttemptAt,
  sentAt: messages.sentAt,
};

/** `%`, `_` and `\` in what the user typed are literal characters, not LIKE wildcards. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function where(filter: Omit<OutboxFilter, 'page' | 'pageSize'>): SQL | undefined {
  const search = filter.search?.trim();
  const pattern = search ? likePattern(search) : undefined;
  return and(
    filter.state ? eq(messages.state, filter.state) : undefined,
    filter.view ? eq(messages.view, filter.view) : undefined,
    filter.after ? gte(messages.createdAt, new Date(`${filter.after}T00:00:00Z`)) : undefined,
    filter.before ? lt(messages.createdAt, new Date(new Date(`${filter.before}T00:00:00Z`).getTime() + 86_400_000)) : undefined,
    pattern
      ? or(ilike(messages.subject, pattern), sql`array_to_string(${messages.recipients}, ' ') ilike ${pattern}`)
      : undefined,
  );
}

/**
 * One page of messages, newest first. Ids grow with every insert, so id order is
 * creation order and uses the primary key instead of sorting the table.
 */
export async function listOutbox(db: Db, filter: OutboxFilter) {
  const condition = where(filter);
  // Without a search the total is in the per-state counts: no second count of the table.
  const [rows, counts, searched] = await Promise.all([
    db
      .select(listColumns)
      .from(messages)
      .where(condition)
      .orderBy(desc(messages.id))
      .limit(filter.pageSize)
      .offset((filter.page - 1) * filter.pageSize),
    stateCounts(db),
    filter.search?.trim() || filter.view || filter.after || filter.before ? db.select({ n: count() }).from(messages).where(condition) : undefined,
  ]);
  const total = searched
    ? Number(searched[0]?.n ?? 0)
    : filter.state
      ? counts[filter.state]
      : Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { rows, total, counts };
}

export type OutboxRow = Awaited<ReturnType<typeof listOutbox>>['rows'][number];

const { raw: _raw, ...withoutRaw } = getTableColumns(messages);

/** A message's row without its bytes (which may be tens of MB): `rawChunks` streams those. */
export async function getMessage(db: Db, id: number) {
  const [row] = await db
    .select({ ...withoutRaw, rawSize: sql<number>`octet_length(${messages.raw})`.mapWith(Number) })
    .from(messages)
    .where(eq(messages.id, id));
  return row;
}

export type MessageSummaryRow = NonNullable<Awaited<ReturnType<typeof getMessage>>>;

/**
 * A message's raw bytes, 128 KB per query (`substring` on the bytea, on both
 * backends): memory stays at one chunk per reader however large the message, and a
 * slow client holds back the next query instead of the server buffering for it. (At 256 KB,
 * 18 concurrent reads of a 50 MB message peaked 20-40 MB higher, on both backends.)
 */
export async function* rawChunks(db: Db, id: number, size: number, chunkSize = 128 * 1024): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; offset += chunkSize) {
    const [row] = await db
      .select({ chunk: sql<Buffer>`substring(${messages.raw} from ${offset + 1} for ${chunkSize})`.mapWith(messages.raw) })
      .from(messages)
      .where(eq(messages.id, id));
    if (!row) throw new Error(`message ${id} was deleted while it was being read`);
    if (row.chunk.length === 0) return;
    yield row.chunk;
  }
}

export function attemptsOf(db: Db, id: number) {
  return db.select().from(attempts).where(eq(attempts.messageId, id)).orderBy(asc(attempts.id));
}

/** States in which each action makes sense; the queries check them again, atomically. */
export const ACTIONS = {
  retry: ['deferred', 'failed'],
  'send-now': SENDABLE_NOW,
  delete: ['queued', 'deferred'],
} as const satisfies Record<string, readonly MessageState[]>;
export type Action = keyof typeof ACTIONS;

/** Deferred or failed → due now (failed ones get a fresh attempt budget). */
export async function retryMessage(db: Db, id: number): Promise<boolean> {
  return (await retryMessages(db, { failed: true, ids: [id] })) === 1;
}

/** Removes a message still waiting to be sent (never one a drain holds, nor the record of one sent). */
export async function deleteMessage(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .delete(messages)
    .where(and(eq(messages.id, id), inArray(messages.state, [...ACTIONS.delete])))
    .returning({ id: messages.id });
  return rows.length === 1;
}

/** Makes a waiting message due now: the next drain takes it first among its priority. */
export async function makeDue(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .update(messages)
    .set({ nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(messages.id, id), inArray(messages.state, [...ACTIONS['send-now']])))
    .returning({ id: messages.id });
  return rows.length === 1;
}

/** The "send now" button with an SMTP server: the drain sends it at once (see drain/send-now.ts). */
export const sendNow = sendStoredNow;

/** The bulk actions on a filtered selection, and the states each applies to. */
export const BULK = { retry: ['deferred', 'failed'], delete: ['queued', 'deferred'] } as const satisfies Record<string, readonly MessageState[]>;
export type BulkAction = keyof typeof BULK;

/** How many messages of the selection the action would change (shown before it is confirmed). */
export async function bulkCount(db: Db, filter: Omit<OutboxFilter, 'page' | 'pageSize'>, action: BulkAction): Promise<number> {
  const [row] = await db.select({ n: count() }).from(messages).where(and(where(filter), inArray(messages.state, [...BULK[action]])));
  return Number(row?.n ?? 0);
}

/** Retries or deletes every message of the selection in the states the action allows; returns how many changed. */
export async function bulkApply(db: Db, filter: Omit<OutboxFilter, 'page' | 'pageSize'>, action: BulkAction): Promise<number> {
  const condition = and(where(filter), inArray(messages.state, [...BULK[action]]));
  if (action === 'delete') return (await db.delete(messages).where(condition).returning({ id: messages.id })).length;
  const ids = (await db.select({ id: messages.id }).from(messages).where(condition)).map((r) => r.id);
  return ids.length ? retryMessages(db, { failed: true, ids }) : 0;
}
