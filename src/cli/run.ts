import { MailroomError } from '../errors.js';
import { redact } from '../store/redact.js';
import { warn } from './terminal.js';
import { resolve } from 'node:path';
import { DEFAULT_DATABASE, openDatabase, type Database } from '../store/database.js';
import { checkEmbeddedFolder } from '../store/embedded-folder.js';
import { requireMigrated } from '../store/migrations.js';
import { queryError } from '../store/query-errors.js';

/** Prints an error as one line a user can act on, and sets a failing exit code. */
export function fail(error: unknown): void {
  // MailroomErrors redact their own URLs; anything else may quote one.
  const message = error instanceof MailroomError ? error.message : redact(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  warn(`mailroom: ${message}`);
  process.exitCode = 1;
}

/**
 * Runs a command body with an open database, closing it whatever happens. Unless the
 * command is `migrate` itself (`tables: false`), a database without mailroom's tables, or
 * with older ones, is refused before the body runs, naming `mailroom migrate` (the embedded
 * database is migrated as it opens).
 */
export async function withDatabase<T>(url: string, body: (database: Database) => Promise<T>, migrate = false, tables = true): Promise<T> {
  announceNewEmbedded(url);
  const database = await openDatabase(url, { migrate });
  try {
    if (tables) {
      try {
        await requireMigrated(database.db);
      } catch (error) {
        throw queryError('check the tables', error);
      }
    }
    return await body(database);
  } finally {
    await database.close().catch(() => {});
  }
}

/**
 * A command run in the wrong folder (a typo in `cd`) would quietly create an empty
 * embedded queue there and report nothing to do: say where a new one is being created.
 * Damaged or foreign folders are left to openDatabase, which refuses them.
 */
function announceNewEmbedded(url: string): void {
  if (!url.startsWith('file:') || url.length === 'file:'.length) return;
  const folder = resolve(url.slice('file:'.length));
  let kind;
  try {
    kind = checkEmbeddedFolder(folder);
  } catch {
    return;
  }
  if (kind === 'new') warn(`creating a new embedded database at ${folder}${url === DEFAULT_DATABASE ? ' (no DATABASE_URL)' : ''}`);
}
