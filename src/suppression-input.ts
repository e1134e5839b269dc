import { ConfigError } from './errors.js';
import { isAddress } from './transport/validate.js';
import { parseTopic } from './views/topic.js';

// What an operator types to suppress an address, checked the same way wherever it is typed:
// `mailroom suppress add|remove` and the preview's Suppressions page.

/** A bare email address, or a ConfigError saying what one looks like. */
export function checkedAddress(address: string): string {
  if (!isAddress(address)) throw new ConfigError(`"${address}" is not an email address: use e.g. someone@example.com.`);
  return address;
}

/**
 * A topic as a suppression's scope: '' (absent or empty) is every message, else it is checked
 * as a message's topic is. `label` names the field in the error (`--topic`).
 */
export function checkedTopic(topic: string | undefined, label?: string): string {
  if (topic === undefined) return '';
  try {
    return parseTopic(topic) ?? '';
  } catch (error) {
    throw new ConfigError(label ? `${label}: ${(error as Error).message}` : (error as Error).message);
  }
}
