import { and, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { suppressions } from './schema.js';
import { listSuppressions, normalizeAddress, suppress, unsuppress } from './suppressions.js';

// The blocklist is now the suppression list's manual, everything-scope entries
// (suppressions.ts); these keep its API (and `mailroom block`) working.

export { normalizeAddress };

/**
 * Never mail `address` again (compared case-insensitively): queued and future messages to it
 * fail for that recipient instead of being sent. Blocking it again updates `reason`; an
 * address already suppressed for a bounce or complaint keeps that record (what the receiver
 * said is worth more than a note, and it is just as blocked).
 * The same as `suppress(db, { address, reason: 'manual', note: reason })`.
 */
export async function blockAddress(db: Db, address: string, reason = ''): Promise<void> {
  const added = await suppress(db, { address, reason: 'manual', source: 'block', note: reason });
  if (!added) {
    await db
      .update(suppressions)
      .set({ reason: 'manual', note: reason })
      .where(and(eq(suppressions.address, normalizeAddress(address)), eq(suppressions.topic, ''), eq(suppressions.reason, 'manual')));
  }
}

/** Removes `address`'s everything-scope suppression; false when there was none. */
export async function unblockAddress(db: Db, address: string): Promise<boolean> {
  return unsuppress(db, address);
}

/** The everything-scope suppressions, by address: `{ address, reason, createdAt }` rows (reason: the note). */
export async function listBlocked(db: Db) {
  const rows = await listSuppressions(db, { topic: '' });
  return rows.map((r) => ({ address: r.address, reason: r.reason === 'manual' ? r.note : `${r.reason}${r.note ? `: ${r.note}` : ''}`, createdAt: r.createdAt }));
}
