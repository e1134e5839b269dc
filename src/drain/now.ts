import type { Transporter } from 'nodemailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import type { Db } from '../store/database.js';
import type { ClaimedMessage } from './claim.js';
import { createSmtpTransport, parseSmtpUrl, type SmtpConfig } from './smtp.js';
import { deliverClaimed } from './attempt-on-demand.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { Delivery } from './deliver.js';
import { ConfigError } from '../errors.js';

/**
 * The `now` priority: one SMTP attempt inside the app's request, bounded in time.
 * A server that stalls must not hold a web request for the minute a drain would
 * wait: after `timeoutMs` the message is left to the queue (as high, due at once).
 */
export const NOW_TIMEOUT_MS = 10_000;

/** How long a `now` message stays claimed by its request: well past any attempt's end. */
export const NOW_LEASE_SECONDS = 120;

/** A `nowTimeout` that bounds the request and ends well within the lease, or a ConfigError. */
export function checkNowTimeout(timeoutMs: number | undefined): number {
  const ms = timeoutMs ?? NOW_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms <= 0 || ms > (NOW_LEASE_SECONDS * 1000) / 2) {
    throw new ConfigError(`nowTimeout ${timeoutMs} is not usable: give milliseconds between 1 and ${(NOW_LEASE_SECONDS * 1000) / 2}.`);
  }
  return ms;
}

/**
 * The pool `now` messages go through: every SMTP wait (connect, greeting, each
 * reply) ends after `timeoutMs`. A transporter passed in is used as is; the
 * overall bound in `attemptNow` still holds for it.
 */
export function nowTransport(config: SmtpConfig, timeoutMs = NOW_TIMEOUT_MS): Transporter {
  if (typeof config === 'object' && typeof (config as Transporter).sendMail === 'function') return config as Transporter;
  const base: SMTPPoolOptions = typeof config === 'string' ? parseSmtpUrl(config) : (config as SMTPPoolOptions);
  return createSmtpTransport({ connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, ...base }, { concurrency: 2, socketTimeout: timeoutMs });
}

export interface NowResult {
  delivery: Delivery | undefined;
  state: 'queued' | 'sent' | 'deferred' | 'failed' | 'sending';
}

/**
 * Tries a `now` message (inserted already claimed by `owner`) and resolves within
 * about `timeoutMs`. A temporary failure, a timeout included, leaves it queued as
 * high. A server that keeps the attempt alive past that (replying a byte at a time)
 * no longer holds the caller: the attempt finishes in the background and records
 * its outcome; until then its lease keeps drains off it.
 */
export async function attemptNow(
  db: Db,
  smtp: Transporter,
  message: ClaimedMessage & { raw: Buffer },
  owner: string,
  timeoutMs = NOW_TIMEOUT_MS,
): Promise<NowResult> {
  const attempt = deliverClaimed(db, smtp, message, { owner, backoff: DEFAULT_BACKOFF, requeueAsHigh: true });
  let timer: NodeJS.Timeout | undefined;
  // A little past the SMTP timeouts, so a plain stall ends in its recorded outcome, not here.
  const late = new Promise<NowResult>((resolve) => {
    timer = setTimeout(() => resolve({ delivery: undefined, state: 'sending' }), timeoutMs + 1000);
  });
  try {
    return await Promise.race([attempt, late]);
  } finally {
    clearTimeout(timer);
    attempt.catch(() => {}); // past the deadline its outcome is the queue's business
  }
}
