import { eq, sql } from 'drizzle-orm';
import { messages, type MessageState } from './schema.js';
import type { Db } from './database.js';
import { dueAt, leaseUntil } from './clock.js';
import type { ComposedMessage } from '../transport/compose.js';
import { priorityRank } from './priority-rank.js';
import { validateSendOptions } from '../transport/validate.js';
import { storing } from './query-errors.js';
import { InvariantError } from '../errors.js';

export interface EnqueueOptions {
  idempotencyKey?: string | undefined;
  sendAt?: Date | undefined;
  /** The mail view's name (MailView.viewName), for the outbox and mailroom/testing. */
  view?: string | undefined;
  /** For `now`: the row is inserted already claimed by this owner, so no drain takes it meanwhile. */
  claimFor?: { owner: string; leaseSeconds: number } | undefined;
}

/** A stored message: what enqueueing resolves with. */
export interface Enqueued {
  /** The row's id in `messages` (mailroom/schema). */
  id: number;
  /** Its state: `queued` for a new message (after a `now` attempt, its outcome), the stored row's for a duplicate. */
  state: MessageState;
  /** True when the idempotency key was already queued: nothing new was stored. */
  duplicate: boolean;
  /** The Message-ID header it goes out with (every retry keeps it). */
  messageId: string;
}

const p = sql.placeholder;

/** What every stored message's row takes from its composed form and per-send options. */
export function storedColumns(message: ComposedMessage, options: Pick<EnqueueOptions, 'idempotencyKey' | 'sendAt' | 'view'>) {
  return {
    messageId: message.messageId,
    idempotencyKey: options.idempotencyKey ?? null,
    priority: priorityRank(message.priority),
    subject: message.subject,
    from: message.from,
    envelopeFrom: message.envelope.from,
    recipients: message.envelope.to,
    raw: message.raw,
    size: message.raw.length,
    sendAt: options.sendAt?.toISOString() ?? null,
    view: options.view ?? null,
    topic: message.topic ?? null,
  };
}

/**
 * The INSERT, built once per database and run as a prepared statement: building it
 * with Drizzle on every send cost a fifth of what the queue adds to a send (bench
 * figure 2). Unset options fall back in SQL, with the database's clock, not the app's.
 */
function prepareInsert(db: Db) {
  return db
    .insert(messages)
    .values({
      messageId: p('messageId'),
      idempotencyKey: p('idempotencyKey'),
      state: p('state'),
      priority: p('priority'),
      subject: p('subject'),
      fromAddress: p('from'),
      envelopeFrom: p('envelopeFrom'),
      recipients: p('recipients'),
      raw: p('raw'),
      size: p('size'),
      attempts: p('attempts'),
      leaseOwner: p('leaseOwner'),
      leaseExpiresAt: leaseUntil(p('leaseSeconds')),
      sendAt: dueAt(p('sendAt')),
      nextAttemptAt: dueAt(p('sendAt')),
      view: p('view'),
      topic: p('topic'),
    })
    .onConflictDoNothing({ target: messages.idempotencyKey })
    .returning({ id: messages.id, state: messages.state, messageId: messages.messageId })
    .prepare('mailroom_enqueue');
}

const prepared = new WeakMap<Db, ReturnType<typeof prepareInsert>>();

/**
 * Stores one composed message. Works on a database or inside the app's own transaction.
 * A database error comes back as a DatabaseError without the message in it (query-errors.ts).
 */
export async function enqueue(db: Db, message: ComposedMessage, options: EnqueueOptions = {}): Promise<Enqueued> {
  validateSendOptions(options);
  return storing('queue the message', () => [Object.values(storedColumns(message, options))], async () => {
    const claim = options.claimFor;
    let insert = prepared.get(db);
    if (!insert) prepared.set(db, (insert = prepareInsert(db)));
    const inserted = await insert.execute({
      ...storedColumns(message, options),
      state: claim ? 'sending' : 'queued',
      attempts: claim ? 1 : 0,
      leaseOwner: claim?.owner ?? null,
      leaseSeconds: claim?.leaseSeconds ?? null, // no lease
    });
    if (inserted[0]) return { ...inserted[0], duplicate: false };
    const [existing] = await db
      .select({ id: messages.id, state: messages.state, messageId: messages.messageId })
      .from(messages)
      .where(eq(messages.idempotencyKey, options.idempotencyKey ?? ''));
    if (!existing) throw new InvariantError('idempotency conflict without an existing row');
    return { ...existing, duplicate: true };
  });
}
