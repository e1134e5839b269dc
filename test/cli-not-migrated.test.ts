import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { backends, hasPostgres, POSTGRES_ADMIN_URL } from './helpers/databases.js';
import { mailroom } from './helpers/cli.js';

const ALL = await backends();

/** Every command that reads or writes the queue, with the arguments it needs to get that far. */
const COMMANDS: string[][] = [
  ['send', '--smtp', 'smtp://127.0.0.1:1'],
  ['worker', '--smtp', 'smtp://127.0.0.1:1'],
  ['status'],
  ['status', '--json'],
  ['retry', '--failed'],
  ['purge', '--older-than', '7d'],
  ['block', 'add', 'someone@example.com'],
  ['block', 'remove', 'someone@example.com'],
  ['block', 'list'],
  ['suppress', 'list'],
  ['bounces', '/dev/null'],
  ['pause'],
  ['resume'],
  ['preview', '--port', '0', '--emails', '.'],
];

/** A database created empty, or only partly migrated, on the shared server; dropped after. */
async function scratchDatabase(setup?: (sql: postgres.Sql) => Promise<void>) {
  const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  if (setup) {
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await setup(sql).finally(() => sql.end({ timeout: 1 }));
  }
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}

describe.runIf(hasPostgres(ALL))('every queue command on a Postgres database that was never migrated', () => {
  let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
  beforeAll(async () => (scratch = await scratchDatabase()));
  afterAll(() => scratch.drop());

  it.each(COMMANDS.map((args) => [args.join(' '), args]))('mailroom %s: one line naming `mailroom migrate`, exit 1, no stack', { timeout: 60_000 }, async (_, args) => {
    const { code, stdout, stderr } = await mailroom([...args, '--database', scratch.url]);
    expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
    expect(stderr).toMatch(/^mailroom: mailroom's tables are not in this database \(mailroom_messages, .*\): run `mailroom migrate` against it first\.$/m);
    expect(stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
    expect(stdout).not.toContain('http://');
    expect(code).toBe(1);
  });

  it('mailroom migrate then makes each of them work', { timeout: 180_000 }, async () => {
    const other = await scratchDatabase();
    try {
      expect((await mailroom(['status', '--database', other.url])).code).toBe(1);
      expect((await mailroom(['migrate', '--database', other.url])).code).toBe(0);
      const status = await mailroom(['status', '--json', '--database', other.url]);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
    } finally {
      await other.drop();
    }
  });
});

describe.runIf(hasPostgres(ALL))('a Postgres database migrated by an older mailroom', () => {
  it('is refused with the count of migrations applied, naming `mailroom migrate`', { timeout: 180_000 }, async () => {
    const scratch = await scratchDatabase();
    try {
      expect((await mailroom(['migrate', '--database', scratch.url])).code).toBe(0);
      // The newest migration forgotten, as when the package was upgraded and migrate not run.
      const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
      await sql`delete from drizzle.__mailroom_migrations where id = (select max(id) from drizzle.__mailroom_migrations)`;
      await sql.end({ timeout: 1 });
      const { code, stderr } = await mailroom(['status', '--database', scratch.url]);
      expect(stderr).toMatch(/^mailroom: mailroom's tables in this database are out of date \(\d+ of \d+ migrations applied\): run `mailroom migrate` against it first\.\n$/);
      expect(code).toBe(1);
      expect((await mailroom(['migrate', '--database', scratch.url])).code).toBe(0);
      expect((await mailroom(['status', '--database', scratch.url])).code).toBe(0);
    } finally {
      await scratch.drop();
    }
  });
});

describe('the embedded database is migrated as it opens', () => {
  it('mailroom status on a new folder works (no migrate needed)', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-test-'));
    try {
      const { code, stderr } = await mailroom(['status', '--database', `file:${join(dir, 'db')}`]);
      expect(stderr).not.toContain('migrate');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
