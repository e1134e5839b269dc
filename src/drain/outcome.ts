import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { attempts, messages, type RecipientStatus } from '../store/schema.js';
import type { ClaimedMessage } from './claim.js';
import type { Delivery, Outcome } from './deliver.js';
import { backoffSeconds, type BackoffOptions } from './backoff.js';
import { priorityRank } from '../views/priority.js';

/** Recipients still to be tried: not yet accepted and not permanently refused. */
export function pendingRecipients(message: Pick<ClaimedMessage, 'recipients' | 'recipientStatus'>): string[] {
  return message.recipients.filter((r) => {
    const state = message.recipientStatus[r]?.state;
    return state !== 'sent' && state !== 'failed';
  });
}

export interface OutcomeContext {
  owner: string;
  startedAt: Date;
  backoff: BackoffOptions;
  /** `now` messages: a temporary failure goes back to the queue as high priority, due at once. */
  requeueAsHigh?: boolean;
}

/**
 * Writes an attempt's result: the message's new state and the attempt's log row,
 * in one statement (a data-modifying CTE), so both land or neither, without a
 * transaction: postgres.js 3.4 crashes the process when a connection drops inside
 * `begin()` (porsager/postgres#1208). Guarded by the lease: if it expired and
 * another drain took the message, only the log row is written (returns false).
 */
export async function recordOutcome(db: Db, message: ClaimedMessage, delivery: Delivery, ctx: OutcomeContext): Promise<boolean> {
  const status: RecipientStatus = { ...message.recipientStatus, ...delivery.status };
  let outcome: Outcome = delivery.outcome;
  let lastError: string | null = outcome === 'sent' ? null : delivery.reply;
  if (outcome === 'deferred' && !ctx.requeueAsHigh && message.attempts >= ctx.backoff.maxAttempts) {
    outcome = 'failed';
    lastError = `gave up after ${message.attempts} attempts; last reply: ${delivery.reply}`;
    for (const r of delivery.recipients) if (status[r]?.state === 'deferred') status[r] = { state: 'failed', reply: lastError };
  }
  const refused = message.recipients.filter((r) => status[r]?.state === 'failed');
  if (outcome === 'sent' && refused.length) lastError = `refused: ${refused.map((r) => `${r} (${status[r]?.reply})`).join('; ')}`;

  const update: Record<string, unknown> = {
    state: outcome,
    recipientStatus: status,
    lastError,
    leaseOwner: null,
    leaseExpiresAt: null,
    updatedAt: sql`now()`,
  };
  if (outcome === 'sent') update.sentAt = sql`now()`;
  if (outcome === 'deferred') {
    if (ctx.requeueAsHigh) {
      update.state = 'queued';
      update.priority = priorityRank('high');
      update.nextAttemptAt = sql`now()`;
    } else {
      update.nextAttemptAt = sql`now() + make_interval(secs => ${backoffSeconds(message.attempts, ctx.backoff)})`;
    }
  }
  const updated = db.$with('updated').as(
    db
      .update(messages)
      .set(update)
      .where(and(eq(messages.id, message.id), eq(messages.leaseOwner, ctx.owner)))
      .returning({ id: messages.id }),
  );
  const [row] = await db
    .with(updated)
    .insert(attempts)
    .values({
      messageId: message.id,
      attempt: message.attempts,
      outcome,
      smtpCode: delivery.code,
      reply: delivery.reply,
      recipients: delivery.recipients,
      worker: ctx.owner,
      startedAt: ctx.startedAt,
    })
    .returning({ updated: sql<boolean>`exists (select 1 from ${updated})` });
  return row?.updated === true;
}
