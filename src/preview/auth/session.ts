import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../errors.js';

/**
 * A login session is a cookie the server can check without storing anything:
 * `user.expiry.signature`, the signature an HMAC-SHA256 of the rest under a secret
 * (given, so sessions survive restarts and several instances, or random per start).
 * The expiry is inside the signed part: a client cannot stretch it.
 */
export class Sessions {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    readonly ttlSeconds: number,
  ) {
    if (secret !== undefined && Buffer.byteLength(secret) < 32) {
      throw new ConfigError('The preview session secret (MAILROOM_PREVIEW_SECRET) must be at least 32 characters: e.g. `openssl rand -base64 48`.');
    }
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 30 * 86400) {
      throw new ConfigError(`A preview session lasts 60 seconds to 30 days, not ${ttlSeconds} seconds.`);
    }
    this.key = secret === undefined ? randomBytes(32) : createHmac('sha256', 'mailroom preview session').update(secret).digest();
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(user: string, now = Date.now()): string {
    const payload = `${Buffer.from(user).toString('base64url')}.${Math.floor(now / 1000) + this.ttlSeconds}`;
    return `${payload}.${this.sign(payload)}`;
  }

  /** The user of a valid, unexpired token, or null. */
  check(token: string | undefined, now = Date.now()): string | null {
    const m = /^([A-Za-z0-9_-]{1,400})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
    if (!m) return null;
    const expected = Buffer.from(this.sign(`${m[1]}.${m[2]}`));
    const given = Buffer.from(m[3]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (Number(m[2]) * 1000 <= now) return null;
    return Buffer.from(m[1]!, 'base64url').toString();
  }
}
