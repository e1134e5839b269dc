/** How long a deferred message waits, and how often it may be tried. */
export interface BackoffOptions {
  /** First wait, in seconds. */
  baseSeconds: number;
  /** Longest wait, in seconds. */
  capSeconds: number;
  /** Attempts (including the first) before a message that keeps deferring is failed. */
  maxAttempts: number;
}

/** One minute, doubling up to four hours, ten attempts in all. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseSeconds: 60, capSeconds: 4 * 3600, maxAttempts: 10 };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed,
 * half random, so retries of messages deferred together spread out but none
 * comes back much sooner than planned.
 */
export function backoffSeconds(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponential = Math.min(options.capSeconds, options.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return exponential / 2 + random() * (exponential / 2);
}
