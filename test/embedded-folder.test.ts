import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { messages } from '../src/store/schema.js';
import { DatabaseError } from '../src/errors.js';
import { seedMessages } from './helpers/seed.js';
import { mailroom } from './helpers/cli.js';

/** Every path under `dir` with its size and mtime: any write, deletion or creation changes it. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path);
    out.push(`${relative(dir, path)} ${stat.isDirectory() ? 'dir' : stat.size} ${stat.mtimeMs}`);
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(dir);
  return out;
}

let root: string;
/** One healthy database with queued messages, copied for each case (initdb is slow). */
let healthy: string;
let seeded: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mailroom-folder-'));
  healthy = join(root, 'healthy');
  const database = await openDatabase(`file:${healthy}`);
  seeded = await seedMessages(database.db, 3);
  await database.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let copies = 0;
function copyOfHealthy(): string {
  const folder = join(root, `copy-${++copies}`);
  cpSync(healthy, folder, { recursive: true });
  return folder;
}

async function queuedIds(folder: string): Promise<string[]> {
  const database = await openDatabase(`file:${folder}`);
  try {
    return (await database.db.select({ id: messages.messageId }).from(messages).orderBy(messages.id)).map((r) => r.id);
  } finally {
    await database.close();
  }
}

async function refusal(folder: string): Promise<DatabaseError> {
  const error = await openDatabase(`file:${folder}`).then(
    async (database) => {
      await database.close();
      throw new Error(`${folder} opened`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseError);
  return error as DatabaseError;
}

describe('the embedded database folder', () => {
  it('opens a whole database with its queue', async () => {
    expect(await queuedIds(copyOfHealthy())).toEqual(seeded);
  });

  // Each way of losing part of a cluster: refused with the recovery named, nothing touched,
  // and the queue is all there once the part is put back.
  const damages: [string, string][] = [
    ['PG_VERSION', 'PG_VERSION'],
    ['global/pg_control', 'global/pg_control'],
    ['base', 'base'],
    ['pg_wal', 'pg_wal'],
    ['the WAL segments', 'pg_wal/000000010000000000000001'],
    ['postgresql.conf', 'postgresql.conf'],
  ];
  it.each(damages)('refuses a folder missing %s and changes nothing', async (_what, part) => {
    const folder = copyOfHealthy();
    const aside = join(root, `aside-${copies}`);
    cpSync(join(folder, part), aside, { recursive: true });
    rmSync(join(folder, part), { recursive: true });
    const before = snapshot(folder);
    const error = await refusal(folder);
    expect(error.message).toContain(`The embedded database at ${folder} is damaged`);
    expect(error.message).toContain(`mv "${folder}" "${folder}.damaged"`);
    expect(error.message).toMatch(/nothing was changed or deleted/);
    expect(snapshot(folder)).toEqual(before);
    // What the message promises: put the part back (a restore) and the queue is intact.
    cpSync(aside, join(folder, part), { recursive: true });
    expect(await queuedIds(folder)).toEqual(seeded);
  });

  it('a folder whose files are all there but garbled: the error names the recovery, nothing is deleted', async () => {
    const folder = copyOfHealthy();
    writeFileSync(join(folder, 'global', 'pg_control'), Buffer.alloc(8192, 0x5a));
    const names = snapshot(folder).map((line) => line.split(' ')[0]);
    const error = await refusal(folder);
    expect(error.message).toContain(`Cannot open the embedded database at ${folder}`);
    expect(error.message).toContain(`mv "${folder}" "${folder}.damaged"`);
    expect(snapshot(folder).map((line) => line.split(' ')[0])).toEqual(names); // nothing deleted (nor added)
  });

  it('never writes into a non-empty folder that is not a database', async () => {
    const folder = join(root, 'project');
    mkdirSync(join(folder, 'src'), { recursive: true });
    writeFileSync(join(folder, 'notes.txt'), 'mine');
    writeFileSync(join(folder, 'src', 'app.ts'), 'export {}');
    const before = snapshot(folder);
    const error = await refusal(folder);
    expect(error.message).toContain(`${folder} is not empty and is not a mailroom database`);
    expect(snapshot(folder)).toEqual(before);
    // A lone dotfile is not "empty" either.
    const dotted = join(root, 'dotted');
    mkdirSync(dotted);
    writeFileSync(join(dotted, '.keep'), '');
    await refusal(dotted);
    expect(readdirSync(dotted)).toEqual(['.keep']);
  });

  it('refuses a file', async () => {
    const file = join(root, 'file.txt');
    writeFileSync(file, 'not a folder');
    expect((await refusal(file)).message).toContain('is a file, not a folder');
    expect(statSync(file).size).toBe(12);
  });

  it('creates a database in an empty folder', async () => {
    const folder = join(root, 'empty');
    mkdirSync(folder);
    expect(await queuedIds(folder)).toEqual([]);
    expect(readdirSync(folder)).toContain('PG_VERSION');
  });

  it('the CLI says it in one line, exit 1', async () => {
    const folder = copyOfHealthy();
    rmSync(join(folder, 'PG_VERSION'));
    const before = snapshot(folder);
    const { code, stderr } = await mailroom(['status', '--database', `file:${folder}`]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('is damaged (missing PG_VERSION)');
    expect(snapshot(folder)).toEqual(before);
  });
});
