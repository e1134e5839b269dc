import nodemailer, { type Transporter } from 'nodemailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import { ConfigError, SmtpConnectionError } from '../errors.js';
import { redact } from '../store/redact.js';
import { decodeCredential } from '../store/url-credentials.js';
import { signWithDkim, type DkimKey } from './dkim.js';
import { ownPool } from './raw-send.js';

/** Limits of the pool `createSmtpTransport` makes (unused for a transporter passed in). */
export interface SmtpOptions {
  /** SMTP connections used at once (the pool's `maxConnections`). Default 5. */
  concurrency?: number;
  /** Milliseconds of silence before a connection is given up (a stalled server). Default 60 s. */
  socketTimeout?: number;
  /** Milliseconds to connect, and again to get the greeting (default 15 s). */
  connectionTimeout?: number;
  /** Sign each message whose From domain (or a parent of it) has a key; see `loadDkimKeys`. Applies to a transporter passed in too. */
  dkim?: readonly DkimKey[];
}

/**
 * `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465` into nodemailer pool options.
 * The port defaults to 587 (`smtp:`) or 465 (`smtps:`); user and password are URL-decoded
 * (write a `%` in a password as `%25`). Throws a ConfigError naming the problem (password
 * hidden) for a malformed URL, another scheme, no host, or a parameter not `true`/`false`.
 *
 * With credentials, `smtp://` requires STARTTLS: nodemailer otherwise sends AUTH in the
 * clear to any server that does not offer it (or whose offer an attacker stripped).
 * Only the URL itself can lower that: `?tls=false` (no TLS at all, for local sinks) or
 * `?insecure_auth=true` (STARTTLS when offered, the password in the clear when not).
 */
export function parseSmtpUrl(url: string): SMTPPoolOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`Malformed SMTP URL "${redact(url)}": expected smtp://user:pass@host:587 or smtps://user:pass@host:465.`);
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new ConfigError(`Unsupported SMTP URL scheme "${parsed.protocol}" in "${redact(url)}": use smtp:// or smtps://.`);
  }
  if (!parsed.hostname) throw new ConfigError(`SMTP URL "${redact(url)}" has no host: use smtp://host:587.`);
  const secure = parsed.protocol === 'smtps:';
  const options: SMTPPoolOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
  };
  const flag = (name: string) => {
    const value = parsed.searchParams.get(name);
    if (value === null) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new ConfigError(`SMTP URL parameter ${name}=${redact(value)} in "${redact(url)}" must be true or false.`);
  };
  // Local test servers and sinks: `?tls=false` skips STARTTLS, `?insecure=true` accepts any certificate.
  const tls = flag('tls');
  const insecureAuth = flag('insecure_auth');
  if (tls === false) options.ignoreTLS = true;
  if (flag('insecure') === true) options.tls = { rejectUnauthorized: false };
  if (parsed.username || parsed.password) {
    options.auth = { user: decodeCredential(parsed.username, url), pass: decodeCredential(parsed.password, url) };
    if (!secure && tls !== false && insecureAuth !== true) options.requireTLS = true;
  }
  return options;
}

/** Why a connection that requires STARTTLS failed at it, and the explicit ways out. */
function tlsRequiredHint(options: SMTPPoolOptions | undefined, error: { code?: string }): string {
  if (!options?.requireTLS || error.code !== 'ETLS') return '';
  return (
    '. The URL has a password, so mailroom requires STARTTLS and never sends it in the clear: ' +
    'use a server that offers STARTTLS, or smtps:// (port 465); to send the password unencrypted anyway, ' +
    'add ?insecure_auth=true to the URL (or ?tls=false to skip TLS altogether).'
  );
}

/** Where mail goes: an SMTP URL (see `parseSmtpUrl`), nodemailer SMTP pool options, or a nodemailer transporter. */
export type SmtpConfig = string | SMTPPoolOptions | Transporter;

function isTransporter(value: SmtpConfig): value is Transporter {
  return typeof value === 'object' && typeof (value as Transporter).sendMail === 'function';
}

/**
 * A pooled nodemailer SMTP transporter for `drain({ smtp })`: connect and greeting timeouts
 * 15 s, socket timeout 60 s, 5 connections (see `SmtpOptions`); options given in `config`
 * win over these defaults, `options.concurrency` over both. A transporter passed in is
 * returned as is (signing added when `options.dkim` has keys). Throws a ConfigError for a bad URL; nothing connects until the first send
 * (call `verifySmtp` to fail fast). Close it with `transporter.close()`.
 */
export function createSmtpTransport(config: SmtpConfig, options: SmtpOptions = {}): Transporter {
  if (isTransporter(config)) return signWithDkim(config, options.dkim ?? []);
  const base = typeof config === 'string' ? parseSmtpUrl(config) : config;
  const transporter = ownPool(nodemailer.createTransport({
    connectionTimeout: options.connectionTimeout ?? 15_000,
    greetingTimeout: options.connectionTimeout ?? 15_000,
    socketTimeout: options.socketTimeout ?? 60_000,
    ...base,
    pool: true,
    maxConnections: options.concurrency ?? base.maxConnections ?? 5,
    maxMessages: Infinity,
  }));
  return signWithDkim(transporter, options.dkim ?? []);
}

/**
 * Connects and logs in once, so a wrong host or password fails before any message is
 * claimed. Throws an SmtpConnectionError with one line naming `label` (passwords hidden)
 * and, when STARTTLS was required but missing, the explicit ways out.
 */
export async function verifySmtp(transporter: Transporter, label: string): Promise<void> {
  try {
    await transporter.verify();
  } catch (error) {
    const e = error as { message?: string; code?: string };
    const hint = tlsRequiredHint((transporter as { options?: SMTPPoolOptions }).options, e);
    throw new SmtpConnectionError(`Cannot connect to SMTP server ${redact(label)}: ${redact(e.message ?? String(e.code))}${hint}`, { cause: error });
  }
}
