import { and, eq, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../store/database.js';
import { DOMAIN_INDEX, LIVE_STATE, messages, recipientDomain } from '../store/schema.js';
import { WAITING_STATES } from '../store/states.js';
import type { DueRows } from './claim.js';

/**
 * The two ways a throttled claim chooses due rows (drain/domain-throttle.ts), as the
 * `due` subquery `claimRows` leases.
 *
 * - From the queue's head (`headDue`): due rows in claim order, skipping the held
 *   domains'. One statement, rows locked as they are met. It visits every held row
 *   before the first it may take, so when a held domain's mail fills the head (a
 *   newsletter to one provider at its limit ahead of everyone else's mail) it reads
 *   all of it on every claim: 100-165 ms at 100,000 queued rows, half of them held.
 * - Domain by domain (`perDomainCandidates`, then `candidatesDue`), for that case: each
 *   live domain not held gives its first due rows (at most its room) through the
 *   (domain, priority, id) index, and the first `want` of them in claim order are locked
 *   by a second statement. Its cost grows with the number of live domains instead of
 *   the held rows: 28 ms against 182 at 100,000 rows with 1,000 domains, but 121 ms with
 *   10,000. So `headCrowded` chooses it only when held rows crowd the head and outnumber
 *   the live domains by far.
 */

/** How many rows of the head `headCrowded` reads per message wanted. */
const HEAD_LOOK = 4;

export const dueNow = or(
  and(inArray(messages.state, [...WAITING_STATES]), lte(messages.nextAttemptAt, sql`now()`)),
  and(eq(messages.state, 'sending'), lt(messages.leaseExpiresAt, sql`now()`)),
);

/** Room per domain: a domain's own (as JSON) or the default. */
export interface Rooms {
  byDomain: Record<string, number>;
  otherwise: number;
}

const roomOf = (rooms: Rooms, domain: SQL) => sql`coalesce((${JSON.stringify(rooms.byDomain)}::jsonb ->> ${domain})::int, ${rooms.otherwise}::int)`;

const notHeld = (domain: SQL, held: readonly string[]) => sql`coalesce(${domain}, '') <> all(${sql.param([...held])}::text[])`;

/** Locked ids and states of the chosen rows, as `claimRows` joins them. */
function asDue(db: Db, chosen: SQL): DueRows {
  return db
    .select({ id: sql<number>`chosen.id`.as('due_id'), was: sql<string>`chosen.was`.as('due_was') }) // aliases unlike any messages column
    .from(sql`(${chosen}) as chosen`)
    .as('due');
}

/** Due rows from the head of the queue, held domains skipped, at most each domain's room of them, locked. */
export function headDue(db: Db, want: number, held: readonly string[], rooms: Rooms): DueRows {
  return asDue(
    db,
    sql`select id, was from (
        select id, was, row_number() over (partition by recipient_domain order by priority, id) as r,
               ${roomOf(rooms, sql`recipient_domain`)} as room
        from (
          select ${messages.id} as id, ${messages.state} as was, ${recipientDomain} as recipient_domain, ${messages.priority} as priority
          from ${messages}
          where ${LIVE_STATE} and ${dueNow} and ${notHeld(recipientDomain, held)}
          order by ${messages.priority}, ${messages.id}
          limit ${want}
          for update skip locked
        ) due
      ) ranked where r <= room`,
  );
}

/**
 * What going domain by domain costs against the head scan, measured at 100,000 queued
 * rows: about 12 µs per live domain (an index probe to find it, one to read its first
 * rows) against 2-3 µs per held row the head scan passes (a heap fetch each).
 */
const DOMAIN_COST_IN_ROWS = 5;

/**
 * Whether to go domain by domain: held domains' rows crowd the head (of its first
 * `HEAD_LOOK × want` due rows, read without locks, fewer than `want` are free, and the
 * queue goes on past them), and the planner's statistics of the domain index (ANALYZE,
 * drain/statistics.ts) say the held domains have more rows than there are live domains
 * times `DOMAIN_COST_IN_ROWS`. Without statistics, crowding alone decides.
 */
export async function headCrowded(db: Db, want: number, held: readonly string[]): Promise<boolean> {
  const look = want * HEAD_LOOK;
  const [row] = rowsOf<{ seen: number; free: number; live: number | null; distinct: number | null; held_share: number | null }>(
    await db.execute(sql`
      with stats as (
        select s.n_distinct, s.most_common_vals::text::text[] as vals, s.most_common_freqs as freqs, c.reltuples
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_stats s on s.schemaname = n.nspname and s.tablename = c.relname
        where c.oid = to_regclass(${DOMAIN_INDEX})
        limit 1
      )
      select count(*)::int as seen, count(*) filter (where ${notHeld(sql`recipient_domain`, held)})::int as free,
             (select reltuples from stats)::float8 as live,
             (select n_distinct from stats)::float8 as distinct,
             (select coalesce(sum(f), 0) from stats, unnest(vals, freqs) as m(v, f) where v = any(${sql.param([...held])}::text[]))::float8 as held_share
      from (
        select ${recipientDomain} as recipient_domain from ${messages}
        where ${LIVE_STATE} and ${dueNow}
        order by ${messages.priority}, ${messages.id}
        limit ${look}
      ) head`),
  );
  if (!row || Number(row.seen) < look || Number(row.free) >= want) return false;
  if (row.live === null || row.distinct === null || row.held_share === null || Number(row.live) <= 0) return true;
  const live = Number(row.live);
  const distinct = Number(row.distinct) < 0 ? -Number(row.distinct) * live : Number(row.distinct);
  return distinct * DOMAIN_COST_IN_ROWS < Number(row.held_share) * live;
}

/**
 * Due rows domain by domain (see the module's comment): their ids, in claim order, read
 * without locks. The live domains are listed by a skip scan of the domain index (one
 * index probe per domain, however many rows each has); mail with no recipient (no
 * domain) comes from its own branch.
 */
export async function perDomainCandidates(db: Db, want: number, held: readonly string[], rooms: Rooms): Promise<number[]> {
  const live = sql`from ${messages} where ${LIVE_STATE}`;
  const rows = rowsOf<{ id: number | string }>(
    await db.execute(sql`
      with recursive live_domains(domain) as (
        select min(${recipientDomain}) ${live}
        union all
        select (select min(${recipientDomain}) ${live} and ${recipientDomain} > live_domains.domain)
        from live_domains where live_domains.domain is not null
      )
      select first.id, first.priority from live_domains cross join lateral (
        select ${messages.id} as id, ${messages.priority} as priority ${live}
          and ${recipientDomain} = live_domains.domain and ${dueNow}
        order by ${messages.priority}, ${messages.id}
        limit ${roomOf(rooms, sql`live_domains.domain`)}
      ) first
      where live_domains.domain is not null and ${notHeld(sql`live_domains.domain`, held)}
      union all
      (select ${messages.id}, ${messages.priority} ${live} and ${recipientDomain} is null and ${dueNow}
       -- ordered as the domain index is, so the planner reads its null entries, not the whole queue in claim order
       order by ${recipientDomain}, ${messages.priority}, ${messages.id} limit ${want})
      order by priority, id
      limit ${want}`),
  );
  return rows.map((r) => Number(r.id));
}

/**
 * The candidates still due, locked. Another drain may have taken some (or all) since
 * they were read: those are skipped, and the claim takes fewer.
 */
export function candidatesDue(db: Db, ids: readonly number[]): DueRows {
  return asDue(
    db,
    sql`select ${messages.id} as id, ${messages.state} as was from ${messages}
      where ${messages.id} = any(${sql.param([...ids])}::bigint[]) and ${LIVE_STATE} and ${dueNow}
      order by ${messages.priority}, ${messages.id}
      for update skip locked`,
  );
}
