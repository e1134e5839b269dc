import { getTableName, gt, inArray, sql } from 'drizzle-orm';
import { rowsOf } from './database.js';
import type { Db } from './database.js';
import { domains, LIVE_STATE, messages, MESSAGE_STATES, type MessageState } from './schema.js';
import { stateSql, WAITING_STATES } from './states.js';

export interface QueueStatus {
  counts: Record<MessageState, number>;
  /** States whose count is the planner's estimate (`sent`, on a table above EXACT_COUNT_ROWS rows). */
  estimated: MessageState[];
  /** Seconds since the oldest message still waiting (queued or deferred) was created; null if none. */
  oldestQueuedSeconds: number | null;
}

/**
 * Above this many rows (the planner's estimate) `sent` is estimated instead of counted:
 * counting it reads the whole table (0.7 s at a million rows), while every other state
 * is counted exactly through an index, however long the history.
 */
export const EXACT_COUNT_ROWS = 200_000;

/** The planner's row count for the messages table (-1 before its first ANALYZE). */
async function estimatedRows(db: Db): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(await db.execute(sql`select reltuples::float8 as n from pg_class where oid = to_regclass(${getTableName(messages)})`));
  return Number(row?.n ?? -1);
}

/** Messages in each state, every state present (0 when none), and which counts are estimates. */
export async function countStates(db: Db, exactUpTo = EXACT_COUNT_ROWS): Promise<{ counts: Record<MessageState, number>; estimated: MessageState[] }> {
  const counts = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<MessageState, number>;
  const total = await estimatedRows(db);
  const large = total > exactUpTo;
  const rows = await db
    .select({ state: messages.state, count: sql<number>`count(*)::int` })
    .from(messages)
    .where(large ? inArray(messages.state, UNFINISHED_OR_FAILED) : undefined)
    .groupBy(messages.state);
  for (const row of rows) counts[row.state] = Number(row.count);
  if (!large) return { counts, estimated: [] };
  counts.sent = Math.max(0, Math.round(total) - rows.reduce((sum, r) => sum + Number(r.count), 0));
  return { counts, estimated: ['sent'] };
}

/** Every state but `sent`: few rows however old the queue, each found through the state index. */
const UNFINISHED_OR_FAILED = MESSAGE_STATES.filter((s) => s !== 'sent');

/** Messages in each state, every state present (0 when none); `sent` estimated on a large table (see EXACT_COUNT_ROWS). */
export async function stateCounts(db: Db): Promise<Record<MessageState, number>> {
  return (await countStates(db)).counts;
}

export async function queueStatus(db: Db): Promise<QueueStatus> {
  const { counts, estimated } = await countStates(db);
  const [oldest] = await db
    .select({ age: sql<number | null>`extract(epoch from now() - min(${messages.createdAt}))::float8` })
    .from(messages)
    .where(inArray(messages.state, WAITING_STATES));
  const age = oldest?.age;
  return { counts, estimated, oldestQueuedSeconds: age === null || age === undefined ? null : Math.round(Number(age)) };
}

/** Milliseconds until the next message becomes due (or a lease ends); null if none is waiting. */
export async function nextDueInMs(db: Db): Promise<number | null> {
  const [row] = await db
    .select({
      ms: sql<number | null>`extract(epoch from least(
        min(${messages.nextAttemptAt}) filter (where ${inArray(messages.state, WAITING_STATES)}),
        min(${messages.leaseExpiresAt}) filter (where ${messages.state} = ${stateSql('sending')})
      ) - now())::float8 * 1000`,
    })
    .from(messages)
    .where(LIVE_STATE);
  const ms = row?.ms;
  return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
}

/** A recipient domain the per-domain throttles are backing off now (after a 421/450/451 from it). */
export interface BackedOffDomain {
  domain: string;
  until: Date;
  /** How many back-offs in a row: the delay doubles with each. */
  step: number;
}

/** The domains backed off now, soonest back first (at most `limit`), and how many there are in all. */
export async function backedOffDomains(db: Db, limit = 20): Promise<{ domains: BackedOffDomain[]; total: number }> {
  const now = gt(domains.backoffUntil, sql`now()`);
  const rows = await db
    .select({ domain: domains.domain, until: domains.backoffUntil, step: domains.backoffStep })
    .from(domains)
    .where(now)
    .orderBy(domains.backoffUntil, domains.domain)
    .limit(limit);
  const total = rows.length < limit ? rows.length : await db.$count(domains, now);
  return { domains: rows.map((r) => ({ domain: r.domain, until: r.until!, step: r.step })), total };
}
