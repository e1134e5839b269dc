import { ConfigError, InvalidMessageError } from '../errors.js';
import { secretList, signToken } from './token.js';

/** How the queue transport writes one-click unsubscribe headers on a topic's messages. */
export interface UnsubscribeOptions {
  /** The https URL where `unsubscribeHandler` is mounted; the token is added as `?token=…`. */
  url: string;
  /** An address for mail clients that unsubscribe by email (RFC 2369 `mailto:`), optional. */
  mailto?: string;
  /**
   * HMAC secrets: the first signs, all verify (rotate by putting the new one first). Default:
   * MAILROOM_UNSUBSCRIBE_SECRET, comma-separated.
   */
  secrets?: string | string[];
  /** Links stop working this many seconds after the message is queued; default: never. */
  expiresIn?: number;
}

/** Options checked once, when the transport is made. */
export interface UnsubscribeSettings {
  url: URL;
  mailto: string | undefined;
  secrets: string[];
  expiresIn: number | undefined;
}

/**
 * The unsubscribe options, checked. The secret falls back to MAILROOM_UNSUBSCRIBE_SECRET: an
 * app configures it where it configures SMTP, and a secret belongs in the environment.
 */
export function unsubscribeSettings(options: UnsubscribeOptions): UnsubscribeSettings {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ConfigError(`unsubscribe.url ${JSON.stringify(options.url)} is not a URL: use the https URL where unsubscribeHandler is mounted.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('unsubscribe.url must be an https URL (RFC 8058).');
  if (options.mailto !== undefined && !/^[^\s<>@]+@[^\s<>@]+$/.test(options.mailto)) {
    throw new ConfigError(`unsubscribe.mailto ${JSON.stringify(options.mailto)} is not an email address.`);
  }
  const expiresIn = options.expiresIn;
  if (expiresIn !== undefined && !(Number.isFinite(expiresIn) && expiresIn > 0)) throw new ConfigError('unsubscribe.expiresIn must be a positive number of seconds.');
  return { url, mailto: options.mailto, secrets: secretList(options.secrets ?? process.env.MAILROOM_UNSUBSCRIBE_SECRET), expiresIn };
}

/**
 * RFC 2369 List-Unsubscribe with RFC 8058 List-Unsubscribe-Post, for one recipient of one
 * topic: the https link carries that recipient's signed token (so it must be one recipient).
 */
export function unsubscribeHeaders(settings: UnsubscribeSettings, recipients: string[], topic: string, now = Date.now()): Record<string, string> {
  if (recipients.length !== 1) {
    throw new InvalidMessageError(
      `A message of topic "${topic}" goes to ${recipients.length} recipients, but its unsubscribe link can only be one recipient's: send one message per recipient (enqueueMailMany).`,
    );
  }
  const expires = settings.expiresIn === undefined ? undefined : Math.floor(now / 1000 + settings.expiresIn);
  const token = signToken({ address: recipients[0]!.toLowerCase(), topic, ...(expires !== undefined ? { expires } : {}) }, settings.secrets);
  const link = new URL(settings.url);
  link.searchParams.set('token', token);
  const targets = [`<${link.href}>`];
  if (settings.mailto) targets.push(`<mailto:${settings.mailto}?subject=unsubscribe%20${token}>`);
  return { 'List-Unsubscribe': targets.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
