import { and, eq, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { SubqueryWithSelection } from 'drizzle-orm/pg-core';
import type { Db } from '../store/database.js';
import { LIVE_STATE, messages } from '../store/schema.js';
import { leaseUntil } from '../store/clock.js';
import { stateSql, WAITING_STATES } from '../store/states.js';
import { InvariantError } from '../errors.js';
import { retryConflicts } from './guard.js';
import { countLeaseExpiries } from '../store/lease-expiries.js';

/** A message as a claim returns it: what sending it and recording its outcome need. */
export type ClaimedMessage = Pick<
  typeof messages.$inferSelect,
  'id' | 'messageId' | 'envelopeFrom' | 'recipients' | 'recipientStatus' | 'attempts' | 'priority' | 'subject' | 'topic'
> & {
  /** The stored bytes, or null for a large message: read with `loadRaw` when its turn comes. */
  raw: Buffer | null;
};

/**
 * Messages up to this size come with the claim; larger ones are read one at a
 * time as they are sent, so a batch of big attachments never sits in memory whole.
 */
const INLINE_RAW_BYTES = 128 * 1024;

/** The columns a drain needs to send a message. */
export const claimedColumns = {
  id: messages.id,
  messageId: messages.messageId,
  envelopeFrom: messages.envelopeFrom,
  recipients: messages.recipients,
  recipientStatus: messages.recipientStatus,
  raw: sql<Buffer | null>`case when ${messages.size} <= ${sql.raw(String(INLINE_RAW_BYTES))} then ${messages.raw} end`.mapWith(messages.raw),
  attempts: messages.attempts,
  priority: messages.priority,
  subject: messages.subject,
  topic: messages.topic,
};

/** What a claim writes: the message is `sending`, leased to `owner`, one attempt more. */
export function claimedBy(owner: string, leaseSeconds: number) {
  return {
    state: 'sending' as const,
    leaseOwner: owner,
    leaseExpiresAt: leaseUntil(leaseSeconds),
    attempts: sql`${messages.attempts} + 1`,
    updatedAt: sql`now()`,
  };
}

/**
 * What the drain's claim writes: `claimedBy`, except for a message that already had
 * `maxAttempts`, which is failed instead of sent again. Attempts are counted when a
 * message is claimed, not when its outcome is written, so this bounds every path:
 * a drain killed mid-send, or an outcome the database refused, can resend a message
 * at most `maxAttempts` times in all.
 */
export function claimedOrSpent(owner: string, leaseSeconds: number, maxAttempts: number) {
  const spent = sql`${messages.attempts} >= ${maxAttempts}`;
  const unlessSpent = (claimed: SQL, spentValue: SQL) => sql`case when ${spent} then ${spentValue} else ${claimed} end`;
  const claimed = claimedBy(owner, leaseSeconds);
  return {
    state: unlessSpent(stateSql('sending'), stateSql('failed')),
    leaseOwner: unlessSpent(sql`${owner}`, sql`null`),
    leaseExpiresAt: unlessSpent(claimed.leaseExpiresAt, sql`null`),
    attempts: unlessSpent(claimed.attempts, sql`${messages.attempts}`),
    lastError: unlessSpent(
      sql`${messages.lastError}`,
      sql`'gave up after ' || ${messages.attempts} || ' attempts (the last one''s outcome was never recorded)'`,
    ),
    updatedAt: claimed.updatedAt,
  };
}

/** What one claim query took. */
export interface Claimed {
  /** Messages to send now. */
  messages: ClaimedMessage[];
  /** Messages that were due but had no attempt left: failed without being sent. */
  spent: number;
  /** Of all those, messages taken back from `sending` after another drain's lease ran out (counted in store/lease-expiries.ts). */
  takenOver: number;
}

/** Due now: waiting and its time has come, or `sending` with its lease run out (its drain died). */
export const dueNow = or(
  and(inArray(messages.state, [...WAITING_STATES]), lte(messages.nextAttemptAt, sql`now()`)),
  and(eq(messages.state, 'sending'), lt(messages.leaseExpiresAt, sql`now()`)),
);

/**
 * Claims up to `limit` due messages for `owner`: queued or deferred ones whose
 * time has come, and `sending` ones whose lease ran out (their drain died).
 *
 * Safe under any number of concurrent drains: the inner SELECT takes row locks
 * with FOR UPDATE SKIP LOCKED, so two drains never pick the same row and neither
 * waits for the other; the UPDATE then stamps the lease in the same statement.
 * Order: priority (now, high, normal, low), then oldest first.
 */
export async function claim(db: Db, owner: string, limit: number, leaseSeconds: number, maxAttempts = Infinity): Promise<Claimed> {
  const due = db
    .select({ id: sql<number>`${messages.id}`.as('due_id'), was: sql<string>`${messages.state}`.as('due_was') })
    .from(messages)
    .where(
      and(
        // The partial index's predicate, so the planner can use it (ordered, no sort).
        LIVE_STATE,
        dueNow,
      ),
    )
    .orderBy(messages.priority, messages.id)
    .limit(limit)
    .for('update', { skipLocked: true })
    .as('due');
  return claimRows(db, due, owner, leaseSeconds, maxAttempts);
}

/** The due rows a claim locked, each with its state before the claim (`was`), as a subquery to join. */
export type DueRows = SubqueryWithSelection<{ id: SQL.Aliased<number>; was: SQL.Aliased<string> }, 'due'>;

/**
 * The claim's one write, shared by every way of choosing due rows (here and the per-domain
 * throttle): lease them to `owner` (or fail those with no attempt left), and count the leases
 * taken back. The UPDATE joins the locked rows (FROM) rather than testing `id IN (...)` so that
 * RETURNING sees each row's state before the claim: a `sending` one was another drain's whose
 * lease ran out, counted as a lease expiry.
 */
export async function claimRows(db: Db, due: DueRows, owner: string, leaseSeconds: number, maxAttempts: number): Promise<Claimed> {
  const set = Number.isFinite(maxAttempts) ? claimedOrSpent(owner, leaseSeconds, maxAttempts) : claimedBy(owner, leaseSeconds);
  const rows = await retryConflicts(() =>
    db
      .update(messages)
      .set(set)
      .from(due)
      .where(eq(messages.id, due.id))
      .returning({ ...claimedColumns, state: messages.state, was: due.was }),
  );
  const sending = rows.filter((r) => r.state === 'sending').map(({ state: _, was: __, ...message }) => message);
  const takenOver = await countTakeovers(db, rows);
  return { messages: sending.sort((a, b) => a.priority - b.priority || a.id - b.id), spent: rows.length - sending.length, takenOver };
}

/**
 * How many claimed rows were `sending` before the claim (another drain's lease ran out),
 * added to the stored total. Rare (a drain died or stalled): a second statement then, none
 * on a healthy queue. Best effort: a count lost is better than a claimed batch thrown away.
 */
async function countTakeovers(db: Db, rows: { was: string }[]): Promise<number> {
  const takenOver = rows.filter((r) => r.was === 'sending').length;
  if (takenOver > 0) await retryConflicts(() => countLeaseExpiries(db, takenOver)).catch(() => {});
  return takenOver;
}

/** Gives back claimed messages that were never tried (shutdown, time limit), as they were. */
export async function release(db: Db, owner: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await retryConflicts(() =>
    db
      .update(messages)
      .set({
        state: sql`case when ${messages.attempts} > 1 then ${stateSql('deferred')} else ${stateSql('queued')} end`,
        attempts: sql`${messages.attempts} - 1`,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(inArray(messages.id, lockedInOrder(db, owner, ids)), eq(messages.leaseOwner, owner), eq(messages.state, 'sending'))),
  );
}

/**
 * The ids among `ids` this owner still holds, row-locked in id order. A drain's own
 * statements overlap on its claims: a lease renewal (every third of the lease, over
 * all of them) runs on one connection while an outcome write runs on another. An
 * UPDATE ... WHERE id IN (...) locks rows in whatever order its plan meets them; two
 * such statements meeting shared rows in different orders deadlocked under load
 * (40P01, the run ended). Taking every multi-row lock in id order first (here, and
 * in the outcome write) makes one wait for the other instead. ORDER BY is applied
 * before FOR UPDATE, so the locks are taken in that order.
 */
export function lockedInOrder(db: Db, owner: string, ids: number[]) {
  return db
    .select({ id: messages.id })
    .from(messages)
    .where(and(inArray(messages.id, ids), eq(messages.leaseOwner, owner), eq(messages.state, 'sending')))
    .orderBy(messages.id)
    .for('update');
}

/**
 * Extends the lease on claimed messages this drain still holds, so a batch that
 * takes longer than one lease is not taken back by another drain half-way.
 * Returns the ids still ours: one missing was taken by another drain after our
 * lease ran out (we stalled), and must not be sent by us any more.
 */
export async function renew(db: Db, owner: string, ids: number[], leaseSeconds: number): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await retryConflicts(() =>
    db
      .update(messages)
      .set({ leaseExpiresAt: leaseUntil(leaseSeconds) })
      .where(and(inArray(messages.id, lockedInOrder(db, owner, ids)), eq(messages.leaseOwner, owner), eq(messages.state, 'sending')))
      .returning({ id: messages.id }),
  );
  return rows.map((r) => r.id);
}

/** The stored bytes of a message this owner holds (large messages are not claimed with them). */
export async function loadRaw(db: Db, id: number): Promise<Buffer> {
  const [row] = await db.select({ raw: messages.raw }).from(messages).where(eq(messages.id, id));
  if (!row) throw new InvariantError(`message ${id} vanished while claimed`);
  return row.raw;
}
