import type { Db } from '../store/database.js';
import { renew } from './claim.js';
import type { QueryGuard } from './guard.js';

/**
 * Keeps a batch's claims alive while the drain works through it: renews the
 * lease every third of its length, and tells whether a message is still safely
 * ours to send. Without it, a batch slower than one lease would be claimed again
 * by another drain and sent twice.
 */
export class LeaseKeeper {
  private readonly held = new Set<number>();
  /** Local time until which every held lease surely lasts: measured from before the query that set it. */
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  /** Bumped by every new batch, so a renewal of the last batch that returns late changes nothing. */
  private batch = 0;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly leaseSeconds: number,
    /** A failed renewal stops the run through the guard. */
    private readonly guard: QueryGuard,
  ) {}

  /** Takes over a batch just claimed by a query sent at `sentAt`. */
  hold(ids: number[], sentAt: number): void {
    this.batch++;
    this.held.clear();
    for (const id of ids) this.held.add(id);
    this.heldUntil = sentAt + this.leaseSeconds * 1000;
    this.timer ??= setInterval(() => void this.renew(), Math.max(100, (this.leaseSeconds * 1000) / 3));
  }

  /** Done with a message (sent, deferred, failed or released): its lease is no longer ours to keep. */
  drop(id: number): void {
    this.held.delete(id);
  }

  /**
   * Whether to start sending this message: still ours, with at least a third of the
   * lease left (renewals keep two thirds or more; less means they are failing or late).
   */
  mayStart(id: number): boolean {
    return this.held.has(id) && Date.now() < this.heldUntil - (this.leaseSeconds * 1000) / 3;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0 || this.guard.failure) return;
    this.renewing = true;
    const sentAt = Date.now();
    const batch = this.batch;
    try {
      const ours = new Set(await this.guard.run(() => renew(this.db, this.owner, [...this.held], this.leaseSeconds)));
      if (batch !== this.batch) return;
      for (const id of this.held) if (!ours.has(id)) this.held.delete(id);
      this.heldUntil = sentAt + this.leaseSeconds * 1000;
    } catch {
      // the guard holds the failure and stops the run
    } finally {
      this.renewing = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
