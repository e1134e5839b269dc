import { and, eq, inArray } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { messages, type MessageState } from '../store/schema.js';
import { suppressedAmong } from '../store/suppressions.js';
import { WAITING_STATES } from '../store/states.js';
import { enqueue, type Enqueued, type EnqueueOptions } from '../store/enqueue.js';
import type { ComposedMessage } from '../transport/compose.js';
import { claimedBy, claimedColumns, type ClaimedMessage } from './claim.js';
import { NOW_LEASE_SECONDS, NOW_TIMEOUT_MS } from './now-transport.js';
import { attemptMessage } from './attempt.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { Delivery } from './deliver.js';
import { planOutcome, type PlannedOutcome } from './outcome.js';
import { recordSafely } from './record.js';
import { DRAIN_DEFAULTS } from './defaults.js';
import { newOwner } from './owner.js';

// "Send one message now", outside a drain, in one place: the `now` priority (a new
// message, stored already claimed) and the preview's "send now" (a waiting message,
// claimed here). Both then take the drain's steps for one message: blocklist, SMTP,
// outcome and attempt row written, a temporary failure backed off or requeued.

/** The state a message sent now was left in: `sending` while its outcome is not written (yet). */
export type SentNowState = PlannedOutcome['state'] | 'sending';

/**
 * One claimed message sent on its own: blocklist, delivery, and its outcome written.
 *
 * Once SMTP has answered, it resolves whatever the outcome write does: the mail went
 * out (or did not) either way, and the caller must not be told otherwise. An outcome
 * that could not be written leaves the message `sending` under its lease; a drain
 * takes it back after that, within the attempt budget.
 */
async function sendClaimed(
  db: Db,
  smtp: Transporter,
  message: ClaimedMessage & { raw: Buffer },
  owner: string,
  requeueAsHigh: boolean,
): Promise<{ delivery: Delivery; state: SentNowState }> {
  const startedAt = new Date();
  const delivery = await attemptMessage(smtp, message, await suppressedAmong(db, message.recipients), { maxAttempts: DEFAULT_BACKOFF.maxAttempts });
  const planned = planOutcome({ message, delivery, startedAt }, { owner, backoff: DEFAULT_BACKOFF, requeueAsHigh });
  const recorded = await recordSafely(db, owner, [planned]).then(
    ({ unrecorded }) => unrecorded.length === 0,
    () => false,
  );
  return { delivery, state: recorded ? planned.state : 'sending' };
}

/** What `queueAndSendNow` did: the stored row, and the attempt's delivery unless it outlasted the bound. */
export interface SentNow {
  queued: Enqueued;
  delivery: Delivery | undefined;
  state: MessageState;
}

/**
 * The `now` priority: stores the message already claimed (so no drain takes it
 * meanwhile) and tries it at once, resolving within about `timeoutMs`. A temporary
 * failure, a timeout included, leaves it queued as high. A server that keeps the
 * attempt alive past that (replying a byte at a time) no longer holds the caller: the
 * attempt finishes in the background and records its outcome; until then its lease
 * keeps drains off it. A duplicate idempotency key is not sent again.
 */
export async function queueAndSendNow(
  db: Db,
  message: ComposedMessage,
  options: Pick<EnqueueOptions, 'idempotencyKey' | 'sendAt'>,
  smtp: Transporter,
  timeoutMs = NOW_TIMEOUT_MS,
): Promise<SentNow> {
  const owner = newOwner('now');
  const queued = await enqueue(db, message, { ...options, claimFor: { owner, leaseSeconds: NOW_LEASE_SECONDS } });
  if (queued.duplicate) return { queued, delivery: undefined, state: queued.state };
  // The row as the claim would have returned it: one attempt, nothing sent yet.
  const claimed = {
    id: queued.id,
    messageId: message.messageId,
    envelopeFrom: message.envelope.from,
    recipients: message.envelope.to,
    recipientStatus: {},
    attempts: 1,
    priority: 0,
    subject: message.subject,
    topic: message.topic,
    raw: message.raw,
  };
  const attempt = sendClaimed(db, smtp, claimed, owner, true);
  let timer: NodeJS.Timeout | undefined;
  // A little past the SMTP timeouts, so a plain stall ends in its recorded outcome, not here.
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs + 1000);
  });
  try {
    const done = await Promise.race([attempt, late]);
    return done ? { queued, ...done } : { queued, delivery: undefined, state: 'sending' };
  } finally {
    clearTimeout(timer);
    attempt.catch(() => {}); // past the deadline its outcome is the queue's business
  }
}

/** The states from which a stored message may be sent now: waiting, not held by a drain, not done. */
export const SENDABLE_NOW = WAITING_STATES;

/**
 * The preview's "send now": sends one waiting message at once, as a drain would.
 * Returns null when the message was not waiting (sent, failed, or a drain holds it).
 *
 * Safe against a drain running at the same time: the claim is one UPDATE whose WHERE
 * requires a waiting state. If a drain holds the row, the UPDATE waits for it and then
 * re-checks the WHERE against the drain's committed `sending` row, so it claims
 * nothing; if we claim first, the drain's SKIP LOCKED/`state` test passes it over.
 */
export async function sendStoredNow(db: Db, id: number, smtp: Transporter): Promise<Delivery | null> {
  const owner = newOwner('preview');
  const [message] = await db
    .update(messages)
    .set(claimedBy(owner, DRAIN_DEFAULTS.leaseSeconds))
    .where(and(eq(messages.id, id), inArray(messages.state, [...SENDABLE_NOW])))
    .returning({ ...claimedColumns, raw: messages.raw }); // one message: its bytes whatever its size
  if (!message) return null;
  return (await sendClaimed(db, smtp, message, owner, false)).delivery;
}
