import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin/mailroom.js');
export const PROCS = fileURLToPath(new URL('../procs/', import.meta.url));
export const NODE = process.execPath;

/** A scratch folder for this run (in /dev/shm when there is one: no disk in the way). */
export function scratch(prefix: string): string {
  try {
    return mkdtempSync(`/dev/shm/mailroom-bench-${prefix}-`);
  } catch {
    return mkdtempSync(join(tmpdir(), `mailroom-bench-${prefix}-`));
  }
}


/** The environment `mailroom` commands get: nothing inherited that would change where they go. */
export const cliEnv = (databaseUrl: string, smtpUrl?: string) => ({
  DATABASE_URL: databaseUrl,
  SMTP_URL: smtpUrl,
  MAILROOM_PAUSED: undefined,
});
