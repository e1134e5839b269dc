import type { Transporter } from 'nodemailer';
import { createSmtpTransport, type SmtpConfig } from './smtp.js';
import type { DkimKey } from './dkim.js';
import type { DeliveryConfig } from './transports.js';
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
 * Where `now` messages go: an SMTP URL, several (comma-separated or an array: failover in
 * that order, as `mailroom send --smtp a,b`), routes by sender domain, nodemailer SMTP
 * options, or a transporter (used as is).
 */
export type NowSmtp = SmtpConfig | SmtpConfig[] | { routes: Record<string, SmtpConfig | SmtpConfig[]>; default?: SmtpConfig | SmtpConfig[] };

/**
 * The transport `now` messages go through: every SMTP wait (connect, greeting, each
 * reply) ends after `timeoutMs`, and messages are signed with `dkim` keys as the drain
 * signs them. A transporter passed in is used as is (signed when keys are given); the
 * overall bound in `queueAndSendNow` still holds for it. Failover and routing load at
 * the first `now` send, like the rest of the delivery code.
 */
export async function nowTransport(config: NowSmtp, timeoutMs = NOW_TIMEOUT_MS, dkim: readonly DkimKey[] = []): Promise<Transporter> {
  const { createDeliveryTransport, splitUrls } = await import('./transports.js');
  const servers = typeof config === 'string' ? splitUrls(config) : config;
  const options = { connectionTimeout: timeoutMs, socketTimeout: timeoutMs, concurrency: 2, dkim };
  if (Array.isArray(servers) && servers.length === 1) return createSmtpTransport(servers[0]!, options);
  return createDeliveryTransport(servers as DeliveryConfig, options);
}
