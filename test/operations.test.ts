import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import nodemailer from 'nodemailer';
import { eq, sql } from 'drizzle-orm';
import { createQueueTransport, createSmtpTransport, drain, messages, attempts, blockAddress } from 'mailroom';
import { runWorker } from '../src/drain/worker.js';
import { purge } from '../src/store/purge.js';
import { backends, pg } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { BIN, mailroom } from './helpers/cli.js';

const ALL = await backends();

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(ALL)('operations on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  const setup = async () => {
    const created = await backend.create();
    const queue = nodemailer.createTransport(createQueueTransport({ database: created.database }));
    const add = (subject: string, to: string | string[] = 'b@example.com') =>
      queue.sendMail({ from: 'a@example.com', to, subject, text: 'x' });
    return { ...created, queue, add, db: created.database.db };
  };

  it('never mails a blocked recipient and records why; the others still get it', async () => {
    const { db, add, drop } = await setup();
    try {
      smtp.received.length = 0;
      await blockAddress(db, 'Spam.Trap@example.com', 'hard bounce 2026-11-01');
      await add('both', ['ok@example.com', 'spam.trap@example.com']);
      await add('only-blocked', 'spam.trap@example.com');
      const transport = createSmtpTransport(smtp.url);
      const result = await drain(db, { smtp: transport });
      transport.close();
      expect(result).toMatchObject({ sent: 1, failed: 1 });
      expect(smtp.received.map((m) => m.to)).toEqual([['ok@example.com']]);
      const rows = await db.select().from(messages).orderBy(messages.id);
      expect(rows[0]!.recipientStatus['spam.trap@example.com']).toEqual({ state: 'failed', reply: 'blocked: hard bounce 2026-11-01' });
      expect(rows[1]).toMatchObject({ state: 'failed', lastError: 'all recipients are blocked' });
    } finally {
      await drop();
    }
  });

  it('purge removes old sent messages and logs in batches, and keeps the rest', async () => {
    const { db, add, drop } = await setup();
    try {
      for (let i = 0; i < 7; i++) await add(`m${i}`);
      const transport = createSmtpTransport(smtp.url);
      await drain(db, { smtp: transport, limit: 5 });
      transport.close();
      // five sent: make four of them (and their logs) 40 days old
      const old = sql`now() - interval '40 days'`;
      await db.update(messages).set({ updatedAt: old }).where(sql`${messages.id} in (select id from mailroom_messages where state = 'sent' order by id limit 4)`);
      await db.update(attempts).set({ finishedAt: old }).where(sql`${attempts.messageId} <= 4`);
      const removed = await purge(db, { olderThanSeconds: 30 * 86400, batchSize: 3 });
      expect(removed.messages).toBe(4);
      const left = await db.select({ state: messages.state }).from(messages).orderBy(messages.id);
      expect(left.map((r) => r.state)).toEqual(['sent', 'queued', 'queued']);
      expect(await db.select().from(attempts)).toHaveLength(1);
    } finally {
      await drop();
    }
  });

  it('--time-limit, --max-deferred and --rate bound a run', async () => {
    const { db, add, drop } = await setup();
    const failing = await startSmtp({ onData: () => smtpError(451, 'greylisted') });
    try {
      for (let i = 0; i < 12; i++) await add(`m${i}`);
      const bad = createSmtpTransport(failing.url, { concurrency: 1 });
      const stopped = await drain(db, { smtp: bad, concurrency: 1, maxDeferred: 3 });
      bad.close();
      expect(stopped).toMatchObject({ deferred: 3, stopped: 'max-deferred' });
      expect(stopped.released).toBeGreaterThan(0);
      expect(await db.$count(messages, eq(messages.state, 'sending'))).toBe(0);

      await db.update(messages).set({ state: 'queued', nextAttemptAt: sql`now()` });
      const good = createSmtpTransport(smtp.url, { concurrency: 1 });
      const started = Date.now();
      const rated = await drain(db, { smtp: good, concurrency: 1, rate: 20, limit: 6 });
      const elapsed = Date.now() - started;
      expect(rated.sent).toBe(6);
      expect(elapsed).toBeGreaterThanOrEqual(5 * 50 - 10); // six starts at 20/s span at least 250 ms
      const timed = await drain(db, { smtp: good, concurrency: 1, rate: 2, timeLimitSeconds: 0.6 });
      good.close();
      expect(timed.stopped).toBe('time-limit');
      expect(timed.sent).toBeLessThan(6);
      expect(await db.$count(messages, eq(messages.state, 'sending'))).toBe(0);
    } finally {
      await failing.close();
      await drop();
    }
  });

  it('worker sends new messages as they arrive and stops cleanly', async () => {
    const { database, add, drop } = await setup();
    try {
      smtp.received.length = 0;
      const controller = new AbortController();
      const transport = createSmtpTransport(smtp.url);
      const worker = runWorker(database, { smtp: transport, signal: controller.signal, pollIntervalMs: 60_000 });
      await add('first');
      await waitFor(() => smtp.received.length === 1);
      await add('second');
      await waitFor(() => smtp.received.length === 2);
      controller.abort();
      const totals = await worker;
      transport.close();
      expect(totals.sent).toBe(2);
    } finally {
      await drop();
    }
  });
});

describe('pause and the worker process', () => {
  it('pause makes send exit 0 without sending; resume sends', async () => {
    const { url, database, drop } = await pg.create();
    const smtp = await startSmtp();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'held', text: 'x' });
      const env = { DATABASE_URL: url, SMTP_URL: smtp.url };
      expect((await mailroom(['pause'], env)).code).toBe(0);
      const paused = await mailroom(['send'], env);
      expect(paused.code).toBe(0);
      expect(paused.stdout).toContain('sending is paused');
      expect(smtp.received).toHaveLength(0);
      const byEnv = await mailroom(['send'], { ...env, MAILROOM_PAUSED: '1' });
      expect(byEnv.stdout).toContain('MAILROOM_PAUSED');
      expect((await mailroom(['resume'], env)).code).toBe(0);
      expect((await mailroom(['send'], env)).stdout).toContain('sent 1');
      const blocked = await mailroom(['block', 'add', 'x@example.com', '--reason', 'asked'], env);
      expect(blocked.code).toBe(0);
      expect(JSON.parse((await mailroom(['block', 'list', '--json'], env)).stdout)).toEqual([{ address: 'x@example.com', reason: 'asked' }]);
      expect((await mailroom(['block', 'add', 'not-an-address'], env)).code).toBe(1);
      expect((await mailroom(['purge', '--older-than', 'soon'], env)).code).toBe(2);
      expect((await mailroom(['purge', '--older-than', '30d'], env)).stdout).toContain('purged 0 messages');
    } finally {
      await smtp.close();
      await drop();
    }
  });

  it('mailroom worker on Postgres is woken by NOTIFY and exits 0 on SIGTERM', async () => {
    const { url, database, drop } = await pg.create();
    const smtp = await startSmtp();
    try {
      const child = spawn(process.execPath, [BIN, 'worker', '--poll', '60s'], {
        env: { ...process.env, DATABASE_URL: url, SMTP_URL: smtp.url },
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stdout += d));
      await waitFor(() => stdout.includes('worker started'));
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'wake up', text: 'x' });
      await waitFor(() => smtp.received.length === 1, 10_000); // well under the 60 s poll: NOTIFY woke it
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toContain('worker stopped: sent 1');
    } finally {
      await smtp.close();
      await drop();
    }
  });
});
