import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type postgres from 'postgres';
import type { Figure, Row } from './lib/figure.js';
import { freshDatabase } from './lib/queue.js';
import { check, run } from './lib/proc.js';
import { BIN, NODE, cliEnv } from './lib/paths.js';
import { fmt, median, sideBySide, spread } from './lib/stats.js';
import { claim } from '../../src/drain/claim.js';
import { DomainThrottle } from '../../src/drain/domain-throttle.js';
import type { DomainLimits } from '../../src/drain/domain-limits.js';
import type { Db } from '../../src/store/database.js';

const SLOW_MS = 300;
const SLOW_LIMIT = 4;
const CONCURRENCY = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver that answers slow.test after SLOW_MS and everything else at once, counting slow.test's open transactions. */
async function receiver() {
  let open = 0;
  const state = { peakSlow: 0, lastFast: 0, fast: 0, slow: 0 };
  const slowSessions = new WeakSet<SMTPServerSession>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, session, callback) {
      if (address.address.endsWith('@slow.test') && !slowSessions.has(session)) {
        slowSessions.add(session);
        state.peakSlow = Math.max(state.peakSlow, ++open);
      }
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', async () => {
        if (slowSessions.has(session)) {
          await sleep(SLOW_MS);
          slowSessions.delete(session);
          open--;
          state.slow++;
        } else {
          state.fast++;
          state.lastFast = performance.now();
        }
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { state, url: `smtp://127.0.0.1:${port}?tls=false&pool=true`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Queues `fast` messages to fast.test and `slow` to slow.test, interleaved, in SQL. */
async function queue(sql: postgres.Sql, fast: number, slow: number) {
  const total = fast + slow;
  const every = slow ? Math.floor(total / slow) : 0; // every n-th message is slow.test's
  await sql`
    insert into mailroom_messages (message_id, subject, from_address, envelope_from, recipients, raw, size)
    select '<t-' || i || '@bench.mailroom.test>', 'Throttle ' || i, 'bench@mailroom.test', 'bench@mailroom.test',
           array['user' || i || case when ${every}::int > 0 and i % greatest(${every}::int, 1) = 0 and i / greatest(${every}::int, 1) <= ${slow} then '@slow.test' else '@fast.test' end],
           convert_to('From: bench@mailroom.test' || chr(13) || chr(10) || 'Subject: Throttle ' || i || chr(13) || chr(10) || 'Message-ID: <t-' || i || '@bench.mailroom.test>' || chr(13) || chr(10) || chr(13) || chr(10) || repeat('x', 2000), 'UTF8'), 2040
    from generate_series(1, ${total}) as i`;
}

/** One `mailroom send` over `fast` + `slow` messages: ms until the last fast.test message was accepted, and slow.test's peak. */
async function once(fast: number, slow: number, concurrency = CONCURRENCY) {
  const db = await freshDatabase();
  const smtp = await receiver();
  try {
    await queue(db.database.sql!, fast, slow);
    const [row] = await db.database.sql!<{ n: number }[]>`select count(*)::int as n from mailroom_messages where lower(substring(recipients[1] from '[^@]*$')) = 'slow.test'`;
    const n = row?.n;
    if (n !== slow) throw new Error(`queued ${n} slow.test messages, expected ${slow}`);
    const t0 = performance.now();
    const result = check(
      await run(NODE, [BIN, 'send', '--concurrency', String(concurrency), '--domain', `slow.test:concurrency=${SLOW_LIMIT}`], { env: cliEnv(db.url, smtp.url) }),
      'mailroom send',
    );
    if (smtp.state.fast !== fast || smtp.state.slow !== slow) throw new Error(`receiver got ${smtp.state.fast} fast and ${smtp.state.slow} slow: ${result.stdout}`);
    return { fastMs: smtp.state.lastFast - t0, totalMs: result.ms, peakSlow: smtp.state.peakSlow };
  } finally {
    await smtp.close();
    await db.drop();
  }
}

/** Median ms of a claim of 50 (each put back after) on `rows` queued rows to `domainCount` domains, the first half all to one held domain. */
async function claimMs(rows: number, limits: DomainLimits | undefined, domainCount = 1000) {
  const db = await freshDatabase();
  const sql = db.database.sql!;
  const drizzle = db.database.db as Db;
  try {
    await sql`
      insert into mailroom_messages (message_id, subject, from_address, envelope_from, recipients, raw, size)
      select '<c-' || i || '@mailroom.test>', 'Due ' || i, 'shop@example.com', 'shop@example.com',
             array['u' || i || case when i <= ${rows / 2} then '@held.test' else '@d' || (i % ${domainCount}) || '.test' end], convert_to(repeat('y', 300), 'UTF8'), 300
      from generate_series(1, ${rows}) as i`;
    await sql`vacuum analyze mailroom_messages`;
    // held.test at its limit: two of its messages in flight under another drain's lease.
    await sql`update mailroom_messages set state = 'sending', lease_owner = 'other', lease_expires_at = now() + interval '1 hour' where id in (1, 2)`;
    const throttle = limits ? new DomainThrottle(drizzle, 'bench', limits, { baseSeconds: 60, capSeconds: 3600 }) : undefined;
    const ms: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      const ids = throttle ? (await throttle.claim(50, 300, 10)).messages.map((m) => m.message.id) : (await claim(drizzle, 'bench', 50, 300, 10)).messages.map((m) => m.id);
      ms.push(performance.now() - t);
      if (ids.length !== 50) throw new Error(`claimed ${ids.length}, expected 50`);
      await sql`update mailroom_messages set state = 'queued', lease_owner = null, lease_expires_at = null, attempts = 0 where id in ${sql(ids)}`;
    }
    return median(ms);
  } finally {
    await db.drop();
  }
}

export const throttleFigure: Figure = {
  name: 'throttle',
  title: `Per-domain throttles: a domain answering in ${SLOW_MS} ms (limit ${SLOW_LIMIT}) beside a fast one, and the throttled claim`,
  async run({ quick, log }) {
    const total = quick ? 500 : 2000;
    const slow = total / 10;
    const fast = total - slow;
    const rounds = quick ? 1 : 3;
    const { a: without, b: withSlow } = await sideBySide(
      rounds,
      async () => {
        const r = await once(fast, 0);
        // The lanes the slow domain leaves the fast one: its bound while the slow domain holds its limit.
        const left = await once(fast, 0, CONCURRENCY - SLOW_LIMIT);
        log(`  ${fmt(fast)} fast alone: ${fmt(r.fastMs)} ms; on the ${CONCURRENCY - SLOW_LIMIT} lanes the slow domain leaves: ${fmt(left.fastMs)} ms`);
        return { ...r, leftMs: left.fastMs };
      },
      async () => {
        const r = await once(fast, slow);
        log(`  ${fmt(fast)} fast beside ${fmt(slow)} slow: fast done in ${fmt(r.fastMs)} ms, all in ${fmt(r.totalMs)} ms, slow.test peak ${r.peakSlow}`);
        return r;
      },
    );
    const a = median(without.map((r) => r.fastMs));
    const onLeft = median(without.map((r) => r.leftMs));
    const b = median(withSlow.map((r) => r.fastMs));
    const peak = Math.max(...withSlow.map((r) => r.peakSlow));
    const rows = quick ? 20_000 : 100_000;
    const plain = await claimMs(rows, undefined);
    const limits: DomainLimits = { default: { concurrency: 5 }, domains: { 'held.test': { concurrency: 2 } } };
    const throttled = await claimMs(rows, limits);
    log(`  claim of 50 at ${fmt(rows)} queued rows (half to one domain at its limit, the rest to 1,000): ${fmt(plain, 2)} ms plain, ${fmt(throttled, 2)} ms throttled`);
    const manyDomains = await claimMs(rows, limits, 10_000);
    log(`  the same, the rest to 10,000 domains: ${fmt(manyDomains, 2)} ms throttled`);
    return [
      {
        figure: `12 fast domain beside a slow one (${fmt(total)} msgs)`,
        measured: `fast done in ${fmt(b)} ms; slow.test peak ${peak} (limit ${SLOW_LIMIT})`,
        baseline: `without the slow: ${fmt(a)} ms (on ${CONCURRENCY - SLOW_LIMIT} lanes: ${fmt(onLeft)} ms, ${fmt(onLeft / b, 2)})`,
        ratio: a / b,
        target: `≥ 0.9, peak ≤ ${SLOW_LIMIT}`,
        pass: a / b >= 0.9 && peak <= SLOW_LIMIT,
        noise: spread(without.map((r) => r.fastMs)),
      },
      {
        figure: `12 throttled claim of 50 at ${fmt(rows)} rows, half held at the head, the rest to 1,000 domains`,
        measured: `${fmt(throttled, 2)} ms`,
        baseline: `plain claim: ${fmt(plain, 2)} ms`,
        ratio: throttled / plain,
        target: 'none',
      },
      {
        figure: `12 the same, the other half to 10,000 domains`,
        measured: `${fmt(manyDomains, 2)} ms`,
        baseline: `plain claim: ${fmt(plain, 2)} ms`,
        ratio: manyDomains / plain,
        target: 'none',
      },
    ];
  },
};
