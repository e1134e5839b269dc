import { eq, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { settings } from './schema.js';
import { notifyQueue } from './notify.js';

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return row?.value;
}

/** Sets (or, with null, removes) a setting; running workers are woken to read it (e.g. `resume`). */
export async function setSetting(db: Db, key: string, value: string | null): Promise<void> {
  if (value === null) {
    await db.delete(settings).where(eq(settings.key, key));
  } else {
    await db
      .insert(settings)
      .values({ key, value })
      .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: sql`now()` } });
  }
  await notifyQueue(db);
}

/** Sending is paused (e.g. on staging) when `mailroom pause` was run. */
export const PAUSED = 'paused';
