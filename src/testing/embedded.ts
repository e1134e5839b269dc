import type { PGlite } from '@electric-sql/pglite';
import type { Db } from '../store/database.js';
import { migrateMailroom } from '../store/migrations.js';
import { pgliteBytea } from '../store/pglite-bytea.js';
import { loadOptional } from '../optional.js';
import { truncateAll } from './reset.js';

/** An in-memory embedded database with mailroom's tables, lent to one test mailroom at a time. */
export interface Embedded {
  client: PGlite;
  db: Db;
  /** While idle: the timer that closes it if no test mailroom takes it. */
  expiry?: NodeJS.Timeout | undefined;
}

/**
 * How long a given-back database waits for the next test mailroom. PGlite keeps a 10 s
 * timer of its own after each query, which would hold the test process open that long
 * after the last test (node:test waits, jest warns); closed, it lets the process exit.
 * Tests that create one each take it again within this time.
 */
const IDLE_MS = 500;

/**
 * Starting PGlite and migrating takes about a second, far too long per test; emptying
 * its tables takes milliseconds. So a closed test mailroom gives its database back here
 * and the next one in this process takes it, emptied. One is created only when every
 * one is in use (tests running side by side each get their own).
 */
const idle: Embedded[] = [];

export async function takeEmbedded(): Promise<Embedded> {
  const reused = idle.pop();
  if (reused) {
    clearTimeout(reused.expiry);
    await truncateAll(reused.db);
    return reused;
  }
  const [{ PGlite }, { drizzle }] = await Promise.all([
    loadOptional(() => import('@electric-sql/pglite'), 'mailroom/testing (its in-memory database)', ['@electric-sql/pglite']),
    import('drizzle-orm/pglite'),
  ]);
  // In memory: nothing on disk to clean up. A small buffer pool: PGlite zeroes it all at start.
  const client = await PGlite.create({ ...pgliteBytea, startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] });
  const db: Db = drizzle(client);
  await migrateMailroom(db);
  return { client, db };
}

export function giveBack(embedded: Embedded): void {
  idle.push(embedded);
  embedded.expiry = setTimeout(() => {
    idle.splice(idle.indexOf(embedded), 1);
    embedded.client.close().catch(() => {});
  }, IDLE_MS);
  embedded.expiry.unref(); // never what keeps the process alive
}
