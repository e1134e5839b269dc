import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../store/database.js';
import { LIVE_STATE, messages, recipientDomain } from '../store/schema.js';
import { dueNow, type DueRows } from './claim.js';

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
 *   10,000. So `passByDomain` chooses it only when held rows crowd the head and the head
 *   scan would read more rows than five per live domain (and never past 10,000 domains).
 */

/** How many rows of the head `passByDomain` reads per message wanted. */
const HEAD_LOOK = 4;

const live = sql`from ${messages} where ${LIVE_STATE}`;

/** Candidates a walk reads per message wanted: room for a drain walking beside us. */
const CANDIDATES_PER_WANT = 2;

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
 * `live_domains(domain, n)`: the live rows' domains in order, by a skip scan of the domain
 * index (one probe per domain however many rows each has), the first `upTo` of them.
 */
const liveDomainsCte = (upTo = Infinity) => sql`
  with recursive live_domains(domain, n) as (
    select min(${recipientDomain}), 1 ${live}
    union all
    select (select min(${recipientDomain}) ${live} and ${recipientDomain} > live_domains.domain), live_domains.n + 1
    from live_domains where live_domains.domain is not null${Number.isFinite(upTo) ? sql` and live_domains.n < ${upTo}` : sql``}
  )`;

/**
 * What going domain by domain costs against the head scan, measured at 100,000 queued
 * rows: about 12 µs per live domain (an index probe to find it, one to read its first
 * rows) against 2-3 µs per row the head scan reads (a heap fetch each).
 */
const DOMAIN_COST_IN_ROWS = 5;
/** Past this many live domains the walk costs as much as a head scan past 50,000 held rows (120 ms): never walk. */
const MAX_WALK_DOMAINS = 10_000;
/** How long a count of live domains stands (they change slowly; a count probes each). */
const DOMAIN_COUNT_MS = 30_000;

/** Live domains counted (up to a cap) by a skip scan of the domain index, kept for a while per database. */
const domainCounts = new WeakMap<Db, { at: number; count: number; cap: number }>();

async function liveDomainsUpTo(db: Db, cap: number, now = Date.now()): Promise<number> {
  const known = domainCounts.get(db);
  if (known && now - known.at < DOMAIN_COUNT_MS && (known.count < known.cap || known.count >= cap)) return known.count;
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`
      ${liveDomainsCte(cap)}
      select count(*)::int as n from live_domains where domain is not null`),
  );
  const count = Number(row?.n ?? 0);
  domainCounts.set(db, { at: now, count, cap });
  return count;
}

/**
 * Whether to go domain by domain: when held domains' rows crowd the head (of its first
 * `HEAD_LOOK × want` due rows, read without locks, fewer than `want` are free, and the queue
 * goes on past them) and the head scan would read more rows than `DOMAIN_COST_IN_ROWS` per
 * live domain. The rows it would read: at the look's rate of free rows, what `want` of them
 * take; with none free, more than the walk would cost at `MAX_WALK_DOMAINS`. The live domains
 * are counted, not estimated: the planner keeps no statistics for a partial index's
 * expression, and pg_stats shows an index's only to the table's owner.
 */
export async function passByDomain(db: Db, want: number, held: readonly string[]): Promise<boolean> {
  const look = want * HEAD_LOOK;
  const [row] = rowsOf<{ seen: number; free: number }>(
    await db.execute(sql`
      select count(*)::int as seen, count(*) filter (where ${notHeld(sql`recipient_domain`, held)})::int as free from (
        select ${recipientDomain} as recipient_domain from ${messages}
        where ${LIVE_STATE} and ${dueNow}
        order by ${messages.priority}, ${messages.id}
        limit ${look}
      ) head`),
  );
  const seen = Number(row?.seen ?? 0);
  const free = Number(row?.free ?? 0);
  if (seen < look || free >= want) return false;
  const headRows = free > 0 ? (want * look) / free : Infinity;
  const cap = Math.ceil(Math.min(headRows / DOMAIN_COST_IN_ROWS, MAX_WALK_DOMAINS));
  return (await liveDomainsUpTo(db, cap)) < cap;
}

/**
 * Due rows domain by domain (see the module's comment): their ids, in claim order, read
 * without locks. The live domains are listed by a skip scan of the domain index (one
 * index probe per domain, however many rows each has); mail with no recipient (no
 * domain) comes from its own branch.
 */
export async function perDomainCandidates(db: Db, want: number, held: readonly string[], rooms: Rooms): Promise<number[]> {
  const rows = rowsOf<{ id: number | string }>(
    await db.execute(sql`
      ${liveDomainsCte()}
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
      limit ${want * CANDIDATES_PER_WANT}`),
  );
  return rows.map((r) => Number(r.id));
}

/**
 * The first `want` candidates still due, locked. Drains walking at once choose the same
 * candidates: each skips what another has locked or taken and goes on to the next, so with
 * `CANDIDATES_PER_WANT` times as many two drains still fill their batches. Any subset of the
 * candidates keeps within each domain's room.
 */
export function candidatesDue(db: Db, ids: readonly number[], want: number): DueRows {
  return asDue(
    db,
    sql`select ${messages.id} as id, ${messages.state} as was from ${messages}
      where ${messages.id} = any(${sql.param([...ids])}::bigint[]) and ${LIVE_STATE} and ${dueNow}
      order by ${messages.priority}, ${messages.id}
      limit ${want}
      for update skip locked`,
  );
}
