import { eq, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { settings } from './schema.js';

/**
 * Lease expiries: messages a drain took back from `sending` after another drain's
 * lease ran out (that drain died, stalled or lost the database). Counted for
 * Prometheus (`mailroom_lease_expiries_total`), cumulatively for every drain sharing
 * the database, in one row of `mailroom_settings`: no migration, and a write only
 * when a claim took one back, which a healthy queue never does.
 */
export const LEASE_EXPIRIES = 'lease_expiries';

/** Adds `count` to the stored total (one upsert; nothing when count is 0). */
export async function countLeaseExpiries(db: Db, count: number): Promise<void> {
  if (count <= 0) return;
  await db
    .insert(settings)
    .values({ key: LEASE_EXPIRIES, value: String(count) })
    .onConflictDoUpdate({
      target: settings.key,
      // Added in SQL, so drains counting at the same moment never lose each other's counts.
      set: { value: sql`(${settings.value}::bigint + excluded.value::bigint)::text`, updatedAt: sql`now()` },
    });
}

/** Every lease expiry counted since the database was made (0 when none). */
export async function leaseExpiries(db: Db): Promise<number> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, LEASE_EXPIRIES));
  return row ? Number(row.value) : 0;
}
