import { inArray, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { LIVE_STATE, messages, MESSAGE_STATES, type MessageState } from './schema.js';
import { stateSql, WAITING_STATES } from './states.js';

export interface QueueStatus {
  counts: Record<MessageState, number>;
  /** Seconds since the oldest message still waiting (queued or deferred) was created; null if none. */
  oldestQueuedSeconds: number | null;
}

/** Messages in each state, every state present (0 when none). */
export async function stateCounts(db: Db): Promise<Record<MessageState, number>> {
  const rows = await db
    .select({ state: messages.state, count: sql<number>`count(*)::int` })
    .from(messages)
    .groupBy(messages.state);
  const counts = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<MessageState, number>;
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
}

export async function queueStatus(db: Db): Promise<QueueStatus> {
  const counts = await stateCounts(db);
  const [oldest] = await db
    .select({ age: sql<number | null>`extract(epoch from now() - min(${messages.createdAt}))::float8` })
    .from(messages)
    .where(inArray(messages.state, WAITING_STATES));
  const age = oldest?.age;
  return { counts, oldestQueuedSeconds: age === null || age === undefined ? null : Math.round(Number(age)) };
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
