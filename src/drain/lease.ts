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
  /** Held message id → local time until which its lease surely lasts (measured from before the query that set it). */
  private readonly held = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly leaseSeconds: number,
    /** A failed renewal stops the run through the guard. */
    private readonly guard: QueryGuard,
  ) {}

  /** Takes over a batch just claimed by a query sent at `sentAt` (several batches may be held at once). */
  hold(ids: number[], sentAt: number): void {
    for (const id of ids) this.held.set(id, sentAt + this.leaseSeconds * 1000);
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
    const until = this.held.get(id);
    return until !== undefined && Date.now() < until - (this.leaseSeconds * 1000) / 3;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0 || this.guard.failure) return;
    this.renewing = true;
    const sentAt = Date.now();
    const asked = [...this.held.keys()];
    try {
      const ours = new Set(await this.guard.run(() => renew(this.db, this.owner, asked, this.leaseSeconds)));
      for (const id of asked) {
        if (!this.held.has(id)) continue; // dropped meanwhile
        if (ours.has(id)) this.held.set(id, sentAt + this.leaseSeconds * 1000);
        else this.held.delete(id); // taken by another drain after our lease ran out
      }
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
