import { DatabaseError, MailroomError, TablesMissingError } from '../errors.js';

/**
 * Errors of the queries that store messages, made safe to log. Drizzle's error reads
 * "Failed query: insert into … params: …", with the whole message (a reset token, an
 * address) as a parameter, and the drivers keep the parameters on theirs: neither is
 * kept, not even as `cause`, which Node prints too. What is left is the server's reason
 * with any value it quotes hidden, and its SQLSTATE code.
 */

// undefined_table, undefined_column, undefined_object (the state enum): `mailroom migrate` was not run.
const NOT_MIGRATED = new Set(['42P01', '42703', '42704']);

type DriverError = { code?: unknown; message?: unknown; cause?: unknown; params?: unknown; parameters?: unknown };

/** The errors of a cause chain, outermost first. */
function chain(error: unknown): DriverError[] {
  const errors: DriverError[] = [];
  for (let e = error; e && typeof e === 'object' && errors.length < 10; e = (e as DriverError).cause) errors.push(e as DriverError);
  return errors;
}

/** Every string inside `value` (arrays and objects included), longest first. */
function strings(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') found.add(value);
  else if (Array.isArray(value)) value.forEach((item) => strings(item, found));
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach((item) => strings(item, found));
  return found;
}

/**
 * The server's text without the values it quotes (identifiers stay) and without any of
 * the message's values it repeats: a trigger or check may (`raise exception '%', new.subject`).
 */
function safeReason(message: string, values: Set<string>): string {
  let text = message.replace(/"([^"]*)"/g, (quoted, inner: string) => (/^[A-Za-z_][A-Za-z0-9_.$]{0,62}$/.test(inner) ? quoted : '"…"'));
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length >= 3) text = text.split(value).join('…');
  }
  return text.replace(/[\0-\x1f\x7f]+/g, ' ').slice(0, 300);
}

/**
 * A store error as mailroom reports it: one line, no query, no parameters, no cause.
 * `values` are the stored message's own (subject, addresses, key), hidden wherever they appear.
 */
export function queryError(doing: string, error: unknown, values: unknown[] = []): Error {
  if (error instanceof MailroomError) return error;
  const errors = chain(error);
  const driver = errors.at(-1) ?? {};
  const code = errors.map((e) => e.code).find((c): c is string => typeof c === 'string');
  if (code && NOT_MIGRATED.has(code)) {
    return new TablesMissingError(`mailroom's tables are missing or out of date in this database: run \`mailroom migrate\` against it, then ${doing} again.`);
  }
  const hidden = strings([values, errors.map((e) => [e.params, e.parameters])]);
  const reason = typeof driver.message === 'string' ? safeReason(driver.message, hidden) : 'unknown error';
  const label = code === undefined ? '' : /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ` (${code})`;
  return new DatabaseError(`Could not ${doing}: ${reason}${label}.`);
}

/** Runs a store operation, reporting its failure through `queryError` with the values it stores. */
export async function storing<T>(doing: string, values: () => unknown[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw queryError(doing, error, values());
  }
}
