import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { blockedAmong, normalizeAddress } from '../store/blocklist.js';
import type { ClaimedMessage } from './claim.js';
import { deliver, type Delivery } from './deliver.js';
import { pendingRecipients, planOutcome, type OutcomeContext, type PlannedOutcome } from './outcome.js';
import { recordSafely } from './record.js';
import { cleanText } from './reply.js';

/**
 * One delivery attempt of a claimed message: its pending recipients minus the
 * blocked ones (failed with the block's reason) go to SMTP. The drain, `now`
 * sends and the preview's "send now" all go through here.
 */
export async function attemptDelivery(
  smtp: Transporter,
  message: Pick<ClaimedMessage, 'messageId' | 'envelopeFrom' | 'recipients' | 'recipientStatus'> & { raw: Buffer },
  blocked: Map<string, string>,
): Promise<Delivery> {
  const pending = pendingRecipients(message);
  const refused: Delivery['status'] = {};
  for (const r of pending) {
    const reason = blocked.get(normalizeAddress(r));
    if (reason !== undefined) refused[r] = { state: 'failed', reply: cleanText(`blocked${reason ? `: ${reason}` : ''}`) };
  }
  const allowed = pending.filter((r) => !refused[r]);
  if (allowed.length === 0) {
    return { outcome: 'failed', code: null, reply: 'all recipients are blocked', recipients: pending, status: refused };
  }
  const delivery = await deliver(smtp, { messageId: message.messageId, envelopeFrom: message.envelopeFrom, recipients: allowed, raw: message.raw });
  return { ...delivery, status: { ...refused, ...delivery.status }, recipients: pending };
}

/**
 * One claimed message sent on its own, outside a drain (`now` sends, the preview's
 * "send now"): blocklist, delivery, and its outcome written. Returns the delivery
 * and the state the message was left in.
 *
 * Once SMTP has answered, it resolves whatever the outcome write does: the mail went
 * out (or did not) either way, and the caller must not be told otherwise. An outcome
 * that could not be written leaves the message `sending` under its lease; a drain
 * takes it back after that, within the attempt budget.
 */
export async function deliverClaimed(
  db: Db,
  smtp: Transporter,
  message: ClaimedMessage & { raw: Buffer },
  ctx: OutcomeContext,
): Promise<{ delivery: Delivery; state: PlannedOutcome['state'] | 'sending' }> {
  const startedAt = new Date();
  const delivery = await attemptDelivery(smtp, message, await blockedAmong(db, message.recipients));
  const planned = planOutcome({ message, delivery, startedAt }, ctx);
  const recorded = await recordSafely(db, ctx.owner, [planned]).then(
    ({ unrecorded }) => unrecorded.length === 0,
    () => false,
  );
  return { delivery, state: recorded ? planned.state : 'sending' };
}
