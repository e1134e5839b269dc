import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConfigError } from '../../errors.js';

/**
 * Preview passwords: stored as `scrypt$N$r$p$salt$hash` (base64url salt and hash),
 * checked in constant time. scrypt because node:crypto has it and it is memory-hard;
 * the parameters travel with each hash so they can be raised later.
 */

const KEY_LENGTH = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 };

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...o, maxmem: 128 * o.N * o.r * 2 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * A salted scrypt hash of `password` (`scrypt$N$r$p$salt$key`) for `MAILROOM_PREVIEW_USERS`
 * or `auth.users`; `mailroom preview --hash-password` prints one. Throws a ConfigError for
 * an empty password.
 */
export async function hashPreviewPassword(password: string): Promise<string> {
  if (!password) throw new ConfigError('An empty password cannot be hashed: give the password on standard input.');
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULTS);
  return ['scrypt', DEFAULTS.N, DEFAULTS.r, DEFAULTS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(hash: string): ParsedHash | null {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43})$/.exec(hash);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N a power of two; bounded so that a hash cannot make a login take minutes or gigabytes.
  if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** A user whose password is checked against its scrypt hash. */
export interface PreviewUser {
  /** The login name: no spaces, commas or colons. */
  name: string;
  /** From `hashPreviewPassword`; never the password itself. */
  hash: string;
}

/**
 * `alice:scrypt$…` entries separated by commas, spaces or new lines (the
 * `MAILROOM_PREVIEW_USERS` format). A bad entry is a ConfigError naming it, never the hash.
 */
export function parseUsers(text: string): PreviewUser[] {
  const users: PreviewUser[] = [];
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    if (!name || !parseHash(entry.slice(colon + 1))) {
      throw new ConfigError(`Preview user entry ${users.length + 1} (${name ? `"${name}"` : 'no name'}) is not user:scrypt$…: make the hash with \`mailroom preview --hash-password\`.`);
    }
    if (users.some((u) => u.name === name)) throw new ConfigError(`Preview user "${name}" is listed twice.`);
    users.push({ name, hash: entry.slice(colon + 1) });
  }
  return users;
}

/** Checks users' hashes once, at start, so a typo fails the start and not every login. */
export function checkUsers(users: readonly PreviewUser[]): void {
  for (const user of users) {
    if (!user.name || /[\s:,]/.test(user.name)) throw new ConfigError(`Preview user name "${user.name}" must be non-empty, without spaces, commas or colons.`);
    if (!parseHash(user.hash)) throw new ConfigError(`The password hash of preview user "${user.name}" is not scrypt$…: make one with \`mailroom preview --hash-password\`.`);
  }
}

/** Compares two secrets in constant time, whatever their lengths (both are hashed first). */
export function sameSecret(a: string, b: string): boolean {
  const key = randomBytes(32);
  return timingSafeEqual(createHmac('sha256', key).update(a).digest(), createHmac('sha256', key).update(b).digest());
}

// An unknown user still costs one scrypt, so response times do not tell which names exist.
const DUMMY = `scrypt$${DEFAULTS.N}$${DEFAULTS.r}$${DEFAULTS.p}$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

/** The user name the credentials prove, or null. */
export async function verifyUser(users: readonly PreviewUser[], name: string, password: string): Promise<string | null> {
  const user = users.find((u) => sameSecret(u.name, name));
  const parsed = parseHash(user?.hash ?? DUMMY)!;
  const key = await derive(password, parsed.salt, parsed);
  return timingSafeEqual(key, parsed.key) && user ? user.name : null;
}
