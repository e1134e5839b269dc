import { sql, type SQL } from 'drizzle-orm';
import type { MessageState } from './schema.js';

// Message states named once (MESSAGE_STATES in schema.ts): queries take them from here
// instead of spelling them as SQL literals, so a misspelt state does not compile.

/** Waiting for a drain: due once `next_attempt_at` has come. */
export const WAITING_STATES = ['queued', 'deferred'] as const satisfies readonly MessageState[];

/** A state as an SQL value of the enum type, for CASE expressions Drizzle cannot type. */
export function stateSql(state: MessageState): SQL {
  return sql.raw(`'${state}'::mailroom_message_state`);
}
