import type { Database } from '../store/database.js';
import { nextDueInMs } from '../store/status.js';
import { drain, type DrainOptions, type DrainResult } from './drain.js';

/** The channel the 0001_notify migration's trigger notifies on every insert. */
const QUEUE_CHANNEL = 'mailroom_queue';

export interface WorkerOptions extends Omit<DrainOptions, 'limit' | 'timeLimitSeconds' | 'maxDeferred'> {
  /** Longest sleep between looks at the queue, in ms: the safety net behind NOTIFY. */
  pollIntervalMs?: number;
  /** Called after each drain run that did something. */
  onRun?: (result: DrainResult) => void;
}

export interface WorkerTotals {
  sent: number;
  deferred: number;
  failed: number;
  runs: number;
}

/**
 * Continuous mode: drain, then sleep until a NOTIFY (a message was queued), the next
 * message's due time, or the poll interval, whichever comes first. Aborting the
 * signal finishes in-flight messages, releases the rest, and resolves.
 */
export async function runWorker(database: Database, options: WorkerOptions): Promise<WorkerTotals> {
  const totals: WorkerTotals = { sent: 0, deferred: 0, failed: 0, runs: 0 };
  const pollIntervalMs = options.pollIntervalMs ?? (database.kind === 'postgres' ? 30_000 : 1_000);
  let notified = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    notified = true;
    wake?.();
  };
  const unlisten = await database.listen(QUEUE_CHANNEL, poke);
  options.signal?.addEventListener('abort', poke, { once: true });
  try {
    while (!options.signal?.aborted) {
      notified = false;
      const result = await drain(database.db, options);
      totals.runs++;
      totals.sent += result.sent;
      totals.deferred += result.deferred;
      totals.failed += result.failed;
      if (result.sent + result.deferred + result.failed > 0) options.onRun?.(result);
      if (options.signal?.aborted) break;
      if (notified) continue; // something arrived while we were draining
      const due = await nextDueInMs(database.db);
      const wait = Math.min(pollIntervalMs, due === null ? Infinity : due + 50);
      if (wait <= 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (notified) wake();
      });
      wake = undefined;
    }
  } finally {
    options.signal?.removeEventListener('abort', poke);
    await unlisten().catch(() => {});
  }
  return totals;
}
