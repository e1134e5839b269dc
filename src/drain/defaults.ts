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
/**
 * Batches hold this many messages per connection, so the next claim overlaps the sends and
 * each claim's fixed cost (its statements, the suppression check, the lease bookkeeping) is
 * spread thin: 3,000 messages at c=10 took 4.7-5.6 s on PGlite with 200 per claim against
 * 4.9-7.7 s with 50 (five runs each, interleaved), and on Postgres 2.72-2.75 s against 2.75-2.99.
 */
const BATCH_PER_CONNECTION = 20;
/** Claims carry their messages' bytes (up to 128 KB each inline): a cap keeps many connections from holding hundreds of MB. */
const MAX_DEFAULT_BATCH = 500;

/** Messages claimed per query when not given: `20 × concurrency`, between 25 and 500. */
export function defaultBatchSize(concurrency: number): number {
  return Math.min(MAX_DEFAULT_BATCH, Math.max(MIN_BATCH, concurrency * BATCH_PER_CONNECTION));
}

/** The rule `defaultBatchSize` follows, in words, for `--help`. */
export const DEFAULT_BATCH_SIZE_TEXT = `${BATCH_PER_CONNECTION} × concurrency, between ${MIN_BATCH} and ${MAX_DEFAULT_BATCH}`;

/**
 * Outcomes one drain may have unwritten at once, each lane's message under way included:
 * what a drain killed at any moment may send again. A lane overlaps its sends with the
 * writes of its last outcomes; a write (a commit) can take longer than two sends to a
 * nearby relay (3-5 ms against 2), and on one connection a lane holding two waited ~1 ms
 * a message for it: 0.72 of nodemailer alone at c=1, 1.02 holding 16 (2,000 messages).
 */
const UNWRITTEN_PER_DRAIN = 16;

/** Outcomes a lane may have unwritten, its message under way included: the drain's share, at least two. */
export function unwrittenPerLane(concurrency: number): number {
  return Math.max(2, Math.floor(UNWRITTEN_PER_DRAIN / concurrency));
}

/** The in-flight bound: the most messages a killed drain may send twice, `max(2 × concurrency, 16)` at most. */
export function inFlightBound(concurrency: number): number {
  return concurrency * unwrittenPerLane(concurrency);
}
