import type { Transporter } from 'nodemailer';
import { isBlock, suppressionFor, suppressionReply, type SuppressedAmong } from '../store/suppressions.js';
import type { ClaimedMessage } from './claim.js';
import { deliver, type Delivery } from './deliver.js';
import { pendingRecipients } from './outcome.js';
import { cleanText } from './reply.js';
import { splitTraceparent } from '../tracing/traceparent.js';
import { traceAttempt } from '../tracing/spans.js';

/** A message to attempt: what a claim returns, its bytes loaded. */
export type AttemptedMessage = Pick<ClaimedMessage, 'messageId' | 'envelopeFrom' | 'recipients' | 'recipientStatus'> &
  Partial<Pick<ClaimedMessage, 'id' | 'attempts'>> & { raw: Buffer; topic?: string | null };

export interface AttemptOptions {
  /** The message is completed (its final dot sent) only once this settles. */
  endAfter?: Promise<unknown> | undefined;
  /** The drain's attempt budget: a deferral on the last attempt is a failure (for the trace). */
  maxAttempts?: number | undefined;
}

/**
 * One delivery attempt of a claimed message: its pending recipients minus the
 * suppressed ones (for everything, or for the message's topic: failed with the
 * suppression's reason) go to SMTP. The drain and "send now" (send-now.ts) both go
 * through here. A traceparent line kept with the message (tracing/traceparent.ts) is
 * taken off before sending, and links the attempt's span when the app has a tracer.
 */
export function attemptMessage(smtp: Transporter, message: AttemptedMessage, suppressed: SuppressedAmong, options: AttemptOptions = {}): Promise<Delivery> {
  const { raw, traceparent } = splitTraceparent(message.raw);
  const facts = { id: message.id, attempt: message.attempts, recipients: () => pendingRecipients(message), traceparent, maxAttempts: options.maxAttempts ?? Infinity };
  return traceAttempt(facts, () => attemptUntraced(smtp, { ...message, raw }, suppressed, options.endAfter));
}

async function attemptUntraced(smtp: Transporter, message: AttemptedMessage, suppressed: SuppressedAmong, endAfter: Promise<unknown> | undefined): Promise<Delivery> {
  const pending = pendingRecipients(message);
  const refused: Delivery['status'] = {};
  let onlyBlocks = true;
  for (const r of pending) {
    const row = suppressionFor(suppressed, r, message.topic);
    if (!row) continue;
    refused[r] = { state: 'failed', reply: cleanText(suppressionReply(row)) };
    onlyBlocks &&= isBlock(row);
  }
  const allowed = pending.filter((r) => !refused[r]);
  if (allowed.length === 0) {
    const reply = onlyBlocks ? 'all recipients are blocked' : `all recipients are suppressed: ${Object.values(refused)[0]!.reply}`;
    return { outcome: 'failed', code: null, reply, recipients: pending, status: refused };
  }
  const delivery = await deliver(smtp, { messageId: message.messageId, envelopeFrom: message.envelopeFrom, recipients: allowed, raw: message.raw }, endAfter);
  return { ...delivery, status: { ...refused, ...delivery.status }, recipients: pending };
}
