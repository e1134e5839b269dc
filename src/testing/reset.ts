import { sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { rowsOf } from '../store/rows.js';
import { MAILROOM_TABLES } from '../store/migrations.js';

const truncate = (db: Db, tables: string[]) =>
  tables.length ? db.execute(sql.raw(`truncate table ${tables.join(', ')} restart identity cascade`)) : Promise.resolve();

/**
 * Empties every table of the test's own in-memory database, the app's included, keeping
 * the migration bookkeeping (schema `drizzle`), so the next test starts from nothing.
 */
export async function truncateAll(db: Db): Promise<void> {
  const rows = rowsOf<{ name: string }>(
    await db.execute(sql`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname not in ('pg_catalog', 'information_schema', 'drizzle')`),
  );
  await truncate(db, rows.map((r) => r.name));
}

/** Empties only mailroom's tables: the app's own database keeps the app's rows. */
export function truncateMailroom(db: Db): Promise<unknown> {
  return truncate(db, [...MAILROOM_TABLES]);
}
