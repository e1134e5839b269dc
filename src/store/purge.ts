import { and, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { attempts, domains, FINISHED_STATE, messages } from './schema.js';
import { stateSql } from './states.js';

export interface PurgeOptions {
  olderThanSeconds: number;
  /** Also purge failed messages (by their last update). */
  failed?: boolean;
  batchSize?: number;
}

/**
 * Deletes finished messages (and their attempt rows) and old attempt rows, in small
 * batches with SKIP LOCKED so drains and enqueues are never blocked behind it.
 */
export async function purge(db: Db, options: PurgeOptions): Promise<{ messages: number; attempts: number }> {
  const batchSize = options.batchSize ?? 1000;
  // Literal states (not parameters), within the finished index's own predicate, so the planner can use it.
  const states = options.failed ? FINISHED_STATE : sql`${messages.state} = ${stateSql('sent')}`;
  const cutoff = sql`now() - make_interval(secs => ${options.olderThanSeconds})`;
  const totals = { messages: 0, attempts: 0 };
  for (;;) {
    const batch = db
      .select({ id: messages.id })
      .from(messages)
      .where(and(states, lt(messages.updatedAt, cutoff)))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    const deleted = await db.delete(messages).where(inArray(messages.id, batch)).returning({ id: messages.id });
    totals.messages += deleted.length;
    if (deleted.length < batchSize) break;
  }
  for (;;) {
    const batch = db.select({ id: attempts.id }).from(attempts).where(lt(attempts.finishedAt, cutoff)).limit(batchSize);
    const deleted = await db.delete(attempts).where(inArray(attempts.id, batch)).returning({ id: attempts.id });
    totals.attempts += deleted.length;
    if (deleted.length < batchSize) break;
  }
  // Per-domain throttle state nobody has touched since the cutoff: no slot ahead, no back-off
  // running (one row per recipient domain ever throttled, so a few thousand at most).
  await db
    .delete(domains)
    .where(and(lt(domains.updatedAt, cutoff), sql`coalesce(${domains.nextAt}, '-infinity') < now()`, sql`coalesce(${domains.backoffUntil}, '-infinity') < now()`));
  return totals;
}
