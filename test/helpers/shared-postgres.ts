import { afterAll, beforeAll, beforeEach } from 'vitest';
import { messages } from '../../src/store/schema.js';
import type { Database } from '../../src/store/database.js';
import { pg } from './databases.js';

/**
 * One Postgres database for a whole suite, emptied of messages before each test
 * (cheaper than a database per test for the multi-process suites).
 */
export function sharedPostgres(): { created: () => Awaited<ReturnType<typeof pg.create>>; db: () => Database['db'] } {
  let created: Awaited<ReturnType<typeof pg.create>>;
  beforeAll(async () => {
    created = await pg.create();
  });
  afterAll(() => created?.drop());
  beforeEach(async () => {
    await created.database.db.delete(messages);
  });
  return { created: () => created, db: () => created.database.db };
}
