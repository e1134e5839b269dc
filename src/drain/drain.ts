import { newOwner } from './owner.js';
import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { blockedAmong } from '../store/blocklist.js';
import { claim, loadRaw, release, type ClaimedMessage } from './claim.js';
import type { Delivery } from './deliver.js';
import { attemptDelivery } from './attempt.js';
import { OutcomeWriter, planOutcome } from './outcome.js';
import { recordSafely } from './record.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { LeaseKeeper } from './lease.js';
import { isConnectionLost, QueryGuard } from './guard.js';
import { freshenStatistics } from './statistics.js';

export interface DrainOptions {
  /** A pooled SMTP transporter (see createSmtpTransport). */
  smtp: Transporter;
  /** Most messages this run. */
  limit?: number;
  /** Messages sent at once; match the pool's maxConnections. */
  concurrency?: number;
  /** Messages claimed per query. */
  batchSize?: number;
  /** Seconds a claim lasts before another drain may take the message back. */
  leaseSeconds?: number;
  backoff?: Partial<BackoffOptions>;
  /** Stop claiming after this many seconds. */
  timeLimitSeconds?: number;
  /** Stop after this many deferrals in this run (a failing server). */
  maxDeferred?: number;
  /** At most this many messages started per second. */
  rate?: number;
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
}

export type StopReason = 'empty' | 'limit' | 'time-limit' | 'max-deferred' | 'signal';

export interface DrainResult {
  sent: number;
  deferred: number;
  failed: number;
  released: number;
  /** Outcomes the database refused even in their simplest form: those messages come back after their lease. */
  unrecorded: number;
  stopped: StopReason;
}

export { newOwner };

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
 * One run of the queue: claim due messages in batches, send each, record each outcome.
 * A database failure stops the run with a DatabaseError (the claims come back when
 * their lease ends); an abort stops it cleanly: in-flight messages finish, the rest
 * are released.
 */
export async function drain(db: Db, options: DrainOptions): Promise<DrainResult> {
  const owner = options.owner ?? newOwner();
  const concurrency = Math.max(1, options.concurrency ?? 5);
  // Big enough that one claim (two round trips) is spread over many sends, even on one connection.
  const batchSize = Math.max(1, options.batchSize ?? Math.max(25, concurrency * 5));
  const leaseSeconds = options.leaseSeconds ?? 300;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const limit = options.limit ?? Infinity;
  const deadline = options.timeLimitSeconds ? Date.now() + options.timeLimitSeconds * 1000 : Infinity;
  const interval = options.rate ? 1000 / options.rate : 0;
  let nextSlot = Date.now();
  const result: DrainResult = { sent: 0, deferred: 0, failed: 0, released: 0, unrecorded: 0, stopped: 'empty' };
  let taken = 0;
  const guard = new QueryGuard(leaseSeconds);
  const lease = new LeaseKeeper(db, owner, leaseSeconds, guard);
  let crashed = false;

  const stopReason = (): StopReason | null => {
    if (options.signal?.aborted) return 'signal';
    if (options.maxDeferred !== undefined && result.deferred >= options.maxDeferred) return 'max-deferred';
    if (Date.now() >= deadline) return 'time-limit';
    if (taken >= limit) return 'limit';
    return null;
  };
  /** Workers stop taking messages; `limit` does not count here, the batch was sized for it. */
  const stopWorkers = () => {
    if (crashed || guard.failure !== undefined) return true;
    const reason = stopReason();
    return reason !== null && reason !== 'limit';
  };

  // Outcomes are written in one statement per gathering, overlapping the next sends;
  // one the database refuses falls back to smaller writes, never failing the others.
  const retryUntil = () => Date.now() + (options.outcomeRetrySeconds ?? 0) * 1000;
  const writer = new OutcomeWriter(async (planned) => {
    const { unrecorded } = await guard.run(() => whileLost(() => recordSafely(db, owner, planned), retryUntil()));
    result.unrecorded += unrecorded.length;
  });

  // Large messages (not loaded with the claim) are read and sent one at a time, so the
  // drain holds at most one of them in memory whatever the concurrency.
  let largeTurn: Promise<unknown> = Promise.resolve();
  function oneLargeAtATime<T>(body: () => Promise<T>): Promise<T> {
    const turn = largeTurn.then(body);
    largeTurn = turn.catch(() => {});
    return turn;
  }

  /** Sends one message; resolves when the send is done, its outcome write in `written`. */
  async function send(message: ClaimedMessage, blocked: Map<string, string>): Promise<{ written: Promise<void> }> {
    const startedAt = new Date();
    const sendWith = (raw: Buffer) => attemptDelivery(options.smtp, { ...message, raw }, blocked);
    const delivery = message.raw
      ? await sendWith(message.raw)
      : await oneLargeAtATime(async () => sendWith(await guard.run(() => loadRaw(db, message.id))));
    const planned = planOutcome({ message, delivery, startedAt }, { owner, backoff });
    result[planned.outcome]++; // counted now: --max-deferred must see it before the next send
    const written = writer.add(planned).then(() => {
      lease.drop(message.id);
      options.onDelivery?.(message, delivery);
    });
    written.catch(() => {}); // a failed write is the guard's: it stops the run
    return { written };
  }

  /** Waits for this worker's turn under --rate. */
  async function pace(): Promise<void> {
    const wait = nextSlot - Date.now();
    nextSlot = Math.max(nextSlot, Date.now()) + interval;
    if (wait > 0) await sleep(Math.min(wait, deadline - Date.now())); // a slow --rate never outlasts --time-limit
  }

  // Claimed messages waiting for a connection. The next batch is claimed while the
  // current one is still sending, so connections never wait on the database.
  const queue: { message: ClaimedMessage; blocked: Map<string, string> }[] = [];
  let claiming: Promise<void> | undefined;
  let exhausted = false;

  async function claimNext(): Promise<void> {
    const want = Math.min(batchSize, limit - taken);
    if (want <= 0 || stopWorkers()) {
      exhausted = true;
      return;
    }
    const claimedAt = Date.now();
    const { messages: batch, spent } = await guard.run(() => claim(db, owner, want, leaseSeconds, backoff.maxAttempts));
    result.failed += spent;
    taken += spent;
    if (batch.length === 0) {
      exhausted = spent === 0;
      return;
    }
    lease.hold(batch.map((m) => m.id), claimedAt);
    taken += batch.length;
    const blocked = await guard.run(() => blockedAmong(db, batch.flatMap((m) => m.recipients)));
    for (const message of batch) queue.push({ message, blocked });
  }

  function claimAhead(): void {
    if (!claiming && !exhausted && queue.length <= concurrency) {
      claiming = claimNext().finally(() => (claiming = undefined));
      claiming.catch(() => {}); // the guard holds the failure; workers see it via stopWorkers
    }
  }

  async function nextMessage() {
    for (;;) {
      if (stopWorkers()) return undefined;
      const item = queue.shift();
      claimAhead();
      if (item) return item;
      if (!claiming) return undefined; // exhausted: nothing more is due
      await claiming.catch(() => {});
    }
  }

  /** Not sent because our lease was running out: given back like the untried. */
  const late: number[] = [];
  /** Resolves once every message this worker took is sent and its outcome written. */
  const worker = async () => {
    // At most one unwritten outcome per worker: a killed drain resends at most
    // its in-flight sends plus that many, all with their Message-IDs.
    let previous: Promise<void> = Promise.resolve();
    for (;;) {
      if (interval) {
        await pace();
        if (stopWorkers()) break;
      }
      const item = await nextMessage();
      if (!item) break;
      if (!lease.mayStart(item.message.id)) {
        late.push(item.message.id);
        continue;
      }
      const { written } = await send(item.message, item.blocked);
      await previous;
      previous = written;
    }
    await previous;
  };

  try {
    await guard.run(() => freshenStatistics(db)); // a stale plan sorts the whole queue per claim
    const workers = Array.from({ length: concurrency }, () =>
      worker().catch((error) => {
        crashed ||= !guard.failure;
        throw error;
      }),
    );
    // A lost database ends the run now: in-flight writes may never settle (see QueryGuard).
    await Promise.race([Promise.all(workers), guard.failed]);
    if (claiming) await Promise.race([claiming, guard.failed]);
    result.stopped = stopReason() ?? 'empty';
    const untried = [...queue.splice(0).map((item) => item.message.id), ...late];
    if (untried.length) {
      await guard.run(() => release(db, owner, untried));
      result.released += untried.length;
      taken -= untried.length;
    }
  } finally {
    lease.stop();
  }
  return result;
}
