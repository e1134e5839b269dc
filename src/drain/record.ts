import type { Db } from '../store/database.js';
import type { RecipientStatus } from '../store/schema.js';
import { errorCode, isDataError, retryConflicts } from './guard.js';
import { recordOutcomes, type PlannedOutcome } from './outcome.js';

/**
 * Writes outcomes so that one message's data never fails another's, and an outcome
 * the database refuses never becomes a resend loop:
 *
 * 1. all in one statement, the usual case;
 * 2. the database refused that statement's data (not the connection): each alone;
 * 3. one still refused: its simplest form, the state and recipient states with no
 *    server text, so a message that went out is still recorded as sent.
 *
 * A message refused even then stays `sending`: it comes back when its lease ends and,
 * since every claim counts an attempt, is given up at max attempts (see claim.ts).
 * A statement lost to a deadlock or serialization conflict is run again (retryConflicts).
 * A lost connection is not a data problem: it is thrown, for the drain to stop.
 * Returns the ids whose outcome could not be written at all.
 */
export async function recordSafely(db: Db, owner: string, planned: PlannedOutcome[]): Promise<{ unrecorded: number[] }> {
  const together = await refusedBy(() => recordOutcomes(db, owner, planned));
  if (together === undefined) return { unrecorded: [] };
  const unrecorded: number[] = [];
  for (const outcome of planned) {
    const alone = planned.length === 1 ? together : await refusedBy(() => recordOutcomes(db, owner, [outcome]));
    if (alone === undefined) continue;
    if ((await refusedBy(() => recordOutcomes(db, owner, [simplest(outcome, alone)]))) !== undefined) unrecorded.push(outcome.id);
  }
  return { unrecorded };
}

/** Undefined when the write went through, the error when the database refused its data; other errors are thrown. */
async function refusedBy(write: () => Promise<void>): Promise<unknown> {
  try {
    await retryConflicts(write); // one statement: rolled back whole, so its retry records nothing twice
    return undefined;
  } catch (error) {
    if (!isDataError(error)) throw error;
    return error;
  }
}

/** An outcome reduced to what cannot be refused for its content: states, no server text. */
export function simplest(outcome: PlannedOutcome, cause?: unknown): PlannedOutcome {
  const status: RecipientStatus = {};
  for (const [recipient, { state }] of Object.entries(outcome.recipient_status)) status[recipient] = { state };
  const code = errorCode(cause);
  return {
    ...outcome,
    recipient_status: status,
    last_error: outcome.state === 'sent' ? null : `the server's reply could not be stored${code ? ` (${code})` : ''}`,
    smtp_code: null,
    reply: '',
  };
}
