import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { inArray, sql } from 'drizzle-orm';
import { createQueueTransport } from 'mailroom';
import { bounces, domains, messages } from 'mailroom/schema';
import { domainClass } from '../src/metrics/domain-class.js';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { spawnMailroom } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';
import { openDatabase } from '../src/store/database.js';

/**
 * Prometheus metrics: `mailroom status --prometheus` prints the queue's gauges for cron
 * set-ups; `mailroom worker --metrics-port` serves them with its own counters and SMTP
 * latency, scraped here over HTTP as Prometheus would.
 */

const ALL = await backends();

/** The value of one sample (`name{labels}` exactly as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('domain classes', () => {
  it('groups the big providers and calls the rest other (bounded label values)', () => {
    expect(['gmail.com', 'GoogleMail.com', 'hotmail.com', 'outlook.com', 'yahoo.co.jp', 'icloud.com', 'example.com', 'gmail.com.evil.test'].map(domainClass)).toEqual([
      'gmail',
      'gmail',
      'microsoft',
      'microsoft',
      'yahoo',
      'apple',
      'other',
      'other',
    ]);
  });
});

describe.each(ALL)('metrics on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp({
      onRcpt: (address) => {
        if (address.endsWith('@slow.test')) return smtpError(451, '4.7.1 greylisted, try later');
        if (address.endsWith('@outlook.com')) return smtpError(550, '5.1.1 no such user');
      },
    });
  });
  afterAll(() => smtp.close());

  it('`mailroom status --prometheus`: messages by state, how long the oldest due one has waited, expired leases', async () => {
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      for (let i = 0; i < 6; i++) await queue.sendMail({ from: 'a@example.com', to: `r${i}@example.com`, subject: `m${i}`, text: 'x' });
      const rows = await database.db.select({ id: messages.id }).from(messages).orderBy(messages.id);
      const [overdue, , , later, done, stuck] = rows.map((r) => r.id);
      const db = database.db;
      await db.update(messages).set({ nextAttemptAt: sql`now() - interval '120 seconds'`, createdAt: sql`now() - interval '300 seconds'` }).where(inArray(messages.id, [overdue!]));
      await db.update(messages).set({ state: 'deferred', nextAttemptAt: sql`now() + interval '1 hour'` }).where(inArray(messages.id, [later!]));
      await db.update(messages).set({ state: 'sent' }).where(inArray(messages.id, [done!]));
      await db.update(messages).set({ state: 'sending', leaseOwner: 'dead-drain', leaseExpiresAt: sql`now() - interval '5 seconds'` }).where(inArray(messages.id, [stuck!]));
      await db.insert(bounces).values([
        { address: 'a@gmail.com', kind: 'hard', status: '5.1.1', reportId: 'r1' },
        { address: 'b@googlemail.com', kind: 'hard', status: '5.1.1', reportId: 'r2' },
        { address: 'c@example.org', kind: 'hard', status: '5.1.1', reportId: 'r3' },
        { address: 'd@gmail.com', kind: 'complaint', status: 'abuse', reportId: 'r4' },
      ]);
      await db.insert(domains).values([
        { domain: 'gmail.com', backoffStep: 3, backoffUntil: new Date('2999-01-01T00:00:00Z') },
        { domain: 'over.test', backoffStep: 1, backoffUntil: sql`now() - interval '1 second'` },
      ]);
      await database.close();

      const result = await mailroom(['status', '--prometheus', '--database', url]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const text = result.stdout;
      expect(text).toContain('# TYPE mailroom_messages gauge');
      expect(text).toContain('# HELP mailroom_oldest_due_seconds ');
      expect(sample(text, 'mailroom_messages{state="queued"}')).toBe(3);
      expect(sample(text, 'mailroom_messages{state="deferred"}')).toBe(1);
      expect(sample(text, 'mailroom_messages{state="sending"}')).toBe(1);
      expect(sample(text, 'mailroom_messages{state="sent"}')).toBe(1);
      expect(sample(text, 'mailroom_messages{state="failed"}')).toBe(0);
      const due = sample(text, 'mailroom_oldest_due_seconds')!;
      expect(due).toBeGreaterThanOrEqual(120);
      expect(due).toBeLessThan(3600);
      expect(sample(text, 'mailroom_oldest_waiting_seconds')!).toBeGreaterThanOrEqual(300);
      expect(sample(text, 'mailroom_expired_leases')).toBe(1);
      expect(sample(text, 'mailroom_paused')).toBe(0);
      expect(text).toContain('# TYPE mailroom_bounces_total counter');
      expect(sample(text, 'mailroom_bounces_total{kind="hard",domain_class="gmail"}')).toBe(2);
      expect(sample(text, 'mailroom_bounces_total{kind="hard",domain_class="other"}')).toBe(1);
      expect(sample(text, 'mailroom_bounces_total{kind="complaint",domain_class="gmail"}')).toBe(1);
      expect(sample(text, 'mailroom_domains_backed_off')).toBe(1);
      // The same back-off in status's text and JSON (a back-off that has ended is not listed).
      const plain = await mailroom(['status', '--database', url]);
      expect(plain.stdout).toContain('backed off: gmail.com until 2999-01-01T00:00:00.000Z (3 in a row)');
      expect(plain.stdout).not.toContain('over.test');
      expect(JSON.parse((await mailroom(['status', '--json', '--database', url])).stdout)).toMatchObject({ backedOff: [{ domain: 'gmail.com', step: 3 }], backedOffTotal: 1 });
      // Nothing else on stdout: a cron job can write it straight to a textfile collector.
      expect(text.split('\n').filter((l) => l && !l.startsWith('#')).every((l) => /^mailroom_[a-z_]+(\{[^}]*\})? -?[\d.e+]+$/.test(l))).toBe(true);
    } finally {
      await drop();
    }
  });

  it('`mailroom worker --metrics-port`: scraped over HTTP, counters by outcome and domain class, SMTP latency, the queue gauges', async () => {
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'a@example.com', to: ['one@gmail.com', 'two@gmail.com'], subject: 'ok', text: 'x' });
      await queue.sendMail({ from: 'a@example.com', to: 'later@slow.test', subject: 'later', text: 'x' });
      await queue.sendMail({ from: 'a@example.com', to: 'gone@outlook.com', subject: 'gone', text: 'x' });
      await database.close();
      const worker = spawnMailroom(url, ['worker', '--smtp', smtp.url, '--metrics-port', '0', '--log', 'json', '--poll', '0.5']);
      try {
        const started = await waitFor(() => /"event":"metrics".*"url":"([^"]+)"/.exec(worker.stdout())?.[1], 'the metrics URL');
        expect(started).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        await waitFor(() => (worker.stdout().match(/"event":"delivery"/g) ?? []).length >= 3, 'three deliveries');
        const response = await fetch(started);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = await response.text();
        expect(sample(text, 'mailroom_deliveries_total{outcome="sent",domain_class="gmail"}')).toBe(2);
        expect(sample(text, 'mailroom_deliveries_total{outcome="deferred",domain_class="other"}')).toBe(1);
        expect(sample(text, 'mailroom_deliveries_total{outcome="failed",domain_class="microsoft"}')).toBe(1);
        expect(sample(text, 'mailroom_smtp_duration_seconds_count{outcome="sent"}')).toBe(1);
        expect(sample(text, 'mailroom_smtp_duration_seconds_count{outcome="deferred"}')).toBe(1);
        expect(sample(text, 'mailroom_smtp_duration_seconds_bucket{le="+Inf",outcome="sent"}')).toBe(1);
        expect(sample(text, 'mailroom_smtp_duration_seconds_sum{outcome="sent"}')!).toBeGreaterThan(0);
        expect(sample(text, 'mailroom_messages{state="sent"}')).toBe(1);
        expect(sample(text, 'mailroom_messages{state="deferred"}')).toBe(1);
        expect(sample(text, 'mailroom_messages{state="failed"}')).toBe(1);
        expect(sample(text, 'mailroom_oldest_due_seconds')).toBe(0); // the deferred one is not due yet
        expect(text).toMatch(/^mailroom_process_resident_memory_bytes \d+/m);
        expect((await fetch(started.replace('/metrics', '/'))).status).toBe(404);
      } finally {
        worker.kill('SIGTERM');
      }
      const exit = await worker.exited;
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
    } finally {
      await drop();
    }
  });
  it('lease expiries: a message taken back from a drain whose lease ran out is counted, by the worker (its own) and in `status --prometheus` (every drain\'s)', async () => {
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      for (let i = 0; i < 5; i++) await queue.sendMail({ from: 'a@example.com', to: `r${i}@example.com`, subject: `m${i}`, text: 'x' });
      const [a, b, c, held] = (await database.db.select({ id: messages.id }).from(messages).orderBy(messages.id)).map((r) => r.id);
      const db = database.db;
      const dead = { state: 'sending' as const, leaseOwner: 'dead-drain', attempts: 1 };
      await db.update(messages).set({ ...dead, leaseExpiresAt: sql`now() - interval '5 seconds'` }).where(inArray(messages.id, [a!, b!]));
      // Still leased (its drain is alive): neither taken nor counted.
      await db.update(messages).set({ ...dead, leaseOwner: 'live-drain', leaseExpiresAt: sql`now() + interval '1 hour'` }).where(inArray(messages.id, [held!]));
      await db.update(messages).set({ nextAttemptAt: sql`now() + interval '1 hour'` }).where(inArray(messages.id, [c!]));
      await database.close();

      const before = await mailroom(['status', '--prometheus', '--database', url]);
      expect(before.stdout).toContain('# TYPE mailroom_lease_expiries_total counter');
      expect(sample(before.stdout, 'mailroom_lease_expiries_total')).toBe(0);

      const worker = spawnMailroom(url, ['worker', '--smtp', smtp.url, '--metrics-port', '0', '--log', 'json', '--poll', '0.5']);
      try {
        const started = await waitFor(() => /"event":"metrics".*"url":"([^"]+)"/.exec(worker.stdout())?.[1], 'the metrics URL');
        // The two expired ones and the plain queued one are sent; only the two count.
        await waitFor(() => (worker.stdout().match(/"event":"delivery"/g) ?? []).length >= 3, 'three deliveries');
        expect(worker.stdout()).toMatch(/"event":"lease-expiries".*"count":2/);
        const text = await (await fetch(started)).text();
        expect(text).toContain('# TYPE mailroom_lease_expiries_total counter');
        expect(sample(text, 'mailroom_lease_expiries_total')).toBe(2);
        expect(sample(text, 'mailroom_expired_leases')).toBe(0); // the gauge: none is expired any more
      } finally {
        worker.kill('SIGTERM');
      }
      expect((await worker.exited).code).toBe(0);

      // Another drain (a cron `send`) takes one more back: the stored total is every drain's.
      const again = await openDatabase(url);
      await again.db.update(messages).set({ ...dead, nextAttemptAt: sql`now()`, leaseExpiresAt: sql`now() - interval '1 second'` }).where(inArray(messages.id, [c!]));
      await again.close();
      const send = await mailroom(['send', '--smtp', smtp.url, '--database', url]);
      expect(send.code).toBe(0);
      const after = await mailroom(['status', '--prometheus', '--database', url]);
      expect(sample(after.stdout, 'mailroom_lease_expiries_total')).toBe(3);
      expect(sample(after.stdout, 'mailroom_messages{state="sending"}')).toBe(1); // the live drain's, untouched
    } finally {
      await drop();
    }
  });
});
