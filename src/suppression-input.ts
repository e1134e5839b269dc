import { ConfigError } from './errors.js';
import { parseTopic } from './views/topic.js';

// The topic an operator types to scope a suppression, checked the same way wherever it is typed:
// `mailroom suppress add|remove|list` and the preview's Suppressions page. (The address is
// checked by transport/validate.ts checkedAddress, which suppress() itself uses.)

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
