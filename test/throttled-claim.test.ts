import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { DomainThrottle } from '../src/drain/domain-throttle.js';
import { passByDomain } from '../src/drain/throttled-due.js';
import { messages } from '../src/store/schema.js';
import { rowsOf } from '../src/store/database.js';
import { backends, type Backend } from './helpers/databases.js';
import { seedMessages } from './helpers/seed.js';

/**
 * The throttled claim when a held domain's mail fills the head of the queue
 * (drain/throttled-due.ts): it goes domain by domain, and takes what the head scan
 * would have taken, in the same order, under the same rooms.
 */

const ALL = await backends();
const BACKOFF = { baseSeconds: 60, capSeconds: 3600 };

describe.each(ALL)('throttled claim past a held head on $name', { timeout: 120_000 }, (backend: Backend) => {
  let db: Awaited<ReturnType<Backend['create']>>;
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(() => db.drop());

  /**
   * 300 messages to held.test first (two of them in flight under another drain's lease,
   * its limit), then 40 to four other domains, one low-priority message and one with
   * no recipient (no domain) at the very end.
   */
  async function crowdedQueue() {
    const drizzle = db.database.db;
    await seedMessages(drizzle, 300, { recipients: (i) => [`h${i}@Held.test`] });
    await seedMessages(drizzle, 40, { recipients: (i) => [`o${i}@d${i % 4}.test`] });
    await seedMessages(drizzle, 1, { recipients: () => ['late@d9.test'] });
    await seedMessages(drizzle, 1, { recipients: () => [] });
    await drizzle.execute(sql`update mailroom_messages set priority = 3 where recipients = array['late@d9.test']`);
    await drizzle.execute(sql`update mailroom_messages set state = 'sending', lease_owner = 'other', lease_expires_at = now() + interval '1 hour' where id in (1, 2)`);
    const rows = await drizzle.select({ id: messages.id, recipients: messages.recipients }).from(messages).orderBy(messages.id);
    return new Map(rows.map((r) => [r.id, r.recipients[0] ?? '']));
  }

  it('passes the held rows domain by domain, in claim order, each domain within its room', async () => {
    const to = await crowdedQueue();
    const limits = { default: { concurrency: 3 }, domains: { 'held.test': { concurrency: 2 }, 'd1.test': { concurrency: 1 } } };
    expect(await passByDomain(db.database.db, 10, ['held.test'])).toBe(true);
    const throttle = new DomainThrottle(db.database.db, 'me', limits, BACKOFF);
    const { messages: taken, retryInMs } = await throttle.claim(20, 300, 10);
    expect(retryInMs).toBeUndefined();
    const ids = taken.map((t) => t.message.id);
    const domainsTaken = ids.map((id) => to.get(id)!.split('@')[1] ?? '');
    // d0, d2, d3 at 3 each, d1 at 1, each domain's oldest; then the message with no domain; the low-priority one last.
    expect(domainsTaken.filter((d) => d.toLowerCase() === 'held.test')).toEqual([]);
    expect(ids).toEqual([301, 302, 303, 304, 305, 307, 308, 309, 311, 312, 342, 341]);
    expect(domainsTaken.slice(0, 5)).toEqual(['d0.test', 'd1.test', 'd2.test', 'd3.test', 'd0.test']);
    expect(domainsTaken.slice(-2)).toEqual(['', 'd9.test']);
  });

  it('takes the same rows as the head scan when the held rows do not crowd it', async () => {
    const to = await crowdedQueue();
    const limits = { default: { concurrency: 50 }, domains: { 'held.test': { concurrency: 2 } } };
    // Wanting 100, a look at the head (400 rows) sees the whole queue: the head scan reads no more than that.
    expect(await passByDomain(db.database.db, 100, ['held.test'])).toBe(false);
    // Wanting 5, the first 20 rows are all held.test's: crowded; after the held rows are gone, not.
    expect(await passByDomain(db.database.db, 5, ['held.test'])).toBe(true);
    await db.database.db.execute(sql`update mailroom_messages set state = 'sent' where id between 3 and 300`);
    expect(await passByDomain(db.database.db, 5, ['held.test'])).toBe(false);
    const throttle = new DomainThrottle(db.database.db, 'me', limits, BACKOFF);
    const { messages: taken } = await throttle.claim(5, 300, 10);
    expect(taken.map((t) => to.get(t.message.id))).toEqual(['o0@d0.test', 'o1@d1.test', 'o2@d2.test', 'o3@d3.test', 'o4@d0.test']);
  });

  it('weighs the rows the head scan would read against the live domains the walk would probe', async () => {
    const drizzle = db.database.db;
    // One row in eight is free, each to its own domain: 50 live domains besides held.test.
    await seedMessages(drizzle, 400, { recipients: (i) => [i % 8 === 7 ? `f${i}@free${i}.test` : `h${i}@held.test`] });
    // Wanting 10, the 40-row look finds 5 free: the head scan reads ~80 rows, less than 51 domains × 5.
    expect(await passByDomain(drizzle, 10, ['held.test'])).toBe(false);
    const throttle = new DomainThrottle(drizzle, 'me', { default: { concurrency: 5 }, domains: { 'held.test': { concurrency: 2 } } }, BACKOFF);
    await drizzle.execute(sql`update mailroom_messages set state = 'sending', lease_owner = 'other', lease_expires_at = now() + interval '1 hour' where id in (1, 2)`);
    const { messages: taken } = await throttle.claim(10, 300, 10);
    expect(taken.map((t) => t.message.id)).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80]);
  });

  it('walks when the rows to pass outnumber the live domains: a fully held head, few domains', async () => {
    const drizzle = db.database.db;
    await seedMessages(drizzle, 400, { recipients: (i) => [i < 300 ? `h${i}@held.test` : `f${i}@free${i % 3}.test`] });
    expect(await passByDomain(drizzle, 10, ['held.test'])).toBe(true);
  });

  it('two drains claiming at once past a held head never take one row twice, and leave nothing due behind', async () => {
    const to = await crowdedQueue();
    const limits = { default: { concurrency: 100 }, domains: { 'held.test': { concurrency: 2 } } };
    const a = new DomainThrottle(db.database.db, 'a', limits, BACKOFF);
    const b = new DomainThrottle(db.database.db, 'b', limits, BACKOFF);
    const seen: number[] = [];
    for (let round = 0; round < 20; round++) {
      const [ra, rb] = await Promise.all([a.claim(8, 300, 10), b.claim(8, 300, 10)]);
      const got = [...ra.messages, ...rb.messages].map((t) => t.message.id);
      seen.push(...got);
      if (got.length === 0 && ra.retryInMs === undefined && rb.retryInMs === undefined) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const others = [...to].filter(([id, r]) => id > 2 && !r.toLowerCase().endsWith('@held.test')).map(([id]) => id);
    expect([...seen].sort((x, y) => x - y)).toEqual(others);
    const [held] = rowsOf<{ ours: number; theirs: number }>(
      await db.database.db.execute(sql`select count(*) filter (where lease_owner in ('a', 'b'))::int as ours, count(*) filter (where lease_owner = 'other')::int as theirs
        from mailroom_messages where state = 'sending'`),
    );
    expect([Number(held?.ours), Number(held?.theirs)]).toEqual([seen.length, 2]);
  });
});
