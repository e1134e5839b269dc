import { sql, type Placeholder, type SQL } from 'drizzle-orm';

// Times the queue compares against now() are computed by the database's clock, never
// the app's: app servers and drains on other hosts may disagree by seconds.

/** When a lease of `seconds` taken now runs out; null seconds give null (no lease). */
export function leaseUntil(seconds: number | Placeholder | null): SQL {
  return sql`now() + make_interval(secs => ${seconds}::double precision)`;
}

/** When a message becomes due: `sendAt` (an ISO string) or, when null, now. */
export function dueAt(sendAt: string | Placeholder | null): SQL {
  return sql`coalesce(${sendAt}::timestamptz, now())`;
}
