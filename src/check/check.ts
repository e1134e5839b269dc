import type { Catalog } from '../preview/templates.js';

/**
 * `mailroom check`: checks an app's emails before they ship (in CI). Each check is one
 * module with a name and a `run`; add a check by adding it to checks() in
 * src/cli/commands/check.ts. Errors fail the command, warnings are printed only.
 */
export interface Problem {
  severity: 'error' | 'warning';
  /** Where to fix it: a file, a file and key, a view and locale. */
  where: string;
  message: string;
}

/**
 * Default for `--max-message-size`: 10,240,000 bytes (9.8 MB), Postfix's default `message_size_limit`, the smallest limit common among receiving servers (Gmail takes 25 MB,
 * Outlook.com 20 MB after encoding). The size is the stored message, attachments
 * base64-encoded, as the receiving server counts it.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 10_240_000;

/** What every check gets: the emails folder as the preview loads it (templates, views). */
export interface CheckContext {
  emailsDir: string;
  catalog: Catalog;
  /** Limits given on the command line or in the config (`check.maxMessageSize`). */
  options?: { maxMessageBytes?: number };
}

export interface Check {
  /** Shown as the section heading: `translations`. */
  name: string;
  run(context: CheckContext): Promise<Problem[]>;
}

export interface CheckReport {
  check: string;
  problems: Problem[];
}

/** Runs every check in order; one that throws is reported as its own error, the others still run. */
export async function runChecks(checks: Check[], context: CheckContext): Promise<CheckReport[]> {
  const reports: CheckReport[] = [];
  for (const check of checks) {
    try {
      reports.push({ check: check.name, problems: await check.run(context) });
    } catch (error) {
      reports.push({ check: check.name, problems: [{ severity: 'error', where: context.emailsDir, message: `the check itself failed: ${(error as Error)?.message ?? String(error)}` }] });
    }
  }
  return reports;
}
