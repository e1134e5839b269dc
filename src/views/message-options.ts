import type { Priority } from './priority.js';

/**
 * What mailroom adds to nodemailer's message options. They travel on the message
 * object like nodemailer's own (`view.send` → `transporter.sendMail` → the transport's
 * `mail.data`), and each transport decides: the queue transport reads them, and
 * nodemailer's own transports ignore fields they do not know, so none reaches the wire.
 * A new per-message option is one more field here (and its check in transport/validate.ts).
 */
export interface MailroomMessageOptions {
  /** Same key queued twice is one message (queue transport only). */
  idempotencyKey?: string;
  /** Do not send before this time (queue transport only). */
  sendAt?: Date;
  /**
   * The queue priority (queue transport only; `now` is tried at once). Not nodemailer's
   * own `priority`, which writes X-Priority headers to the recipient.
   */
  queuePriority?: Priority;
  /**
   * The topic (list) of a bulk message, e.g. `newsletter` (queue transport only; a view's
   * `topic` sets it). It gets List-Unsubscribe headers and honours per-topic suppressions.
   */
  queueTopic?: string;
  /** The mail view's name, stored with the message (queue transport only); set by the view itself. */
  view?: string;
}
