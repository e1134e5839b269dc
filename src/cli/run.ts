import { MailroomError } from '../errors.js';
import { redact } from '../store/redact.js';
import { warn } from './terminal.js';
import { openDatabase, type Database } from '../store/database.js';

/** Prints an error as one line a user can act on, and sets a failing exit code. */
export function fail(error: unknown): void {
  // MailroomErrors redact their own URLs; anything else may quote one.
  const message = error instanceof MailroomError ? error.message : redact(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  warn(`mailroom: ${message}`);
  process.exitCode = 1;
}

/** Runs a command body with an open database, closing it whatever happens. */
export async function withDatabase<T>(url: string, body: (database: Database) => Promise<T>, migrate = false): Promise<T> {
  const database = await openDatabase(url, { migrate });
  try {
    return await body(database);
  } finally {
    await database.close().catch(() => {});
  }
}
