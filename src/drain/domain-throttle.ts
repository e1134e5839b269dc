import { eq, inArray, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../store/database.js';
import { domains, LIVE_STATE, messages, recipientDomain } from '../store/schema.js';
import { WAITING_STATES } from '../store/states.js';
import { claimRows, dueNow, release, type Claimed, type ClaimedMessage } from './claim.js';
import type { BackoffOptions } from './backoff.js';
import type { Delivery } from './deliver.js';
import { retryConflicts } from './guard.js';
import { limitFor, type DomainLimits } from './domain-limits.js';
import { candidatesDue, passByDomain, headDue, perDomainCandidates, type Rooms } from './throttled-due.js';

/**
 * Per recipient domain throttles that hold across every drain sharing the database:
 * Postgres is the only coordination. A message counts under its first recipient's
 * domain (`recipientDomain` in store/schema.ts, indexed; a message to several domains is
 * throttled as its first recipient's only).
 *
 * - Concurrency: messages of a domain in state `sending` under a live lease (claimed by
 *   any drain, sending or waiting for a lane) are counted at each claim; a domain at its
 *   limit is skipped, the others get at most their room. Two drains claiming at the same
 *   moment both count before either commits, so each then counts again (`trim`) and gives
 *   back what went over: never more than the limit reaches a lane.
 * - Rate: `mailroom_domains.next_at`, moved on by each claim (a row lock orders drains),
 *   gives every claimed message its start slot; a domain whose next slot lies ahead is skipped.
 * - Back-off: a 421/450/451 reply backs the domain off (`backoff_until`), first for
 *   --backoff-base, doubling per back-off up to --backoff-cap; a success resets it.
 *   Its messages are not claimed meanwhile; other domains go on.
 */

/** "Try later" replies that back off the whole domain, as Postfix's queue manager does. */
export const DOMAIN_DEFERRALS = new Set([421, 450, 451]);

/** How long a claim that found mail held by a concurrency limit waits before looking again. */
const HELD_POLL_MS = 250;

/** The domain a message counts under: as `recipientDomain` computes it in SQL. */
export function domainOf(recipients: readonly string[]): string | null {
  const first = recipients[0];
  return first === undefined ? null : (/[^@]*$/.exec(first)?.[0] ?? '').toLowerCase();
}

/** A claimed message and, under a rate, the local time (ms) it may start. */
export interface ThrottledMessage {
  message: ClaimedMessage;
  notBefore?: number;
}

/** What a throttled claim took, and when to look again if throttles held back due mail. */
export interface ThrottledClaim {
  messages: ThrottledMessage[];
  spent: number;
  /** Messages taken back from a drain whose lease ran out (as `claim` counts them). */
  takenOver: number;
  /** Set when nothing was taken but due mail waits behind a concurrency limit or a rate: look again after this many ms. */
  retryInMs?: number;
}

interface DomainState {
  domain: string;
  in_flight: number;
  next_in: number | null;
  backoff_in: number | null;
  step: number;
}

export class DomainThrottle {
  /** Domains with a back-off step above 0 (from the last claim, or our own back-offs): a success resets them. */
  private readonly stepped = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly limits: DomainLimits,
    private readonly backoff: Pick<BackoffOptions, 'baseSeconds' | 'capSeconds'>,
  ) {}

  /** Claims up to `want` due messages that every domain's limits allow (see the module's comment). */
  async claim(want: number, leaseSeconds: number, maxAttempts: number): Promise<ThrottledClaim> {
    const states = await this.domainStates();
    const held = new Set<string>();
    const waitFor: string[] = [];
    const roomsByDomain: Record<string, number> = {};
    const inFlight = new Map<string, number>();
    for (const s of states) {
      if (s.in_flight) inFlight.set(s.domain, s.in_flight);
      if (s.step > 0) this.stepped.add(s.domain);
      else this.stepped.delete(s.domain);
      if (s.backoff_in !== null && s.backoff_in > 0) held.add(s.domain); // not due until the back-off ends
      if (s.next_in !== null && s.next_in > 0) {
        held.add(s.domain);
        waitFor.push(s.domain);
      }
    }
    for (const [domain, n] of inFlight) {
      const room = this.room(domain, n);
      if (room <= 0) {
        held.add(domain);
        waitFor.push(domain);
      } else roomsByDomain[domain] = Math.min(room, want);
    }
    for (const domain of Object.keys(this.limits.domains ?? {})) roomsByDomain[domain] ??= Math.min(this.room(domain, 0), want);
    const defaultRoom = Math.min(this.room(null, 0), want);

    // Mail of held domains filling the queue's head is passed by going domain by domain (throttled-due.ts).
    const rooms: Rooms = { byDomain: roomsByDomain, otherwise: defaultRoom };
    const heldList = [...held];
    const chosen = heldList.length > 0 && (await passByDomain(this.db, want, heldList)) ? await perDomainCandidates(this.db, want, heldList, rooms) : undefined;
    const due = chosen ? candidatesDue(this.db, chosen, want) : headDue(this.db, want, heldList, rooms);
    const { messages: sending, spent, takenOver } = await claimRows(this.db, due, this.owner, leaseSeconds, maxAttempts);
    const kept = await this.trim(sending);
    const claimed = await this.slots(kept);
    // Chosen domain by domain without locks, a racing drain may have taken every row we chose: look again soon.
    const raced = chosen !== undefined && chosen.length > 0 && sending.length + spent === 0;
    if (claimed.length === 0 && (raced || kept.length < sending.length || (await this.dueAmong(waitFor)))) {
      const rateWaits = states.filter((s) => waitFor.includes(s.domain) && s.next_in !== null && s.next_in > 0).map((s) => s.next_in! * 1000);
      return { messages: [], spent, takenOver, retryInMs: raced ? 10 : Math.max(10, Math.min(HELD_POLL_MS, ...rateWaits)) };
    }
    return { messages: claimed, spent, takenOver };
  }

  /** What SMTP said for one of `domain`'s messages: "try later" backs the domain off, a success ends its back-off. */
  async outcome(message: Pick<ClaimedMessage, 'recipients'>, delivery: Pick<Delivery, 'outcome' | 'code'>): Promise<string | null> {
    const domain = domainOf(message.recipients);
    if (domain === null) return null;
    if (delivery.outcome === 'deferred' && delivery.code !== null && DOMAIN_DEFERRALS.has(delivery.code)) {
      await this.backOff(domain);
      return domain;
    }
    if (delivery.outcome === 'sent' && this.stepped.has(domain)) {
      this.stepped.delete(domain);
      await this.db.update(domains).set({ backoffStep: 0, backoffUntil: null, updatedAt: sql`now()` }).where(eq(domains.domain, domain));
    }
    return null;
  }

  /**
   * One more back-off step for `domain`, unless it is already backed off (the other
   * messages in flight when it said "try later" do not step it again).
   */
  async backOff(domain: string): Promise<void> {
    this.stepped.add(domain);
    const { baseSeconds, capSeconds } = this.backoff;
    const delay = (step: SQL) => sql`make_interval(secs => least(${capSeconds}::float8, ${baseSeconds}::float8 * power(2, ${step} - 1)))`;
    await retryConflicts(() =>
      this.db.execute(sql`
        insert into ${domains} as d (domain, backoff_step, backoff_until) values (${domain}, 1, now() + ${delay(sql`1`)})
        on conflict (domain) do update set
          backoff_step = case when d.backoff_until > now() then d.backoff_step else least(d.backoff_step + 1, 60) end,
          backoff_until = case when d.backoff_until > now() then d.backoff_until else now() + ${delay(sql`least(d.backoff_step + 1, 60)`)} end,
          updated_at = now()`),
    );
  }

  /** Room left for `domain` with `n` in flight (Infinity without a concurrency limit). */
  private room(domain: string | null, n: number): number {
    const { concurrency, rate } = limitFor(this.limits, domain);
    // Under a rate, one claim takes at most a second's worth: their slots then lie at most a second ahead.
    const perClaim = rate === undefined ? Infinity : Math.max(1, Math.floor(rate));
    return Math.min(concurrency === undefined ? Infinity : concurrency - n, perClaim);
  }

  /** Domains with messages in flight (live leases), and domains under a rate or a back-off. */
  private async domainStates(): Promise<DomainState[]> {
    const rows = rowsOf<DomainState>(
      await this.db.execute(sql`
        select ${recipientDomain} as domain, count(*)::int as in_flight, null::float8 as next_in, null::float8 as backoff_in, 0 as step
        from ${messages} where state = 'sending' and ${messages.leaseExpiresAt} > now() and ${recipientDomain} is not null
        group by 1
        union all
        select domain, 0, extract(epoch from next_at - now())::float8, extract(epoch from backoff_until - now())::float8, backoff_step
        from ${domains} where next_at > now() or backoff_until > now() or backoff_step > 0`),
    );
    return rows.map((r) => ({ ...r, in_flight: Number(r.in_flight), step: Number(r.step), next_in: r.next_in === null ? null : Number(r.next_in), backoff_in: r.backoff_in === null ? null : Number(r.backoff_in) }));
  }

  /**
   * Counts again, now that our claim is committed: what other claims hold of each limited
   * domain (theirs, or ours from before). Of this batch, each domain keeps what its limit
   * still allows; the rest is given back at once, untried.
   */
  private async trim(batch: ClaimedMessage[]): Promise<ClaimedMessage[]> {
    const limited = [...new Set(batch.map((m) => domainOf(m.recipients)))].filter(
      (d): d is string => d !== null && limitFor(this.limits, d).concurrency !== undefined,
    );
    if (limited.length === 0) return batch;
    const ids = batch.map((m) => m.id);
    const rows = rowsOf<{ domain: string; n: number }>(
      await this.db.execute(sql`
        select ${recipientDomain} as domain, count(*)::int as n from ${messages}
        where state = 'sending' and ${messages.leaseExpiresAt} > now() and ${recipientDomain} = any(${sql.param(limited)}::text[])
          and not (${messages.id} = any(${sql.param(ids)}::bigint[]))
        group by 1`),
    );
    const others = new Map(rows.map((r) => [r.domain, Number(r.n)]));
    const taken = new Map<string, number>();
    const kept: ClaimedMessage[] = [];
    const over: number[] = [];
    for (const message of batch) {
      const domain = domainOf(message.recipients);
      const limit = domain === null ? undefined : limitFor(this.limits, domain).concurrency;
      const n = domain === null ? 0 : (taken.get(domain) ?? 0);
      if (limit !== undefined && (others.get(domain!) ?? 0) + n >= limit) over.push(message.id);
      else {
        kept.push(message);
        if (domain !== null) taken.set(domain, n + 1);
      }
    }
    if (over.length) await release(this.db, this.owner, over);
    return kept;
  }

  /** Start slots for the messages of rate-limited domains, reserved in `next_at` (every drain moves it on). */
  private async slots(batch: ClaimedMessage[]): Promise<ThrottledMessage[]> {
    const byDomain = new Map<string, ClaimedMessage[]>();
    for (const message of batch) {
      const domain = domainOf(message.recipients);
      if (domain === null || limitFor(this.limits, domain).rate === undefined) continue;
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), message]);
    }
    if (byDomain.size === 0) return batch.map((message) => ({ message }));
    const seconds = Object.fromEntries([...byDomain].map(([d, ms]) => [d, ms.length / limitFor(this.limits, d).rate!]));
    const sentAt = Date.now();
    const rows = rowsOf<{ domain: string; next_in: number }>(
      await retryConflicts(() =>
        this.db.execute(sql`
          insert into ${domains} as d (domain, next_at)
          select key, now() + make_interval(secs => value::text::float8) from jsonb_each(${JSON.stringify(seconds)}::jsonb)
          on conflict (domain) do update set next_at = greatest(d.next_at, now()) + (excluded.next_at - now()), updated_at = now()
          returning domain, extract(epoch from next_at - now())::float8 as next_in`),
      ),
    );
    const notBefore = new Map<number, number>();
    for (const row of rows) {
      const ms = byDomain.get(row.domain) ?? [];
      const interval = 1000 / limitFor(this.limits, row.domain).rate!;
      const first = sentAt + Number(row.next_in) * 1000 - ms.length * interval;
      ms.forEach((m, i) => notBefore.set(m.id, first + i * interval));
    }
    return batch.map((message) => ({ message, notBefore: notBefore.get(message.id) }));
  }

  /** Whether due mail waits among these held domains (their live rows, by the per-domain index). */
  private async dueAmong(held: string[]): Promise<boolean> {
    if (held.length === 0) return false;
    const [row] = rowsOf<{ due: boolean }>(
      await this.db.execute(sql`
        select exists(select 1 from ${messages} where ${LIVE_STATE} and ${recipientDomain} = any(${sql.param(held)}::text[]) and ${dueNow}) as due`),
    );
    return Boolean(row?.due);
  }

  /** Gives back claimed messages of a domain that just backed off (untried, as they were). */
  async giveBack(ids: number[]): Promise<void> {
    await release(this.db, this.owner, ids);
  }
}

/**
 * The worker's sleep under throttles: ms until the next message is due, a backed-off
 * domain's messages counted from the end of its back-off (else a worker would find them
 * due, claim none, and run again every 50 ms for hours). Null when nothing is live.
 */
export async function nextDueThrottledInMs(db: Db): Promise<number | null> {
  const [row] = rowsOf<{ ms: number | string | null }>(
    await db.execute(sql`
      select extract(epoch from least(
        min(greatest(${messages.nextAttemptAt}, d.backoff_until)) filter (where ${inArray(messages.state, [...WAITING_STATES])}),
        min(greatest(${messages.leaseExpiresAt}, d.backoff_until)) filter (where ${messages.state} = 'sending')
      ) - now())::float8 * 1000 as ms
      from ${messages} left join ${domains} d on d.domain = ${recipientDomain} and d.backoff_until > now()
      where ${LIVE_STATE}`),
  );
  const ms = row?.ms;
  return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
}
