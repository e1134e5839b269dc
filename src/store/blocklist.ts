import { asc, inArray } from 'drizzle-orm';
import type { Db } from './database.js';
import { blocklist } from './schema.js';

/** Addresses compare case-insensitively. */
export const normalizeAddress = (address: string): string => address.trim().toLowerCase();

/**
 * Never mail `address` again (compared case-insensitively): queued and future messages to it
 * fail for that recipient instead of being sent. Blocking it again updates `reason`.
 */
export async function blockAddress(db: Db, address: string, reason = ''): Promise<void> {
  await db
    .insert(blocklist)
    .values({ address: normalizeAddress(address), reason })
    .onConflictDoUpdate({ target: blocklist.address, set: { reason } });
}

/** Removes `address` from the blocklist; false when it was not on it. */
export async function unblockAddress(db: Db, address: string): Promise<boolean> {
  const removed = await db.delete(blocklist).where(inArray(blocklist.address, [normalizeAddress(address)])).returning();
  return removed.length > 0;
}

/** The blocklist, by address: `{ address, reason, createdAt }` rows. */
export async function listBlocked(db: Db) {
  return db.select().from(blocklist).orderBy(asc(blocklist.address));
}

/** Which of these addresses are blocked, with the reason. */
export async function blockedAmong(db: Db, addresses: string[]): Promise<Map<string, string>> {
  if (addresses.length === 0) return new Map();
  const rows = await db
    .select()
    .from(blocklist)
    .where(inArray(blocklist.address, [...new Set(addresses.map(normalizeAddress))]));
  return new Map(rows.map((r) => [r.address, r.reason]));
}
