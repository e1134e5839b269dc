// mailroom's migrations beside an app's own Drizzle migrations, on both databases.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { openDatabase, rowsOf, type Db } from '../src/store/database.js';
import { migrationsFolder } from '../src/store/migrations.js';
import { enqueueMail } from '../src/transport/queue-transport.js';
import { DatabaseError } from '../src/errors.js';
import { backends, POSTGRES_ADMIN_URL } from './helpers/databases.js';

/** An empty database the test writes to with Drizzle before mailroom sees it. */
interface Empty {
  url: string;
  /** Runs `body` on a Drizzle db of the database and closes it. */
  with(body: (db: Db, migrate: (folder: string) => Promise<void>) => Promise<void>): Promise<void>;
  drop(): Promise<void>;
}

async function emptyDatabase(kind: 'pglite' | 'postgres'): Promise<Empty> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-appfit-'));
    const folder = join(dir, 'db');
    return {
      url: `file:${folder}`,
      async with(body) {
        const client = await PGlite.create({ dataDir: folder });
        const db = drizzlePglite(client);
        try {
          await body(db, (migrationsFolder) => migratePglite(db, { migrationsFolder }));
        } finally {
          await client.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async with(body) {
      const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const db = drizzlePostgres(client);
      try {
        await body(db, (migrationsFolder) => migratePostgres(db, { migrationsFolder }));
      } finally {
        await client.end({ timeout: 1 });
      }
    },
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}

/** An app's drizzle-kit output: one migration made now, i.e. newer than any of mailroom's. */
function appMigrations(): string {
  const folder = mkdtempSync(join(tmpdir(), 'mailroom-app-migrations-'));
  mkdirSync(join(folder, 'meta'));
  writeFileSync(join(folder, '0000_app.sql'), 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" text NOT NULL);');
  const entries = [{ idx: 0, version: '7', when: Date.now(), tag: '0000_app', breakpoints: true }];
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }));
  return folder;
}

const tables = async (db: Db) =>
  rowsOf<{ name: string }>(await db.execute(sql`select tablename as name from pg_tables where schemaname = 'public' order by 1`)).map((r) => r.name);

const mail = { from: 'app@example.com', to: 'nuria@example.com', subject: 'Hola', text: 'Núria ✓' };

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

for (const backend of await backends()) {
  describe(`migrations beside an app's own (${backend.name})`, () => {
    it('creates mailroom tables after the app ran its own Drizzle migrations', async () => {
      const empty = await emptyDatabase(backend.name);
      cleanup.push(() => empty.drop());
      const folder = appMigrations();
      cleanup.push(async () => rmSync(folder, { recursive: true, force: true }));
      await empty.with((_, migrate) => migrate(folder));

      const database = await openDatabase(empty.url);
      cleanup.push(() => database.close());
      await database.migrate();
      expect(await tables(database.db)).toEqual(['mailroom_attempts', 'mailroom_blocklist', 'mailroom_bounces', 'mailroom_domains', 'mailroom_messages', 'mailroom_settings', 'mailroom_suppressions', 'users']);
      const queued = await enqueueMail(database.db, mail);
      expect(queued.state).toBe('queued');
      // The app's bookkeeping is left as the app wrote it.
      const appRows = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`));
      expect(Number(appRows[0]!.n)).toBe(1);
    });

    it('adopts a database migrated into Drizzle’s default table without running anything again', async () => {
      const empty = await emptyDatabase(backend.name);
      cleanup.push(() => empty.drop());
      const folder = appMigrations();
      cleanup.push(async () => rmSync(folder, { recursive: true, force: true }));
      // What mailroom did before it had its own table, then the app's newer migration.
      await empty.with(async (db, migrate) => {
        await migrate(migrationsFolder());
        await migrate(folder);
        await enqueueMail(db, mail);
      });

      const database = await openDatabase(empty.url);
      cleanup.push(() => database.close());
      await database.migrate(); // would fail on "already exists" if it ran 0000 again
      await database.migrate();
      const own = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*) as n from drizzle.__mailroom_migrations`));
      // Every migration mailroom ships, each recorded once.
      const shipped = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')).entries.length;
      expect(shipped).toBeGreaterThanOrEqual(4);
      expect(Number(own[0]!.n)).toBe(shipped);
      const kept = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*) as n from mailroom_messages`));
      expect(Number(kept[0]!.n)).toBe(1);
    });

    it('fails naming the missing tables when migrating created none', async () => {
      const empty = await emptyDatabase(backend.name);
      cleanup.push(() => empty.drop());
      // Bookkeeping that claims everything is applied, with no tables behind it.
      await empty.with(async (db) => {
        await db.execute(sql`create schema drizzle`);
        await db.execute(sql`create table drizzle.__mailroom_migrations (id serial primary key, hash text not null, created_at bigint)`);
        await db.execute(sql`insert into drizzle.__mailroom_migrations (hash, created_at) values ('x', ${Date.now() * 10})`);
      });
      const failure =
        backend.name === 'pglite'
          ? openDatabase(empty.url) // migrates on open
          : openDatabase(empty.url, { migrate: true });
      await expect(failure).rejects.toThrow(DatabaseError);
      await expect(failure).rejects.toThrow(/mailroom_messages, mailroom_attempts, mailroom_blocklist, mailroom_settings, mailroom_suppressions, mailroom_bounces, mailroom_domains are missing/);
    });
  });
}
