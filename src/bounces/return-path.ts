import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';

// VERP (variable envelope return path): each message's envelope sender is its own address,
// `bounces+TOKEN@example.com`, so a bounce, which goes to the envelope sender, names the message
// it is about even when the bounce itself is not a standard report. The token is worked out
// from the Message-ID, so nothing extra is stored: the row's envelope_from is the lookup key.

const ADDRESS = /^([^\s@+]+)@([^\s@]+)$/;

/** `bounces@example.com` checked: a plain address, with no `+` of its own. */
export function checkReturnPath(returnPath: string): string {
  if (!ADDRESS.test(returnPath)) {
    throw new ConfigError(`returnPath ${JSON.stringify(returnPath)} must be a plain address without "+", e.g. bounces@example.com: each message's becomes bounces+TOKEN@example.com.`);
  }
  return returnPath;
}

/** The per-message return path for a Message-ID: `local+TOKEN@domain`. */
export function verpAddress(returnPath: string, messageId: string): string {
  const [, local, domain] = ADDRESS.exec(returnPath)!;
  const token = createHash('sha256').update(messageId).digest('hex').slice(0, 20);
  return `${local}+${token}@${domain}`;
}

/** Whether an address is a VERP return path made from `returnPath`'s pattern (any `local+TOKEN@domain` of 20 hex digits). */
export function isVerpAddress(address: string): boolean {
  return /^[^\s@+]+\+[0-9a-f]{20}@[^\s@]+$/i.test(address);
}
