import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';

// The per-recipient token in a List-Unsubscribe URL: who (address) leaves what (topic), signed
// with HMAC-SHA256 so nobody can unsubscribe someone else by editing the link. Key rotation:
// the first secret signs, every secret verifies, so a link mailed before a rotation keeps
// working until its old secret is dropped from the list.

/** What a token says. */
export interface TokenClaims {
  address: string;
  topic: string;
  /** Unix seconds after which the link no longer works; none by default. */
  expires?: number;
}

/** Secrets as given (one, a list, or a comma-separated string as in MAILROOM_UNSUBSCRIBE_SECRET), checked. */
export function secretList(secrets: string | readonly string[] | undefined): string[] {
  const list = (typeof secrets === 'string' ? secrets.split(',') : [...(secrets ?? [])]).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) {
    throw new ConfigError('One-click unsubscribe needs a secret: set MAILROOM_UNSUBSCRIBE_SECRET (or `unsubscribe.secrets`) to a random string of 32 or more characters.');
  }
  const short = list.find((s) => s.length < 16);
  if (short !== undefined) throw new ConfigError('An unsubscribe secret is shorter than 16 characters: use a random string of 32 or more (e.g. `openssl rand -hex 32`).');
  return list;
}

const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(`mailroom-unsubscribe.${payload}`).digest();

/** A URL-safe token for these claims, signed with the first secret. */
export function signToken(claims: TokenClaims, secrets: readonly string[]): string {
  const body: [string, string, number?] = [claims.address, claims.topic];
  if (claims.expires !== undefined) body.push(Math.floor(claims.expires));
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(secrets[0]!, payload).toString('base64url')}`;
}

/** Why a token was not accepted. */
export type TokenProblem = 'malformed' | 'forged' | 'expired';

/** The claims of a token signed with any of `secrets` and not expired at `now`, or what is wrong with it. */
export function verifyToken(token: string, secrets: readonly string[], now = Date.now()): { claims: TokenClaims } | { problem: TokenProblem } {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined || token.length > 2048) return { problem: 'malformed' };
  const given = Buffer.from(signature, 'base64url');
  const signed = secrets.some((secret) => {
    const expected = mac(secret, payload);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) return { problem: 'forged' };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'malformed' };
  }
  if (!Array.isArray(body) || typeof body[0] !== 'string' || typeof body[1] !== 'string') return { problem: 'malformed' };
  const expires = typeof body[2] === 'number' ? body[2] : undefined;
  if (expires !== undefined && now / 1000 > expires) return { problem: 'expired' };
  return { claims: { address: body[0], topic: body[1], ...(expires !== undefined ? { expires } : {}) } };
}
