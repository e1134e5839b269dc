import { InvalidPriorityError } from '../errors.js';

/**
 * The header any nodemailer message may carry to ask the queue transport for a
 * priority (which removes it). A view's priority travels as the `queuePriority`
 * option instead (message-options.ts), so it never reaches the wire through SMTP.
 */
export const PRIORITY_HEADER = 'X-Mail-Queue-Priority';

/** From most to least urgent. `now` is tried at once and otherwise queued as `high`. */
export const PRIORITIES = ['now', 'high', 'normal', 'low'] as const;
/** A queue priority: `now`, `high`, `normal` or `low`. */
export type Priority = (typeof PRIORITIES)[number];
/** The priority of a message that names none. */
export const DEFAULT_PRIORITY: Priority = 'normal';

function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}

/** Reads a header value; absent means the default, anything unknown is an error. */
export function parsePriority(value: unknown): Priority {
  if (value === undefined || value === null || value === '') return DEFAULT_PRIORITY;
  const text = String(value).trim().toLowerCase();
  if (isPriority(text)) return text;
  throw new InvalidPriorityError(
    `Unknown ${PRIORITY_HEADER} value ${JSON.stringify(String(value))}: use one of ${PRIORITIES.join(', ')}.`,
  );
}
