import type { QueryGuard } from './guard.js';

/** Why a drain run ended. */
export type StopReason = 'empty' | 'limit' | 'time-limit' | 'max-deferred' | 'signal';

/** What may end a run besides an empty queue. */
export interface StopLimits {
  signal?: AbortSignal | undefined;
  maxDeferred?: number | undefined;
  /** Local time (ms) after which nothing more is taken; Infinity for none. */
  deadline: number;
  /** Most messages this run takes; Infinity for none. */
  limit: number;
}

/**
 * When a run stops taking messages, and why: a signal, `--max-deferred`, `--time-limit`,
 * `--limit`, a lost database (the guard's failure) or a lane that crashed. It also
 * counts what the run took, which `--limit` is about.
 */
export class StopRules {
  /** Messages this run took: claimed, or failed at the claim with no attempt left. */
  private taken = 0;
  /** A lane failed for a reason other than the database: the others stop too. */
  crashed = false;

  constructor(
    private readonly limits: StopLimits,
    /** Deferrals so far this run, for `--max-deferred`. */
    private readonly deferred: () => number,
    private readonly guard: QueryGuard,
  ) {}

  /** Counts messages taken (claimed or spent). */
  took(count: number): void {
    this.taken += count;
  }

  /** Uncounts messages given back untried. */
  gaveBack(count: number): void {
    this.taken -= count;
  }

  /** How many more messages `--limit` lets this run take. */
  get room(): number {
    return this.limits.limit - this.taken;
  }

  /** The rule that ends the run now, if any (a lost database is the guard's to report). */
  reason(): StopReason | null {
    const { signal, maxDeferred, deadline, limit } = this.limits;
    if (signal?.aborted) return 'signal';
    if (maxDeferred !== undefined && this.deferred() >= maxDeferred) return 'max-deferred';
    if (Date.now() >= deadline) return 'time-limit';
    if (this.taken >= limit) return 'limit';
    return null;
  }

  /** Whether lanes stop taking messages. `--limit` does not count here: the last batch was sized for it. */
  lanesStop(): boolean {
    if (this.crashed || this.guard.failure !== undefined) return true;
    const reason = this.reason();
    return reason !== null && reason !== 'limit';
  }
}
