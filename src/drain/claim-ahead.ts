import type { Db } from '../store/database.js';
import { suppressedAmong, type SuppressedAmong } from '../store/suppressions.js';
import { claim, type ClaimedMessage } from './claim.js';
import type { QueryGuard } from './guard.js';
import type { LeaseKeeper } from './lease.js';
import type { StopRules } from './stop-rules.js';
import { domainOf, type DomainThrottle } from './domain-throttle.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A claimed message waiting for a lane, with the suppressed addresses among its batch's recipients. */
export interface WaitingMessage {
  message: ClaimedMessage;
  blocked: SuppressedAmong;
  /** Under a domain's rate: the local time (ms) its slot starts. */
  notBefore?: number | undefined;
}

/** How the claim-ahead queue claims. */
export interface ClaimSettings {
  db: Db;
  owner: string;
  batchSize: number;
  /** Lanes: the next batch is claimed once no more than this many messages plus half a batch wait. */
  concurrency: number;
  leaseSeconds: number;
  maxAttempts: number;
  /** Per-domain limits shared through the database (domain-throttle.ts); none: claims as before. */
  throttle?: DomainThrottle | undefined;
}

/**
 * Claimed messages waiting for a connection. The next batch is claimed while the
 * current one is still sending, so connections never wait on the database; one claim
 * at a time. Claimed messages are held under the lease keeper from the moment the
 * claim was sent.
 */
export class ClaimAhead {
  private readonly waiting: WaitingMessage[] = [];
  private claiming: Promise<void> | undefined;
  /** Nothing more is due, or the run may take no more. */
  private exhausted = false;
  /** Ends a throttled claim's wait early (see nudge). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly settings: ClaimSettings,
    private readonly guard: QueryGuard,
    private readonly lease: LeaseKeeper,
    private readonly stop: StopRules,
    /** Called after each claim: due messages failed at the claim (no attempt left), and those taken back after another drain's lease ran out. */
    private readonly onClaimed: (counts: { spent: number; takenOver: number }) => void,
  ) {}

  /** The next message for a lane, claiming ahead as needed; undefined when the lanes should stop. */
  async next(): Promise<WaitingMessage | undefined> {
    for (;;) {
      if (this.stop.lanesStop()) return undefined;
      const item = this.takeReady();
      this.claimAhead();
      if (item) return item;
      if (this.waiting.length) {
        // Only messages whose rate slot lies ahead: wait for the first slot, or a claim that may bring others.
        const first = Math.min(...this.waiting.map((w) => w.notBefore ?? 0));
        await Promise.race([sleep(Math.max(1, first - Date.now())), ...(this.claiming ? [this.claiming.catch(() => {})] : [])]);
        continue;
      }
      if (!this.claiming) return undefined; // exhausted: nothing more is due
      await this.claiming.catch(() => {});
    }
  }

  /**
   * One of our messages is done (its outcome written): a claim waiting on a domain's
   * in-flight limit looks again now instead of at its next poll.
   */
  nudge(): void {
    this.wake?.();
  }

  /** The first waiting message whose slot has come (claim order otherwise). */
  private takeReady(): WaitingMessage | undefined {
    const now = Date.now();
    const at = this.waiting.findIndex((w) => w.notBefore === undefined || w.notBefore <= now);
    return at < 0 ? undefined : this.waiting.splice(at, 1)[0];
  }

  /** Takes out the waiting messages of a domain that just backed off: the caller gives them back. */
  takeDomain(domain: string): number[] {
    const taken: number[] = [];
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (domainOf(this.waiting[i]!.message.recipients) === domain) taken.push(this.waiting.splice(i, 1)[0]!.message.id);
    }
    return taken;
  }

  /** Waits for a claim still running at the end of the run (or the guard's failure). */
  async settled(): Promise<void> {
    if (this.claiming) await Promise.race([this.claiming, this.guard.failed]);
  }

  /** Claimed messages no lane took: the caller releases them. */
  takeUntried(): number[] {
    return this.waiting.splice(0).map((item) => item.message.id);
  }

  private claimAhead(): void {
    // Half a batch ahead of the lanes: a claim carries the batch's bytes (a 50-message claim
    // took longer than one round of sends), and lanes that find nothing waiting sit idle.
    const lowWater = this.settings.concurrency + Math.floor(this.settings.batchSize / 2);
    if (!this.claiming && !this.exhausted && this.waiting.length <= lowWater) {
      this.claiming = this.claimBatch().finally(() => (this.claiming = undefined));
      this.claiming.catch(() => {}); // the guard holds the failure; lanes see it via lanesStop
    }
  }

  private async claimBatch(): Promise<void> {
    const { db, owner, batchSize, leaseSeconds, maxAttempts } = this.settings;
    const want = Math.min(batchSize, this.stop.room);
    if (want <= 0 || this.stop.lanesStop()) {
      this.exhausted = true;
      return;
    }
    const claimedAt = Date.now();
    const { throttle } = this.settings;
    const { messages: taken, spent, takenOver, retryInMs } = throttle
      ? await this.guard.run(() => throttle.claim(want, leaseSeconds, maxAttempts))
      : { ...(await this.guard.run(() => claim(db, owner, want, leaseSeconds, maxAttempts))), retryInMs: undefined };
    const batch = taken.map((t) => ('message' in t ? t : { message: t, notBefore: undefined }));
    this.onClaimed({ spent, takenOver });
    this.stop.took(spent);
    if (batch.length === 0) {
      // Due mail held back by a domain's concurrency or rate: look again soon, the run is not over.
      if (retryInMs !== undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryInMs);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = undefined;
      }
      else this.exhausted = spent === 0;
      return;
    }
    this.lease.hold(batch.map((t) => t.message.id), claimedAt);
    this.stop.took(batch.length);
    const blocked = await this.guard.run(() => suppressedAmong(db, batch.flatMap((t) => t.message.recipients)));
    for (const { message, notBefore } of batch) this.waiting.push({ message, blocked, notBefore });
  }
}
