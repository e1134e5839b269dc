import { afterAll, beforeAll, beforeEach } from 'vitest';
import { messages } from '../../src/store/schema.js';
import { openDatabase, type Database, type Db } from '../../src/store/database.js';
import type { Backend } from './databases.js';

export interface SharedDatabase {
  url(): string;
  db(): Db;
  /**
   * Runs `body` while another process may use the database: the embedded one serves
   * one process at a time, so it is closed meanwhile and reopened after.
   */
  handOver<T>(body: (url: string) => Promise<T>): Promise<T>;
}

/**
 * One database of `backend` for a whole suite, emptied of messages (and their attempts)
 * before each test: cheaper than a database per test for the slower suites.
 */
export function sharedDatabase(backend: Backend): SharedDatabase {
  let created: Awaited<ReturnType<Backend['create']>>;
  let database: Database;
  beforeAll(async () => {
    created = await backend.create();
    database = created.database;
  });
  afterAll(async () => {
    if (database !== created?.database) await database?.close();
    await created?.drop();
  });
  beforeEach(async () => {
    await database.db.delete(messages);
  });
  return {
    url: () => created.url,
    db: () => database.db,
    async handOver(body) {
      if (backend.name !== 'pglite') return body(created.url);
      await database.close();
      try {
        return await body(created.url);
      } finally {
        database = await openDatabase(created.url);
      }
    },
  };
}
