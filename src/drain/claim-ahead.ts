import type { Db } from '../store/database.js';
import { suppressedAmong, type SuppressedAmong } from '../store/suppressions.js';
import { claim, type ClaimedMessage } from './claim.js';
import type { QueryGuard } from './guard.js';
import type { LeaseKeeper } from './lease.js';
import type { StopRules } from './stop-rules.js';

/** A claimed message waiting for a lane, with the suppressed addresses among its batch's recipients. */
export interface WaitingMessage {
  message: ClaimedMessage;
  blocked: SuppressedAmong;
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
      const item = this.waiting.shift();
      this.claimAhead();
      if (item) return item;
      if (!this.claiming) return undefined; // exhausted: nothing more is due
      await this.claiming.catch(() => {});
    }
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
    const { messages: batch, spent, takenOver } = await this.guard.run(() => claim(db, owner, want, leaseSeconds, maxAttempts));
    this.onClaimed({ spent, takenOver });
    this.stop.took(spent);
    if (batch.length === 0) {
      this.exhausted = spent === 0;
      return;
    }
    this.lease.hold(batch.map((m) => m.id), claimedAt);
    this.stop.took(batch.length);
    const blocked = await this.guard.run(() => suppressedAmong(db, batch.flatMap((m) => m.recipients)));
    for (const message of batch) this.waiting.push({ message, blocked });
  }
}
