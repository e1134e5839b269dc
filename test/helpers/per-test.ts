import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Database } from 'mailroom';
import type { Backend } from './databases.js';
import { startSmtp, type TestSmtp } from './smtp.js';

export interface PerTest {
  /** This test's fresh database and its URL. */
  db: Awaited<ReturnType<Backend['create']>>;
  database: Database;
  /** One SMTP server for the suite, emptied before each test. */
  smtp: TestSmtp;
}

/** Registers the hooks of a storage suite: an SMTP server for the suite, a fresh database per test. */
export function perTest(backend: Backend): PerTest {
  const fx = {} as PerTest;
  beforeAll(async () => {
    fx.smtp = await startSmtp();
  });
  afterAll(() => fx.smtp.close());
  beforeEach(async () => {
    fx.db = await backend.create();
    fx.database = fx.db.database;
    fx.smtp.received.length = 0;
  });
  afterEach(() => fx.db.drop());
  return fx;
}
