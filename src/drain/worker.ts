import type { Database } from '../store/database.js';
import { nextDueInMs } from '../store/status.js';
import { getSetting, PAUSED } from '../store/settings.js';
import { QUEUE_CHANNEL } from '../store/notify.js';
import { drain, type DrainOptions, type DrainResult } from './drain.js';
import { DRAIN_DEFAULTS } from './defaults.js';
import { isConnectionLost, midRunDatabaseError } from './guard.js';
import type { DatabaseError } from '../errors.js';
import { Waker } from './waker.js';
import { throttles } from './domain-limits.js';
import { nextDueThrottledInMs } from './domain-throttle.js';

/** The continuous mode's options: a drain's, minus its stop rules, plus waking and reconnecting. */
export interface WorkerOptions extends Omit<DrainOptions, 'limit' | 'timeLimitSeconds' | 'maxDeferred'> {
  /** Longest sleep between looks at the queue, in ms: the safety net behind NOTIFY. */
  pollIntervalMs?: number;
  /** Called after each drain run that did something. */
  onRun?: (result: DrainResult) => void;
  /** Called when the worker finds sending paused (`mailroom pause`), and again when it is resumed. */
  onPause?: (paused: boolean) => void;
  /**
   * Called once when the database connection is lost (Postgres): the worker then
   * tries again with backoff instead of ending. Without it, a lost database ends it.
   */
  onDatabaseLost?: (error: DatabaseError) => void;
  /** Called once the database answers again after a loss. */
  onDatabaseBack?: () => void;
  /** Backoff between reconnection tries, in ms. */
  reconnect?: { firstMs: number; maxMs: number };
}

/** What a continuous run sent in all, over how many drain runs. */
export interface WorkerTotals {
  sent: number;
  deferred: number;
  failed: number;
  runs: number;
}

const RECONNECT = { firstMs: 500, maxMs: 15_000 };

/**
 * Continuous mode: drain, then sleep until a NOTIFY (a message was queued, made due
 * by a retry, or sending resumed), the next message's due time, or the poll interval,
 * whichever comes first. While `mailroom pause` holds it sends nothing and waits.
 * With `onDatabaseLost`, a lost database connection is waited out with backoff: the
 * claims of the interrupted run come back when their lease ends, and outcomes still
 * being written are retried meanwhile (see `outcomeRetrySeconds`), so an outage
 * shorter than the lease sends nothing twice. Aborting the signal finishes in-flight
 * messages, releases the rest, and resolves.
 */
export async function runWorker(database: Database, options: WorkerOptions): Promise<WorkerTotals> {
  const totals: WorkerTotals = { sent: 0, deferred: 0, failed: 0, runs: 0 };
  const pollIntervalMs = options.pollIntervalMs ?? (database.kind === 'postgres' ? 30_000 : 1_000);
  const reconnect = { ...RECONNECT, ...options.reconnect };
  const reconnects = options.onDatabaseLost !== undefined;
  const leaseSeconds = options.leaseSeconds ?? DRAIN_DEFAULTS.leaseSeconds;
  const drainOptions: DrainOptions = { ...options, outcomeRetrySeconds: reconnects ? leaseSeconds : 0 };
  const waker = new Waker(options.signal);
  let unlisten: (() => Promise<void>) | undefined;
  options.signal?.addEventListener('abort', waker.poke, { once: true });
  let paused = false;
  let lost: DatabaseError | undefined;
  let retryInMs = reconnect.firstMs;
  try {
    while (!options.signal?.aborted) {
      waker.reset();
      try {
        unlisten ??= await database.listen(QUEUE_CHANNEL, waker.poke); // in here: the database may be away at start too
        const nowPaused = (await getSetting(database.db, PAUSED)) !== undefined;
        if (lost) {
          lost = undefined;
          retryInMs = reconnect.firstMs;
          options.onDatabaseBack?.(); // postgres.js re-LISTENs on its own; this run catches up on what we missed
        }
        if (nowPaused !== paused) options.onPause?.((paused = nowPaused));
        if (paused) {
          await waker.sleep(pollIntervalMs); // `resume` notifies
          continue;
        }
        const result = await drain(database.db, drainOptions);
        totals.runs++;
        totals.sent += result.sent;
        totals.deferred += result.deferred;
        totals.failed += result.failed;
        if (result.sent + result.deferred + result.failed > 0) options.onRun?.(result);
        if (options.signal?.aborted) break;
        if (waker.poked) continue; // something arrived while we were draining
        const due = throttles(options.domains) ? await nextDueThrottledInMs(database.db) : await nextDueInMs(database.db);
        const wait = Math.min(pollIntervalMs, due === null ? Infinity : due + 50);
        if (wait > 0) await waker.sleep(wait);
      } catch (error) {
        if (!reconnects || !isConnectionLost(error)) throw error;
        if (!lost) options.onDatabaseLost!((lost = midRunDatabaseError(error, leaseSeconds)));
        await waker.sleep(retryInMs);
        retryInMs = Math.min(reconnect.maxMs, retryInMs * 2);
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', waker.poke);
    await unlisten?.().catch(() => {});
  }
  return totals;
}
