import type { Transporter } from 'nodemailer';
import { normalizeAddress } from '../store/blocklist.js';
import type { ClaimedMessage } from './claim.js';
import { deliver, type Delivery } from './deliver.js';
import { pendingRecipients } from './outcome.js';
import { cleanText } from './reply.js';

/**
 * One delivery attempt of a claimed message: its pending recipients minus the
 * blocked ones (failed with the block's reason) go to SMTP. The drain and
 * "send now" (send-now.ts) both go through here.
 */
export async function attemptMessage(
  smtp: Transporter,
  message: Pick<ClaimedMessage, 'messageId' | 'envelopeFrom' | 'recipients' | 'recipientStatus'> & { raw: Buffer },
  blocked: Map<string, string>,
  endAfter?: Promise<unknown>,
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
  const delivery = await deliver(smtp, { messageId: message.messageId, envelopeFrom: message.envelopeFrom, recipients: allowed, raw: message.raw }, endAfter);
  return { ...delivery, status: { ...refused, ...delivery.status }, recipients: pending };
}
