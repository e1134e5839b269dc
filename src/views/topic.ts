import { InvalidMessageError } from '../errors.js';

/**
 * The header a plain nodemailer message may carry to name its topic (the queue transport
 * removes it); a view's `topic` travels as the `queueTopic` option instead.
 */
export const TOPIC_HEADER = 'X-Mail-Queue-Topic';

/** A topic is a short name that fits in a URL token and a CLI argument: `newsletter`, `product-updates`. */
const TOPIC = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A topic as given (option or header), or null for none; anything that is not a short lower-case name is an error. */
export function parseTopic(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const text = String(value).trim();
  if (TOPIC.test(text)) return text;
  throw new InvalidMessageError(
    `Topic ${JSON.stringify(String(value).slice(0, 80))} is not a topic name: use 1 to 64 lower-case letters, digits, ".", "_" or "-", e.g. "newsletter".`,
  );
}
