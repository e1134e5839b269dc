import type { Db } from '../store/database.js';
import { renew } from './claim.js';
import type { QueryGuard } from './guard.js';

/** Renewals of one late message before it is given back at the end of the run. */
const RENEW_NOW_TRIES = 3;

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

  /** Whether this message is still ours (not yet dropped, nor found taken by another drain). */
  holds(id: number): boolean {
    return this.held.has(id);
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

  /**
   * Renews one message's lease at once and tells whether it may start now. For a
   * message the periodic renewal left short (a starved event loop runs the timer
   * late): without this it would wait unsent until the run ends and is given back.
   * False when it is no longer ours, or the renewal itself came back too late.
   */
  async renewNow(id: number): Promise<boolean> {
    // Each try confirms the claim is still ours, so trying again is safe; a few, since
    // the stall that made the timer late can as well delay the renewal's answer.
    for (let tried = 0; tried < RENEW_NOW_TRIES; tried++) {
      if (!this.held.has(id) || this.guard.failure) return false;
      const sentAt = Date.now();
      const ours = await this.guard.run(() => renew(this.db, this.owner, [id], this.leaseSeconds));
      if (!this.held.has(id)) return false;
      if (!ours.includes(id)) {
        this.held.delete(id); // another drain claimed it after our lease ran out: it is theirs to send
        return false;
      }
      this.held.set(id, Math.max(this.held.get(id)!, sentAt + this.leaseSeconds * 1000));
      if (this.mayStart(id)) return true;
    }
    return false;
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
