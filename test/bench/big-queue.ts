import type postgres from 'postgres';
import type { Figure, Row } from './lib/figure.js';
import { freshDatabase } from './lib/queue.js';
import { median, fmt } from './lib/stats.js';
import { claim } from '../../src/drain/claim.js';
import { queueStatus } from '../../src/store/status.js';
import { purge } from '../../src/store/purge.js';
import { listOutbox } from '../../src/preview/outbox.js';
import type { Db } from '../../src/store/database.js';

const DUE = 1000;
const CLAIM = 50;
const PURGED = 10_000;

/**
 * A queue after months of use: `total` rows, nearly all sent (the oldest PURGED sent 60
 * days ago, the rest 1 to 30 days ago), and DUE messages waiting. Filled in SQL, a million
 * rows a statement, so ten million take minutes instead of hours.
 */
async function fill(sql: postgres.Sql, total: number, log: (m: string) => void) {
  const sent = total - DUE;
  for (let from = 1; from <= sent; from += 1_000_000) {
    const to = Math.min(sent, from + 999_999);
    await sql`
      insert into mailroom_messages (message_id, state, priority, subject, from_address, envelope_from, recipients, raw, size, attempts, created_at, updated_at, sent_at, next_attempt_at)
      select '<big-' || i || '@mailroom.test>', 'sent', 2, 'Receipt ' || i, 'shop@example.com', 'shop@example.com',
             array['customer' || i || '@example.com'], convert_to(repeat('x', 300), 'UTF8'), 300, 1,
             t, t, t, t
      from generate_series(${from}::bigint, ${to}::bigint) as i,
           lateral (select now() - case when i <= ${PURGED} then interval '60 days' else (interval '1 day' + (i % 29) * interval '1 day') end as t) as at`;
    log(`  filled ${fmt(to)} of ${fmt(sent)} sent rows`);
  }
  await sql`
    insert into mailroom_messages (message_id, subject, from_address, envelope_from, recipients, raw, size)
    select '<due-' || i || '@mailroom.test>', 'Due ' || i, 'shop@example.com', 'shop@example.com', array['due' || i || '@example.com'],
           convert_to(repeat('y', 300), 'UTF8'), 300
    from generate_series(1, ${DUE}) as i`;
  await sql`vacuum analyze mailroom_messages`;
}

async function timed(times: number, body: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await body();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Per operation, the median ms on a queue of `total` rows. */
async function measure(total: number, log: (m: string) => void) {
  const db = await freshDatabase();
  const sql = db.database.sql!;
  const drizzle = db.database.db as Db;
  try {
    const t0 = performance.now();
    await fill(sql, total, log);
    log(`  ${fmt(total)} rows in ${fmt((performance.now() - t0) / 1000)} s`);
    // A claim of 50, each put back after, so every claim finds the same due set; only the claim is timed.
    const claims: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      const { messages } = await claim(drizzle, 'bench', CLAIM, 300);
      claims.push(performance.now() - t);
      await sql`update mailroom_messages set state = 'queued', lease_owner = null, lease_expires_at = null, attempts = 0 where id in ${sql(messages.map((m) => m.id))}`;
    }
    const claimMs = median(claims);
    const statusMs = await timed(5, () => queueStatus(drizzle));
    const outboxMs = await timed(5, () => listOutbox(drizzle, { page: 1, pageSize: 50 }));
    const t1 = performance.now();
    const purged = await purge(drizzle, { olderThanSeconds: 45 * 86_400 });
    const purgeMs = performance.now() - t1;
    if (purged.messages !== PURGED) throw new Error(`purge removed ${purged.messages} messages, expected ${PURGED}`);
    return { claimMs, statusMs, outboxMs, purgeMs };
  } finally {
    await db.drop();
  }
}

export const bigQueueFigure: Figure = {
  name: 'big-queue',
  title: 'A queue after months of use: claim, status, the outbox page and purge at 10M rows vs 100k',
  async run({ quick, log }) {
    const small = quick ? 20_000 : 100_000;
    const large = quick ? 1_000_000 : 10_000_000;
    log(`  ${fmt(small)} rows`);
    const a = await measure(small, log);
    log(`  ${fmt(large)} rows`);
    const b = await measure(large, log);
    log(`  claim ${fmt(a.claimMs, 2)} / ${fmt(b.claimMs, 2)} ms, status ${fmt(a.statusMs, 1)} / ${fmt(b.statusMs, 1)} ms, outbox ${fmt(a.outboxMs, 1)} / ${fmt(b.outboxMs, 1)} ms, purge of ${fmt(PURGED)} ${fmt(a.purgeMs)} / ${fmt(b.purgeMs)} ms`);
    const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
    const row = (what: string, x: number, y: number, target?: number): Row => ({
      figure: `11 ${what} at ${label(large)} rows`,
      measured: `${fmt(y, 2)} ms`,
      baseline: `${label(small)} rows: ${fmt(x, 2)} ms`,
      ratio: y / x,
      target: target ? `≤ ${target}` : 'none',
      pass: target ? y / x <= target : undefined,
    });
    return [
      row(`claim of ${CLAIM}`, a.claimMs, b.claimMs, 2),
      row('status', a.statusMs, b.statusMs, 2),
      row('outbox first page', a.outboxMs, b.outboxMs, 2),
      row(`purge of ${fmt(PURGED)} old sent`, a.purgeMs, b.purgeMs, 2),
    ];
  },
};
