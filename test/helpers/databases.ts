import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/store/database.js';

/** The server tests create their databases on; CI must reach it (see .ci/run). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database and its URL. */
  create(): Promise<{ url: string; database: Database; drop(): Promise<void> }>;
}

let reachable: Promise<boolean> | undefined;

/** Asked once per test process, so every file in it sees the same answer. */
function postgresReachable(): Promise<boolean> {
  return (reachable ??= probePostgres());
}

async function probePostgres(): Promise<boolean> {
  const sql = postgres(POSTGRES_ADMIN_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export const pglite: Backend = {
  name: 'pglite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-test-'));
    const url = `file:${join(dir, 'db')}`;
    const database = await openDatabase(url);
    return {
      url,
      database,
      async drop() {
        await database.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const pg: Backend = {
  name: 'postgres',
  async create() {
    const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const database = await openDatabase(url.toString(), { migrate: true });
    return {
      url: url.toString(),
      database,
      async drop() {
        await database.close().catch(() => {});
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end({ timeout: 1 });
      },
    };
  },
};

/**
 * Both backends, so every suite runs on each. Postgres missing is a failure in CI
 * (CI=true) and, elsewhere, a loud skip of every Postgres run in every file: each file
 * asks here (Postgres-only suites with `describe.runIf(hasPostgres(ALL))`), never on its own.
 */
export async function backends(): Promise<Backend[]> {
  if (await postgresReachable()) return [pglite, pg];
  if (process.env.CI) throw new Error(`Postgres is not reachable at ${POSTGRES_ADMIN_URL}: CI needs it (see .ci/run).`);
  console.warn(`[mailroom tests] Postgres not reachable at ${POSTGRES_ADMIN_URL}: SKIPPING every Postgres test; running on PGlite only.`);
  return [pglite];
}

/** Whether `backends()` included Postgres. */
export const hasPostgres = (all: Backend[]): boolean => all.some((b) => b.name === 'postgres');
