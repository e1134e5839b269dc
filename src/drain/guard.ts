import { DatabaseError } from '../errors.js';
import { redact } from '../store/redact.js';

/** postgres.js and socket codes, and SQLSTATEs (08… connection, 57P0… shutdown), that mean the connection is gone. */
const LOST = /^(CONNECTION_(CLOSED|ENDED|DESTROYED)|CONNECT_TIMEOUT|QUERY_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|08\w{3}|57P0[123])$/;

/** Whether the connection to the database is gone (or not answering): worth reconnecting, unlike a refused statement. */
export function isConnectionLost(error: unknown): boolean {
  const code = rootCause(error).code;
  return typeof code === 'string' && LOST.test(code);
}

/** The driver's own error: Drizzle wraps it in "Failed query: <sql> params: <bytes>", which no one should read. */
function rootCause(error: unknown): { message?: string; code?: string } {
  let e = error as { message?: string; code?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return e ?? {};
}

/**
 * SQLSTATE classes of a statement refused for the data it carried (22 data exception,
 * 23 integrity, 54 program limit, P0 raised by a trigger, XX internal): another
 * statement on the same connection may well succeed, unlike after a lost connection.
 */
const REFUSED_DATA = /^(22|23|54|P0|XX)[0-9A-Z]{3}$/;

/** Whether the database refused this statement's data (and is still there to take another). */
export function isDataError(error: unknown): boolean {
  const code = rootCause(error).code;
  return typeof code === 'string' && REFUSED_DATA.test(code);
}

/** SQLSTATEs of a statement Postgres rolled back to break a lock cycle (40P01) or a serialization conflict (40001). */
const CONFLICT = /^(40P01|40001)$/;

/** Whether the database rolled the statement back for a conflict with another one: running it again is safe and likely to succeed. */
export function isConflict(error: unknown): boolean {
  const code = rootCause(error).code;
  return typeof code === 'string' && CONFLICT.test(code);
}

/** Tries in all for one statement that keeps losing conflicts: enough for a passing clash, bounded for a real fault. */
const CONFLICT_TRIES = 4;

/**
 * Runs one statement again when Postgres rolled it back for a deadlock or a
 * serialization failure, a few times with a short random pause. Only for a single
 * statement (or one whose retry writes nothing twice): the rolled-back one wrote
 * nothing, so its retry cannot send or record anything twice. Other errors, and the
 * last conflict, are thrown.
 */
export async function retryConflicts<T>(statement: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await statement();
    } catch (error) {
      if (!isConflict(error) || tried >= CONFLICT_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * tried));
    }
  }
}

/** The SQLSTATE or driver code behind an error, if any. */
export const errorCode = (error: unknown): string | undefined => rootCause(error).code;

const AFTER = (leaseSeconds: number) =>
  `Messages this run had claimed come back when their lease ends (within ${leaseSeconds}s); run mailroom send again once the database is reachable.`;

/** A database failure in the middle of a run, as one line a user can act on. */
export function midRunDatabaseError(error: unknown, leaseSeconds: number): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const cause = rootCause(error);
  const detail = redact([cause.code, cause.message].filter(Boolean).join(': ') || String(error));
  const what = cause.code && LOST.test(cause.code) ? 'Lost the database connection mid-run' : 'Database error mid-run';
  return new DatabaseError(`${what} (${detail}). ${AFTER(leaseSeconds)}`, { cause: error });
}

/** Times a query's time limit starts again because our own process stalled, not the database. */
const STALLS_FORGIVEN = 3;

/**
 * Runs the drain's queries. The first failure stops the whole run with one
 * DatabaseError. So does a query that outlives the lease: by then our claims may
 * be another drain's, and postgres.js can wait forever on a server that accepts
 * connections and drops them.
 */
export class QueryGuard {
  failure: DatabaseError | undefined;
  /** Rejects with the first failure, for racing against work in progress. */
  readonly failed: Promise<never>;
  private reject!: (error: DatabaseError) => void;

  constructor(private readonly leaseSeconds: number) {
    this.failed = new Promise<never>((_, reject) => (this.reject = reject));
    this.failed.catch(() => {}); // only awaited while a batch is in flight
  }

  async run<T>(query: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const expire = () =>
        reject(
          new DatabaseError(`The database did not answer within ${this.leaseSeconds}s (the lease). ${AFTER(this.leaseSeconds)}`, {
            cause: { code: 'QUERY_TIMEOUT' },
          }),
        );
      // A stall of our own (a starved machine, a long synchronous step) is not the
      // database's silence: the query may not even have been written yet. A timer that
      // fires late gives the query another full period (a few times at most), and the
      // last check runs after I/O (setImmediate), so an answer already here is read first.
      const period = this.leaseSeconds * 1000;
      const arm = (stallsLeft: number) => {
        const due = Date.now() + period;
        timer = setTimeout(() => {
          const stalled = Date.now() - due > Math.max(50, period / 10);
          if (stalled && stallsLeft > 0) arm(stallsLeft - 1);
          else setImmediate(expire);
        }, period);
      };
      arm(STALLS_FORGIVEN);
    });
    try {
      return await Promise.race([query(), timeout]);
    } catch (error) {
      const failure = midRunDatabaseError(error, this.leaseSeconds);
      if (!this.failure) {
        this.failure = failure;
        this.reject(failure);
      }
      throw this.failure;
    } finally {
      clearTimeout(timer);
    }
  }
}
