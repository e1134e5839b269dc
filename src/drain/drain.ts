import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { release, type ClaimedMessage } from './claim.js';
import type { Delivery } from './deliver.js';
import { OutcomeWriter } from './outcome.js';
import { recordSafely } from './record.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { LeaseKeeper } from './lease.js';
import { isConnectionLost, QueryGuard } from './guard.js';
import { freshenStatistics } from './statistics.js';
import { newOwner } from './owner.js';
import { DRAIN_DEFAULTS, defaultBatchSize, unwrittenPerLane } from './defaults.js';
import { StopRules } from './stop-rules.js';
import { ClaimAhead } from './claim-ahead.js';
import { OneAtATime, Pacer, runLane, type LaneContext } from './lane.js';
import { throttles, type DomainLimits } from './domain-limits.js';
import { DomainThrottle } from './domain-throttle.js';

/** How one drain run sends: the SMTP pool, how much at once, and when to stop. */
export interface DrainOptions {
  /** A pooled SMTP transporter (see createSmtpTransport). */
  smtp: Transporter;
  /** Most messages this run. */
  limit?: number;
  /** Messages sent at once (default 5); match the pool's maxConnections. */
  concurrency?: number;
  /** Messages claimed per query (default: 20 × concurrency, between 25 and 500). */
  batchSize?: number;
  /** Seconds a claim lasts before another drain may take the message back (default 300). */
  leaseSeconds?: number;
  backoff?: Partial<BackoffOptions>;
  /** Stop claiming after this many seconds. */
  timeLimitSeconds?: number;
  /** Stop after this many deferrals in this run (a failing server). */
  maxDeferred?: number;
  /** At most this many messages started per second. */
  rate?: number;
  /**
   * Limits per recipient domain (messages in flight, messages per second), held across
   * every drain sharing the database; a 421/450/451 backs that domain off. See domain-throttle.ts.
   */
  domains?: DomainLimits;
  /**
   * Seconds an outcome write keeps retrying a lost database connection (default 0).
   * A long-lived worker sets it to the lease: the run ends at once, but a message that
   * went out still gets recorded when the database is back, and is not sent again.
   */
  outcomeRetrySeconds?: number;
  /** Abort to stop: in-flight messages finish, the rest are released. */
  signal?: AbortSignal;
  owner?: string;
  onDelivery?: (message: ClaimedMessage, delivery: Delivery) => void;
  /** Called when a claim took messages back from another drain whose lease ran out (it died or stalled): how many. */
  onLeaseExpiries?: (count: number) => void;
}

import type { StopReason } from './stop-rules.js';
/** Why a run ended (see stop-rules.ts). */
export type { StopReason };

/** What one drain run did, and why it stopped. */
export interface DrainResult {
  sent: number;
  deferred: number;
  failed: number;
  released: number;
  /** Outcomes the database refused even in their simplest form: those messages come back after their lease. */
  unrecorded: number;
  stopped: StopReason;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `write` again while the connection is lost, until `until` (a time); other errors are thrown at once. */
async function whileLost<T>(write: () => Promise<T>, until: number): Promise<T> {
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await write();
    } catch (error) {
      if (!isConnectionLost(error) || Date.now() + wait > until) throw error;
      await sleep(wait);
    }
  }
}

/**
 * One run of the queue: claim due messages in batches (claim-ahead.ts), send them on
 * `concurrency` lanes (lane.ts), record each outcome, until the queue is empty or a
 * stop rule holds (stop-rules.ts). A database failure stops the run with a
 * DatabaseError (the claims come back when their lease ends); an abort stops it
 * cleanly: in-flight messages finish, the rest are released.
 */
export async function drain(db: Db, options: DrainOptions): Promise<DrainResult> {
  const owner = options.owner ?? newOwner();
  const concurrency = Math.max(1, options.concurrency ?? DRAIN_DEFAULTS.concurrency);
  const batchSize = Math.max(1, options.batchSize ?? defaultBatchSize(concurrency));
  const leaseSeconds = options.leaseSeconds ?? DRAIN_DEFAULTS.leaseSeconds;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const deadline = options.timeLimitSeconds ? Date.now() + options.timeLimitSeconds * 1000 : Infinity;
  const result: DrainResult = { sent: 0, deferred: 0, failed: 0, released: 0, unrecorded: 0, stopped: 'empty' };
  const guard = new QueryGuard(leaseSeconds);
  const lease = new LeaseKeeper(db, owner, leaseSeconds, guard);
  const limits = { signal: options.signal, maxDeferred: options.maxDeferred, deadline, limit: options.limit ?? Infinity };
  const stop = new StopRules(limits, () => result.deferred, guard);
  const throttle = throttles(options.domains) ? new DomainThrottle(db, owner, options.domains, backoff) : undefined;
  const queue = new ClaimAhead({ db, owner, batchSize, concurrency, leaseSeconds, maxAttempts: backoff.maxAttempts, throttle }, guard, lease, stop, ({ spent, takenOver }) => {
    result.failed += spent;
    if (takenOver > 0) options.onLeaseExpiries?.(takenOver);
  });
  const lane: LaneContext = {
    db,
    owner,
    smtp: options.smtp,
    backoff,
    guard,
    lease,
    queue,
    stop,
    writer: outcomeWriter(db, owner, guard, result, options.outcomeRetrySeconds ?? 0),
    pacer: options.rate ? new Pacer(options.rate, deadline) : undefined,
    large: new OneAtATime(),
    throttle,
    unwritten: unwrittenPerLane(concurrency),
    count: (outcome) => result[outcome]++,
    late: [],
    onDelivery: options.onDelivery,
  };
  try {
    await guard.run(() => freshenStatistics(db)); // a stale plan sorts the whole queue per claim
    const lanes = Array.from({ length: concurrency }, () =>
      runLane(lane).catch((error) => {
        stop.crashed ||= !guard.failure;
        throw error;
      }),
    );
    // A lost database ends the run now: in-flight writes may never settle (see QueryGuard).
    await Promise.race([Promise.all(lanes), guard.failed]);
    await queue.settled();
    result.stopped = stop.reason() ?? 'empty';
    const untried = [...queue.takeUntried(), ...lane.late];
    if (untried.length) {
      await guard.run(() => release(db, owner, untried));
      result.released += untried.length;
      stop.gaveBack(untried.length);
    }
  } finally {
    lease.stop();
  }
  return result;
}

/**
 * Outcomes are written in one statement per gathering, overlapping the next sends; one
 * the database refuses falls back to smaller writes, never failing the others. A lost
 * connection is retried for `retrySeconds` (a long-lived worker's outage), then stops the run.
 */
function outcomeWriter(db: Db, owner: string, guard: QueryGuard, result: DrainResult, retrySeconds: number): OutcomeWriter {
  return new OutcomeWriter(async (planned) => {
    const until = Date.now() + retrySeconds * 1000;
    const { unrecorded } = await guard.run(() => whileLost(() => recordSafely(db, owner, planned), until));
    result.unrecorded += unrecorded.length;
  }, sideBySide(db) ? 2 : 1);
}

/**
 * Whether `db` runs statements side by side: a Postgres server through postgres.js (its
 * client is a function) does; PGlite runs one at a time, and another driver is not assumed to.
 */
function sideBySide(db: Db): boolean {
  return typeof (db as { $client?: unknown }).$client === 'function';
}
