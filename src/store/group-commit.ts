import type { Db } from './database.js';
import { enqueue, type Enqueued, type EnqueueOptions } from './enqueue.js';
import { insertOf, type BulkItem, type Returned } from './bulk.js';
import { rowsOf } from './rows.js';
import { storedColumns } from './enqueue.js';
import { storing } from './query-errors.js';
import { validateSendOptions } from '../transport/validate.js';
import type { ComposedMessage } from '../transport/compose.js';

/** Most rows and raw bytes one shared INSERT carries (bulk.ts's limits). */
const MAX_ROWS = 1000;
const MAX_BYTES = 16 * 1024 * 1024;

interface Waiting {
  item: BulkItem;
  resolve(queued: Enqueued): void;
  reject(error: unknown): void;
}

/**
 * Sends arriving while a commit is in flight wait for it, then go together in one
 * multi-row INSERT: a busy web server's 64 concurrent `sendMail` calls cost a few
 * commits instead of 64 (each a round trip and a WAL flush). A lone send goes at once,
 * through the prepared single-row INSERT, so nothing waits on a timer.
 */
class CommitGroup {
  private waiting: Waiting[] = [];
  private committing = false;
  constructor(private readonly db: Db) {}

  add(item: BulkItem): Promise<Enqueued> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.committing || this.waiting.length === 0) return;
    let bytes = 0;
    let count = 0;
    for (const { item } of this.waiting) {
      if (count > 0 && (count >= MAX_ROWS || bytes + item.message.raw.length > MAX_BYTES)) break;
      bytes += item.message.raw.length;
      count++;
    }
    const group = this.waiting.splice(0, count);
    this.committing = true;
    void this.commit(group).finally(() => {
      this.committing = false;
      this.next();
    });
  }

  private async commit(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      const [one] = group;
      return enqueue(this.db, one!.item.message, one!.item).then(one!.resolve, one!.reject);
    }
    const items = group.map((w) => w.item);
    let rows: Returned[];
    try {
      // One statement, so one commit: all of these rows are stored, or none.
      rows = rowsOf<Returned>(await this.db.execute(insertOf(items)));
    } catch (error) {
      if (!refusedByServer(error)) {
        // The connection broke: whether the commit happened is unknown, so nothing is retried.
        const values = () => items.map((i) => Object.values(storedColumns(i.message, i)));
        const reported = await storing('queue the message', values, () => Promise.reject(error)).catch((e: unknown) => e);
        for (const w of group) w.reject(reported);
        return;
      }
      // The server refused the statement, so none of it was stored: each message alone,
      // so one message's fault is its own caller's error and the others are stored.
      await Promise.all(group.map((w) => enqueue(this.db, w.item.message, w.item).then(w.resolve, w.reject)));
      return;
    }
    this.settle(group, rows);
  }

  /** Hands each caller its row; a key that inserted nothing was queued before, and `enqueue` finds it. */
  private settle(group: Waiting[], rows: Returned[]): void {
    const byKey = new Map<string, Enqueued>();
    const byMessageId = new Map<string, Enqueued[]>(); // unkeyed: the same message may be queued twice
    for (const row of rows) {
      const queued: Enqueued = { id: Number(row.id), state: 'queued', messageId: row.message_id, duplicate: false };
      if (row.idempotency_key !== null) byKey.set(row.idempotency_key, queued);
      else byMessageId.set(row.message_id, [...(byMessageId.get(row.message_id) ?? []), queued]);
    }
    const seen = new Set<string>();
    for (const w of group) {
      const key = w.item.idempotencyKey;
      const queued = key == null ? byMessageId.get(w.item.message.messageId)?.shift() : byKey.get(key);
      const first = key == null || !seen.has(key);
      if (key != null) seen.add(key);
      if (queued) w.resolve(first ? queued : { ...queued, duplicate: true });
      else enqueue(this.db, w.item.message, w.item).then(w.resolve, w.reject);
    }
  }
}

/** An SQLSTATE outside class 08 (connection exception) and 57P (shutdown): the server answered that the statement failed. */
function refusedByServer(error: unknown): boolean {
  for (let e = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return !code.startsWith('08') && !code.startsWith('57P');
  }
  return false;
}

const groups = new WeakMap<Db, CommitGroup>();

/**
 * `enqueue`, sharing its commit with the sends in flight beside it on the same database
 * (the queue transport's `sendMail`). Each resolves once the commit holding it is done;
 * a message the database refuses rejects alone. Not grouped: a `now` send (inserted
 * claimed) and a call inside the app's own transaction, which commits when the app says.
 */
export function enqueueGrouped(db: Db, message: ComposedMessage, options: EnqueueOptions = {}): Promise<Enqueued> {
  if (options.claimFor || isTransaction(db)) return enqueue(db, message, options);
  try {
    validateSendOptions(options); // a bad option fails its own call, before it joins a group
  } catch (error) {
    return Promise.reject(error);
  }
  let group = groups.get(db);
  if (!group) groups.set(db, (group = new CommitGroup(db)));
  return group.add({ message, idempotencyKey: options.idempotencyKey, sendAt: options.sendAt, view: options.view });
}

/** Drizzle's transactions (every driver's) have `rollback()`; its databases do not. */
const isTransaction = (db: Db) => typeof (db as { rollback?: unknown }).rollback === 'function';
