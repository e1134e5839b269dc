import { sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { MAILROOM_TABLES } from '../store/migrations.js';

const truncate = (db: Db, tables: string[]) =>
  tables.length ? db.execute(sql.raw(`truncate table ${tables.join(', ')} restart identity cascade`)) : Promise.resolve();

/**
 * Empties every table of the test's own in-memory database, the app's included, keeping
 * the migration bookkeeping (schema `drizzle`), so the next test starts from nothing.
 * One statement: listing the tables and truncating them in one round trip.
 */
const TRUNCATE_ALL = sql.raw(`do $$
declare tables text;
begin
  select string_agg(format('%I.%I', schemaname, tablename), ', ') into tables
    from pg_tables where schemaname not in ('pg_catalog', 'information_schema', 'drizzle');
  if tables is not null then
    execute 'truncate table ' || tables || ' restart identity cascade';
  end if;
end $$`);

export async function truncateAll(db: Db): Promise<void> {
  await db.execute(TRUNCATE_ALL);
}

/** Empties only mailroom's tables: the app's own database keeps the app's rows. */
export function truncateMailroom(db: Db): Promise<unknown> {
  return truncate(db, [...MAILROOM_TABLES]);
}
