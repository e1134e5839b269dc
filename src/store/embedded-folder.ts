import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseError } from '../errors.js';

/**
 * PGlite runs initdb into any folder that has no `PG_VERSION`, even a non-empty one
 * (it ignores initdb's "exists but is not empty"): a damaged queue came back empty, and
 * `file:` pointed at an unrelated folder wrote a cluster into it. So before PGlite sees
 * a folder we decide what it is, and only an absent or empty folder is ever initialised.
 * A damaged or foreign one is an error that names the recovery; nothing is written.
 */
export type EmbeddedFolder = 'new' | 'existing';

/** What every cluster PGlite writes holds, and opens only with (checked on PGlite 0.5, Postgres 18). */
const REQUIRED = ['PG_VERSION', 'global/pg_control', 'base', 'pg_wal', 'pg_xact', 'postgresql.conf'];
/** Any of these says the folder was a Postgres data folder once, so a missing part is damage. */
const CLUSTER_MARKERS = [...REQUIRED, 'global', 'pg_multixact', 'pg_subtrans', 'pg_tblspc', 'pg_logical', 'pg_hba.conf', 'postgresql.auto.conf'];
/** A WAL segment: Postgres cannot start without the one its last checkpoint is in. */
const WAL_SEGMENT = /^[0-9A-F]{24}$/;

function entries(path: string): string[] | null {
  try {
    return readdirSync(path);
  } catch {
    return null;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Checks `folder` before PGlite opens it: `new` (absent or empty) or `existing` (a whole cluster); throws otherwise. */
export function checkEmbeddedFolder(folder: string): EmbeddedFolder {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(folder).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw new DatabaseError(`Cannot read the embedded database folder ${folder}: ${(error as Error).message}.`, { cause: error });
  }
  if (!isDirectory) {
    throw new DatabaseError(`The embedded database path ${folder} is a file, not a folder: nothing was written. Use file:PATH with a new or empty folder.`);
  }
  const names = entries(folder);
  if (names === null) throw new DatabaseError(`Cannot read the embedded database folder ${folder}: check its permissions.`);
  if (names.length === 0) return 'new';

  if (!CLUSTER_MARKERS.some((name) => exists(join(folder, name)))) {
    throw new DatabaseError(
      `${folder} is not empty and is not a mailroom database (no PG_VERSION): nothing was written to it. ` +
        `Point file:PATH (DATABASE_URL or --database) at a new or empty folder, e.g. file:.mailroom/db.`,
    );
  }
  const missing = REQUIRED.filter((name) => !exists(join(folder, name)));
  const wal = entries(join(folder, 'pg_wal'));
  if (wal && !wal.some((name) => WAL_SEGMENT.test(name))) missing.push('pg_wal/<WAL segment>');
  if (missing.length > 0) {
    throw new DatabaseError(
      `The embedded database at ${folder} is damaged (missing ${missing.join(', ')}): nothing was changed or deleted. ` +
        recovery(folder),
    );
  }
  return 'existing';
}

/** The way out of a damaged folder, for every message that finds one. */
export function recovery(folder: string): string {
  return (
    `To recover, stop every mailroom process, move the folder aside (mv "${folder}" "${folder}.damaged") and put back a copy ` +
    `of the whole folder from your backup; to start over with an empty queue instead, leave it aside and mailroom creates a new one.`
  );
}

/**
 * Appended to a failure to start PGlite on a folder that passed the check: its files are
 * all there but their content is not a cluster Postgres can start (PGlite aborts).
 */
export function startFailureAdvice(folder: string, error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  if (!/Aborted|ExitStatus|unreachable|RuntimeError|failed to initiali[sz]e/i.test(`${(error as Error)?.name} ${text}`)) return '';
  return `. The folder may be damaged; nothing was deleted. ${recovery(folder)}`;
}
