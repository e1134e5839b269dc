import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * A lease owner: who holds a claimed message (the `lease_owner` column, and the
 * attempt rows' `worker`). Host, process and a random part, so two drains in one
 * process never share one; `kind` tells a drain's claims from a `now` send's or the preview's.
 */
export function newOwner(kind?: 'now' | 'preview'): string {
  const id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  return kind ? `${kind}:${id}` : id;
}
