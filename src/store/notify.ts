import { sql } from 'drizzle-orm';
import type { Db } from './database.js';

/** The channel `mailroom worker` listens on; the 0001_notify migration's trigger notifies it on every insert. */
export const QUEUE_CHANNEL = 'mailroom_queue';

/**
 * Wakes every listening worker: messages became due (retry) or sending may go on
 * (resume). Inside a transaction it is delivered at commit, or never.
 */
export async function notifyQueue(db: Db): Promise<void> {
  await db.execute(sql`select pg_notify(${QUEUE_CHANNEL}, '')`);
}
