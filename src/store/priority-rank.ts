import { DEFAULT_PRIORITY, PRIORITIES, type Priority } from '../views/priority.js';

// How the queue stores a priority: its place in PRIORITIES (0 now … 3 low) in the
// smallint `priority` column, so the claim's ORDER BY sends the most urgent first.

/** Sort rank stored in the queue: lower is sent first. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/** The priority a stored rank stands for (an unknown rank reads as normal). */
export function priorityFromRank(rank: number): Priority {
  return PRIORITIES[rank] ?? DEFAULT_PRIORITY;
}
