import { and, inArray, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { messages, type MessageState } from './schema.js';
import { notifyQueue } from './notify.js';
import { stateSql } from './states.js';

/**
 * Makes deferred (and optionally failed) messages due now. Failed ones get a fresh
 * attempt budget; recipients that already accepted are still never resent. A running
 * worker is woken: their old due time may be hours away.
 */
export async function retryMessages(db: Db, options: { failed?: boolean; ids?: number[] } = {}): Promise<number> {
  const states: MessageState[] = options.failed ? ['deferred', 'failed'] : ['deferred'];
  const rows = await db
    .update(messages)
    .set({
      state: sql`case when ${messages.state} = ${stateSql('failed')} then ${stateSql('queued')} else ${messages.state} end`,
      attempts: sql`case when ${messages.state} = ${stateSql('failed')} then 0 else ${messages.attempts} end`,
      recipientStatus: sql`(select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) from jsonb_each(${messages.recipientStatus}) as e(k, v) where v->>'state' = 'sent')`,
      nextAttemptAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(inArray(messages.state, states), options.ids ? inArray(messages.id, options.ids) : undefined))
    .returning({ id: messages.id });
  if (rows.length) await notifyQueue(db);
  return rows.length;
}
