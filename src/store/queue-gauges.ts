import { sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { LIVE_STATE, messages } from './schema.js';
import { stateCounts } from './status.js';
import type { MessageState } from './schema.js';

/** What a scrape reports about the queue itself, whichever process asks. */
export interface QueueGauges {
  counts: Record<MessageState, number>;
  /** Seconds the most overdue waiting message has been due (0 when none is due): how far the drains lag. */
  oldestDueSeconds: number;
  /** Seconds since the oldest waiting (queued or deferred) message was created; 0 when none. */
  oldestWaitingSeconds: number;
  /** Messages still `sending` whose lease ran out: their drain died or stalled; another takes them back. */
  expiredLeases: number;
}

/** Two queries on the live messages (the partial index), whatever the size of the sent history. */
export async function queueGauges(db: Db): Promise<QueueGauges> {
  const counts = await stateCounts(db);
  const [row] = await db
    .select({
      due: sql<number | null>`extract(epoch from now() - min(${messages.nextAttemptAt}) filter (where ${messages.state} in ('queued', 'deferred') and ${messages.nextAttemptAt} <= now()))::float8`,
      waiting: sql<number | null>`extract(epoch from now() - min(${messages.createdAt}) filter (where ${messages.state} in ('queued', 'deferred')))::float8`,
      expired: sql<number>`(count(*) filter (where ${messages.state} = 'sending' and ${messages.leaseExpiresAt} < now()))::int`,
    })
    .from(messages)
    .where(LIVE_STATE);
  const seconds = (value: number | null | undefined) => (value === null || value === undefined ? 0 : Math.max(0, Number(value)));
  return { counts, oldestDueSeconds: seconds(row?.due), oldestWaitingSeconds: seconds(row?.waiting), expiredLeases: Number(row?.expired ?? 0) };
}
