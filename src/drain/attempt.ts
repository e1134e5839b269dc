import type { Transporter } from 'nodemailer';
import { suppressionFor, suppressionReply, type SuppressedAmong } from '../store/suppressions.js';
import type { ClaimedMessage } from './claim.js';
import { deliver, type Delivery } from './deliver.js';
import { pendingRecipients } from './outcome.js';
import { cleanText } from './reply.js';

/**
 * One delivery attempt of a claimed message: its pending recipients minus the
 * suppressed ones (for everything, or for the message's topic: failed with the
 * suppression's reason) go to SMTP. The drain and "send now" (send-now.ts) both go through here.
 */
export async function attemptMessage(
  smtp: Transporter,
  message: Pick<ClaimedMessage, 'messageId' | 'envelopeFrom' | 'recipients' | 'recipientStatus'> & { raw: Buffer; topic?: string | null },
  suppressed: SuppressedAmong,
  endAfter?: Promise<unknown>,
): Promise<Delivery> {
  const pending = pendingRecipients(message);
  const refused: Delivery['status'] = {};
  let onlyBlocks = true;
  for (const r of pending) {
    const row = suppressionFor(suppressed, r, message.topic);
    if (!row) continue;
    refused[r] = { state: 'failed', reply: cleanText(suppressionReply(row)) };
    onlyBlocks &&= row.reason === 'manual';
  }
  const allowed = pending.filter((r) => !refused[r]);
  if (allowed.length === 0) {
    const reply = onlyBlocks ? 'all recipients are blocked' : `all recipients are suppressed: ${Object.values(refused)[0]!.reply}`;
    return { outcome: 'failed', code: null, reply, recipients: pending, status: refused };
  }
  const delivery = await deliver(smtp, { messageId: message.messageId, envelopeFrom: message.envelopeFrom, recipients: allowed, raw: message.raw }, endAfter);
  return { ...delivery, status: { ...refused, ...delivery.status }, recipients: pending };
}
