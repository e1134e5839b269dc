import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, rowsOf, type Database } from '../src/store/database.js';

/**
 * The embedded database runs in a thread of its own (src/store/pglite-thread.ts): what
 * crosses between the threads must arrive as PGlite itself would have given it, and the
 * app's thread must go on while a statement runs.
 */
describe('the embedded database in its own thread', () => {
  let root: string;
  let database: Database;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mailroom-thread-'));
    database = await openDatabase(`file:${join(root, 'a')}`);
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('the app’s thread goes on while a long statement runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    try {
      await database.db.execute(sql`select count(*) from generate_series(1, 3000000)`);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - started;
    // Run in this thread, the statement would have blocked every timer until it ended.
    expect(took).toBeGreaterThan(50);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('bytes of every value, text in any script and errors with their SQLSTATE cross unchanged', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const text = 'Grüße, 東京, مرحبا, 🙂, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
    const [row] = rowsOf<{ b: Buffer; t: string }>(await database.db.execute(sql`select ${bytes}::bytea as b, ${text}::text as t`));
    expect(Buffer.isBuffer(row!.b)).toBe(true);
    expect(row!.b.equals(bytes)).toBe(true);
    expect(row!.t).toBe(text);
    const error = await database.db.execute(sql`select 1 / 0`).catch((e: unknown) => e);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause ?? (error as { code?: string; message?: string });
    expect(cause.code).toBe('22012');
    expect(cause.message).toMatch(/division by zero/);
  });

  it('a transaction that throws is rolled back, one that returns is committed', async () => {
    await database.db.execute(sql`create table if not exists thread_probe (v text)`);
    await expect(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into thread_probe values ('rolled back')`);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into thread_probe values ('kept')`);
    });
    const rows = rowsOf<{ v: string }>(await database.db.execute(sql`select v from thread_probe`));
    expect(rows.map((r) => r.v)).toEqual(['kept']);
  });

  it('two databases share the thread; closing one leaves the other open', async () => {
    const other = await openDatabase(`file:${join(root, 'b')}`);
    await other.db.execute(sql`create table only_in_b (v int)`);
    await other.close();
    const [row] = rowsOf<{ b: string | null }>(await database.db.execute(sql`select to_regclass('only_in_b')::text as b`));
    expect(row!.b).toBeNull();
    const error = await other.db.execute(sql`select 1`).catch((e: unknown) => e as { cause?: Error });
    expect(error?.cause?.message).toMatch(/closed/);
  }, 120_000);

  it('a process that never closes its embedded database still exits when its work is done', async () => {
    const folder = join(root, 'c');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/embedded/no-close.ts'), folder], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('exit', (c) => (clearTimeout(timer), resolve(c)));
    });
    expect(out).toContain('messages 0');
    expect(code).toBe(0);
  }, 120_000);
});
