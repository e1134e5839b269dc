import type { Transporter } from 'nodemailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import { createSmtpTransport, parseSmtpUrl, type SmtpConfig } from './smtp.js';
import { ConfigError } from '../errors.js';

// The `now` priority's bounds and its SMTP pool, apart from send-now.ts so that a queue
// transport can check them when it is created without loading the delivery code (claim,
// attempt, outcomes: a dozen modules), which it imports at its first `now` send.

/**
 * The `now` priority: one SMTP attempt inside the app's request, bounded in time.
 * A server that stalls must not hold a web request for the minute a drain would
 * wait: after `timeoutMs` the message is left to the queue (as high, due at once).
 */
export const NOW_TIMEOUT_MS = 10_000;

/** How long a `now` message stays claimed by its request: well past any attempt's end (see checkNowTimeout). */
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
 * overall bound in `queueAndSendNow` still holds for it.
 */
export function nowTransport(config: SmtpConfig, timeoutMs = NOW_TIMEOUT_MS): Transporter {
  if (typeof config === 'object' && typeof (config as Transporter).sendMail === 'function') return config as Transporter;
  const base: SMTPPoolOptions = typeof config === 'string' ? parseSmtpUrl(config) : (config as SMTPPoolOptions);
  return createSmtpTransport({ connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, ...base }, { concurrency: 2, socketTimeout: timeoutMs });
}
