import type { Transporter } from 'nodemailer';
import type { RecipientStatus } from '../store/schema.js';
import { cleanReply, replyCode } from './reply.js';
import { sendStored, type SentInfo } from './raw-send.js';

/** An attempt's result: accepted, worth retrying later, or refused for good. */
export type Outcome = 'sent' | 'deferred' | 'failed';

/** What one SMTP attempt did, per message and per recipient. */
export interface Delivery {
  outcome: Outcome;
  code: number | null;
  reply: string;
  recipients: string[];
  status: RecipientStatus;
  /** Milliseconds the SMTP exchange took (absent when no SMTP was tried, e.g. every recipient blocked). */
  ms?: number;
}

interface SmtpError {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/**
 * 5xx is permanent; 4xx, timeouts and broken connections are worth another try.
 * 503 (bad sequence of commands) is the session's fault, not the message's: retry.
 */
export function isPermanent(code: number | null | undefined): boolean {
  return typeof code === 'number' && code >= 500 && code < 600 && code !== 503;
}

/** Nodemailer's codes for a connection that broke without an SMTP reply, in words. */
const BROKEN: Record<string, string> = {
  ETIMEDOUT: 'SMTP server timed out',
  ECONNECTION: 'connection to the SMTP server lost',
  ESOCKET: 'connection to the SMTP server failed',
  EDNS: 'SMTP server name did not resolve',
};

/** What went wrong, in the server's words when it said any; always clean (see reply.ts). */
function replyOf(error: SmtpError): string {
  if (error.response) return cleanReply(error.response);
  const broken = error.code ? BROKEN[error.code] : undefined;
  if (broken) return cleanReply(`${broken} (${error.code}): ${error.message ?? ''}`.replace(/: $/, ''));
  return cleanReply(error.message || error.code || 'unknown error');
}

function fromRejections(rejections: SmtpError[], status: RecipientStatus): void {
  for (const rejection of rejections) {
    if (!rejection.recipient) continue;
    status[rejection.recipient] = {
      state: isPermanent(replyCode(rejection.responseCode)) ? 'failed' : 'deferred',
      reply: replyOf(rejection),
    };
  }
}

/** The message's overall outcome from its recipients': any still deferred means try again. */
function summarize(status: RecipientStatus, recipients: string[]): Outcome {
  const states = recipients.map((r) => status[r]?.state ?? 'deferred');
  if (states.includes('deferred')) return 'deferred';
  return states.includes('sent') ? 'sent' : 'failed';
}

/**
 * Sends the stored bytes to the recipients not yet done, and classifies the reply.
 * `endAfter`: the message is completed only once it settles (see sendStored).
 */
export async function deliver(
  transporter: Transporter,
  message: { messageId: string; envelopeFrom: string; recipients: string[]; raw: Buffer },
  endAfter?: Promise<unknown>,
): Promise<Delivery> {
  const recipients = message.recipients;
  const status: RecipientStatus = {};
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    // The Message-ID is not written (the raw bytes carry their own); it is reported back,
    // and spares nodemailer from making up an id for a raw message.
    const info = (await sendStored(transporter, { from: message.envelopeFrom, to: recipients }, message.raw, message.messageId, endAfter)) as SentInfo & {
      rejectedErrors?: SmtpError[];
    };
    const reply = cleanReply(info.response ?? '');
    for (const accepted of info.accepted ?? []) {
      status[typeof accepted === 'string' ? accepted : accepted.address] = { state: 'sent', reply };
    }
    fromRejections(info.rejectedErrors ?? [], status);
    return { outcome: summarize(status, recipients), code: replyCode(reply), reply, recipients, status, ms: ms() };
  } catch (error) {
    const e = error as SmtpError;
    const code = replyCode(e.responseCode);
    const reply = replyOf(e);
    // A refused login (535) is the sender's configuration, not the message: once the
    // password is fixed it goes through, so it must not fail the queue.
    const permanent = isPermanent(code) && e.code !== 'EAUTH';
    if (e.rejectedErrors?.length) {
      fromRejections(e.rejectedErrors, status);
    } else {
      for (const r of recipients) status[r] = { state: permanent ? 'failed' : 'deferred', reply };
    }
    return { outcome: summarize(status, recipients), code, reply, recipients, status, ms: ms() };
  }
}
