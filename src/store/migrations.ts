import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles, type MigrationMeta } from 'drizzle-orm/migrator';
import type { PgDatabase, PgDialect, PgSession } from 'drizzle-orm/pg-core';
import { DatabaseError, TablesMissingError } from '../errors.js';
import { rowsOf } from './rows.js';

/**
 * mailroom's migrations keep their own bookkeeping table. Drizzle's migrator applies only
 * migrations newer than the newest row of its table, so sharing the default
 * `drizzle.__drizzle_migrations` with an app's own drizzle-kit migrations made mailroom's
 * look already applied: `migrate` succeeded and created nothing.
 */
export const MIGRATIONS_TABLE = { migrationsSchema: 'drizzle', migrationsTable: '__mailroom_migrations' } as const;

/** The shipped migrations. Worked out when used, not at import: a bundle that turns this module
 * into CommonJS (react-email's `email export` of a template importing mailroom) has no import.meta.url. */
export const migrationsFolder = (): string => fileURLToPath(new URL('../../drizzle', import.meta.url));

/** mailroom's tables, which `migrateMailroom` must leave behind (checked afterwards, by name). */
export const MAILROOM_TABLES = ['mailroom_messages', 'mailroom_attempts', 'mailroom_blocklist', 'mailroom_settings', 'mailroom_suppressions', 'mailroom_bounces', 'mailroom_domains'] as const;

type AnyPg = PgDatabase<any, any, any>;
/** What every driver's migrator uses: the dialect's `migrate` over the db's session. */
type Internals = { dialect: PgDialect; session: PgSession };

const ours = sql`${sql.identifier(MIGRATIONS_TABLE.migrationsSchema)}.${sql.identifier(MIGRATIONS_TABLE.migrationsTable)}`;

/** Which of `names` (tables, schema-qualified or on the search_path) do not exist: one query. */
async function missingOf(db: AnyPg, names: readonly string[]): Promise<string[]> {
  const list = sql.join(names.map((name, i) => sql`(${name}::text, ${i}::int)`), sql`, `);
  const rows = rowsOf<{ name: string }>(await db.execute(sql`select name from (values ${list}) as t(name, i) where to_regclass(name) is null order by i`));
  return rows.map((r) => r.name);
}

/**
 * Databases migrated before mailroom had its own table recorded its migrations in
 * Drizzle's default one. When mailroom's tables exist but its own bookkeeping does not,
 * the migrations found there (matched by hash, so an app's own rows are never taken)
 * are recorded as applied instead of run again.
 */
async function adoptDefaultBookkeeping(db: AnyPg, migrations: MigrationMeta[]): Promise<void> {
  const own = `${MIGRATIONS_TABLE.migrationsSchema}.${MIGRATIONS_TABLE.migrationsTable}`;
  const missing = await missingOf(db, [own, 'mailroom_messages', 'drizzle.__drizzle_migrations']);
  if (missing.length !== 1 || missing[0] !== own) return; // its own bookkeeping already, or nothing to adopt
  const recorded = new Set(rowsOf<{ hash: string }>(await db.execute(sql`select hash from drizzle.__drizzle_migrations`)).map((r) => r.hash));
  const applied = migrations.filter((m) => recorded.has(m.hash));
  await db.transaction(async (tx) => {
    await tx.execute(sql`create schema if not exists ${sql.identifier(MIGRATIONS_TABLE.migrationsSchema)}`);
    // The same shape Drizzle's migrator creates, so it reads these rows as its own.
    await tx.execute(sql`create table if not exists ${ours} (id serial primary key, hash text not null, created_at bigint)`);
    for (const m of applied) await tx.execute(sql`insert into ${ours} (hash, created_at) values (${m.hash}, ${m.folderMillis})`);
  });
}

/**
 * Applies mailroom's migrations on any Drizzle Postgres database (postgres.js, PGlite,
 * node-postgres), recording them in `drizzle.__mailroom_migrations` (apart from an app's own
 * drizzle-kit table), then checks that mailroom's tables are there: a migration that was
 * skipped must not look like success. Idempotent; what `mailroom migrate` runs. Throws a
 * DatabaseError naming any table still missing.
 */
export async function migrateMailroom(db: AnyPg): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  await adoptDefaultBookkeeping(db, migrations);
  const { dialect, session } = db as unknown as Internals;
  await dialect.migrate(migrations, session, { migrationsFolder: migrationsFolder(), ...MIGRATIONS_TABLE });
  const missing = await missingOf(db, MAILROOM_TABLES);
  if (missing.length > 0) {
    throw new DatabaseError(
      `mailroom migrate finished but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (search_path: the tables are created in the first schema of the connection's search_path); ` +
        `check ${MIGRATIONS_TABLE.migrationsSchema}.${MIGRATIONS_TABLE.migrationsTable} against drizzle/ and run \`mailroom migrate\` again.`,
    );
  }
}

/**
 * Refuses a database `mailroom migrate` has not brought up to date: a command would
 * otherwise fail on its first query with the driver's "relation does not exist" and a
 * stack. Missing tables, or fewer migrations recorded than drizzle/ holds, name the fix.
 * A database migrated before mailroom kept its own bookkeeping is left to the queries.
 */
export async function requireMigrated(db: AnyPg): Promise<void> {
  const own = `${MIGRATIONS_TABLE.migrationsSchema}.${MIGRATIONS_TABLE.migrationsTable}`;
  const missing = await missingOf(db, [...MAILROOM_TABLES, own]);
  const tables = missing.filter((name) => name !== own);
  if (tables.length > 0) {
    throw new TablesMissingError(
      `mailroom's tables are not in this database (${tables.join(', ')} missing): run \`mailroom migrate\` against it first.`,
    );
  }
  if (missing.includes(own)) return;
  const [row] = rowsOf<{ applied: number | string }>(await db.execute(sql`select count(distinct hash) as applied from ${ours}`));
  const expected = readMigrationFiles({ migrationsFolder: migrationsFolder() }).length;
  if (Number(row?.applied ?? 0) < expected) {
    throw new TablesMissingError(
      `mailroom's tables in this database are out of date (${row?.applied ?? 0} of ${expected} migrations applied): run \`mailroom migrate\` against it first.`,
    );
  }
}
