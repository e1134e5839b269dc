/**
 * The drain's defaults, defined once: `drain()`, the continuous mode and the preview's
 * "send now" use them, and the CLI's `--help` shows these same values.
 */
export const DRAIN_DEFAULTS = {
  /** SMTP connections (lanes) at once. */
  concurrency: 5,
  /** Seconds a claim lasts before another drain may take the message back. */
  leaseSeconds: 300,
  /** Seconds a silent SMTP server is waited for (the CLI's `--socket-timeout`). */
  socketTimeoutSeconds: 60,
} as const;

/** Most messages claimed per query at least: one claim (two round trips) spread over many sends, even on one connection. */
const MIN_BATCH = 25;
/** Batches hold this many messages per connection, so the next claim overlaps the sends. */
const BATCH_PER_CONNECTION = 5;

/** Messages claimed per query when not given: `max(25, 5 × concurrency)`. */
export function defaultBatchSize(concurrency: number): number {
  return Math.max(MIN_BATCH, concurrency * BATCH_PER_CONNECTION);
}

/** The rule `defaultBatchSize` follows, in words, for `--help`. */
export const DEFAULT_BATCH_SIZE_TEXT = `the larger of ${MIN_BATCH} and ${BATCH_PER_CONNECTION} × concurrency`;
