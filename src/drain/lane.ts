import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { loadRaw, type ClaimedMessage } from './claim.js';
import type { Delivery } from './deliver.js';
import { attemptMessage } from './attempt.js';
import { planOutcome, type OutcomeWriter } from './outcome.js';
import type { BackoffOptions } from './backoff.js';
import type { LeaseKeeper } from './lease.js';
import type { QueryGuard } from './guard.js';
import type { ClaimAhead, WaitingMessage } from './claim-ahead.js';
import type { StopRules } from './stop-rules.js';
import type { Outcome } from './deliver.js';
import type { DomainThrottle } from './domain-throttle.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `--rate`: lanes take turns at one start every 1/rate seconds, never waiting past the deadline. */
export class Pacer {
  private nextSlot = Date.now();
  private readonly interval: number;

  constructor(rate: number, private readonly deadline: number) {
    this.interval = 1000 / rate;
  }

  /** Waits for this lane's turn. */
  async turn(): Promise<void> {
    const wait = this.nextSlot - Date.now();
    this.nextSlot = Math.max(this.nextSlot, Date.now()) + this.interval;
    if (wait > 0) await sleep(Math.min(wait, this.deadline - Date.now())); // a slow --rate never outlasts --time-limit
  }
}

/**
 * Large messages (not loaded with the claim) are read and sent one at a time, so the
 * drain holds at most one of them in memory whatever the concurrency.
 */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(body: () => Promise<T>): Promise<T> {
    const turn = this.last.then(body);
    this.last = turn.catch(() => {});
    return turn;
  }
}

/** What every lane of one run shares. */
export interface LaneContext {
  db: Db;
  owner: string;
  smtp: Transporter;
  backoff: BackoffOptions;
  guard: QueryGuard;
  lease: LeaseKeeper;
  queue: ClaimAhead;
  stop: StopRules;
  /** Outcomes, written together in one statement per gathering. */
  writer: OutcomeWriter;
  pacer: Pacer | undefined;
  large: OneAtATime;
  /** Per-domain limits and back-off (domain-throttle.ts), when any is set. */
  throttle?: DomainThrottle | undefined;
  /** Outcomes a lane may have unwritten, its message under way included (`unwrittenPerLane`): the in-flight bound's share. */
  unwritten: number;
  /** Counts each outcome as soon as it is known: `--max-deferred` must see it before the next send. */
  count: (outcome: Outcome) => void;
  /** Messages not sent because our lease was running out: given back like the untried. */
  late: number[];
  onDelivery?: ((message: ClaimedMessage, delivery: Delivery) => void) | undefined;
}

/**
 * Sends one message; resolves when the send is done, its outcome write in `written`.
 * The message is completed (its final dot sent) only once `endAfter` settles.
 */
async function sendOne(
  lane: LaneContext,
  message: ClaimedMessage,
  blocked: WaitingMessage['blocked'],
  endAfter: Promise<void>,
): Promise<{ written: Promise<void> }> {
  const startedAt = new Date();
  const sendWith = (raw: Buffer) => attemptMessage(lane.smtp, { ...message, raw }, blocked, { endAfter, maxAttempts: lane.backoff.maxAttempts });
  const delivery = message.raw
    ? await sendWith(message.raw)
    : await lane.large.run(async () => sendWith(await lane.guard.run(() => loadRaw(lane.db, message.id))));
  const planned = planOutcome({ message, delivery, startedAt }, { owner: lane.owner, backoff: lane.backoff });
  lane.count(planned.outcome);
  if (lane.throttle) await domainOutcome(lane, lane.throttle, message, delivery);
  const written = lane.writer.add(planned).then(() => {
    lane.lease.drop(message.id);
    if (lane.throttle) lane.queue.nudge(); // its domain has one fewer in flight
    lane.onDelivery?.(message, delivery);
  });
  written.catch(() => {}); // a failed write is the guard's: it stops the run
  return { written };
}

/**
 * Tells the throttle what the domain said. A domain that just backed off takes its other
 * claimed messages with it: they wait unsent and are given back with the run's untried.
 */
async function domainOutcome(lane: LaneContext, throttle: DomainThrottle, message: ClaimedMessage, delivery: Delivery): Promise<void> {
  const backedOff = await lane.guard.run(() => throttle.outcome(message, delivery));
  if (backedOff !== null) lane.late.push(...lane.queue.takeDomain(backedOff));
}

/**
 * One lane: a connection's loop, taking messages from the claim-ahead queue until it
 * is empty or a stop rule holds. Resolves once every message it took is sent and its
 * outcome written.
 *
 * At most `lane.unwritten` messages per lane are sent or being sent with their outcome
 * unwritten: a killed drain resends at most that many per lane, all with their
 * Message-IDs (the in-flight bound, drain/defaults.ts). A message counts from its final
 * dot (before it the server keeps nothing), so the next message's envelope and bytes go
 * out while the oldest unwritten outcome is still being written, and only its dot waits
 * for that write: the lane overlaps the commits instead of waiting for them (other
 * transporters wait before sending, see sendStored).
 */
export async function runLane(lane: LaneContext): Promise<void> {
  // The writes of this lane's last `unwritten` outcomes, oldest first. A message's dot waits
  // for the oldest, so when it goes out at most `unwritten - 1` others are unwritten.
  const writes: Promise<void>[] = [];
  for (;;) {
    if (lane.pacer) {
      await lane.pacer.turn();
      if (lane.stop.lanesStop()) break;
    }
    const item = await lane.queue.next();
    if (!item) break;
    if (!lane.lease.mayStart(item.message.id) && !(await lane.lease.renewNow(item.message.id))) {
      if (lane.lease.holds(item.message.id)) lane.late.push(item.message.id); // else another drain's now
      continue;
    }
    const oldest = writes.length >= lane.unwritten ? writes.shift()! : Promise.resolve();
    const { written } = await sendOne(lane, item.message, item.blocked, oldest);
    await oldest; // a write that failed stops the lane here
    writes.push(written);
  }
  await Promise.all(writes);
}
