import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** A name for one claimer (a drain, a `now` send, the preview's resend): host, process and a random part. */
export function newOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
