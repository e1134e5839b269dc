import { eq, sql } from 'drizzle-orm';
import { messages, type MessageState } from './schema.js';
import type { Db } from './database.js';
import type { ComposedMessage } from '../transport/compose.js';
import { priorityRank } from '../views/priority.js';

export interface EnqueueOptions {
  idempotencyKey?: string | undefined;
  sendAt?: Date | undefined;
  /** For `now`: the row is inserted already claimed by this owner, so no drain takes it meanwhile. */
  claimFor?: { owner: string; leaseSeconds: number } | undefined;
}

export interface Enqueued {
  id: number;
  state: MessageState;
  /** True when the idempotency key was already queued: nothing new was stored. */
  duplicate: boolean;
  messageId: string;
}

/** Stores one composed message. Works on a database or inside the app's own transaction. */
export async function enqueue(db: Db, message: ComposedMessage, options: EnqueueOptions = {}): Promise<Enqueued> {
  const claim = options.claimFor;
  const values = {
    messageId: message.messageId,
    idempotencyKey: options.idempotencyKey ?? null,
    state: claim ? ('sending' as const) : ('queued' as const),
    priority: priorityRank(message.priority),
    subject: message.subject,
    fromAddress: message.from,
    envelopeFrom: message.envelope.from,
    recipients: message.envelope.to,
    raw: message.raw,
    size: message.raw.length,
    attempts: claim ? 1 : 0,
    leaseOwner: claim?.owner ?? null,
    leaseExpiresAt: claim ? sql`now() + make_interval(secs => ${claim.leaseSeconds})` : null,
    ...(options.sendAt ? { sendAt: options.sendAt, nextAttemptAt: options.sendAt } : {}),
  };
  const inserted = await db
    .insert(messages)
    .values(values as typeof messages.$inferInsert)
    .onConflictDoNothing({ target: messages.idempotencyKey })
    .returning({ id: messages.id, state: messages.state, messageId: messages.messageId });
  if (inserted[0]) return { ...inserted[0], duplicate: false };
  const [existing] = await db
    .select({ id: messages.id, state: messages.state, messageId: messages.messageId })
    .from(messages)
    .where(eq(messages.idempotencyKey, options.idempotencyKey ?? ''));
  if (!existing) throw new Error('idempotency conflict without an existing row');
  return { ...existing, duplicate: true };
}
