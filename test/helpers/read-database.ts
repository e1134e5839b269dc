import { openDatabase, type Database } from '../../src/store/database.js';

/**
 * Opens the database at `url` for `body` and closes it after: a test reads what the CLI
 * left between runs (the embedded database is one process at a time, so it is never kept open).
 */
export async function readDatabase<T>(url: string, body: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(url);
  try {
    return await body(database);
  } finally {
    await database.close();
  }
}
