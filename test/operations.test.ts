import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import { eq, sql } from 'drizzle-orm';
import { createQueueTransport, openDatabase, type Database } from 'mailroom';
import { messages, attempts, domains } from 'mailroom/schema';
import { createSmtpTransport, drain, blockAddress } from 'mailroom/drain';
import { runWorker } from '../src/drain/worker.js';
import { purge } from '../src/store/purge.js';
import { backends, hasPostgres, pg, POSTGRES_ADMIN_URL } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { BIN, mailroom } from './helpers/cli.js';
import { seedMessages } from './helpers/seed.js';
import { spawnMailroom } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();

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

      // Throttle state: idle since the cutoff goes; a back-off or a rate slot still ahead stays.
      await db.insert(domains).values([
        { domain: 'idle.test', backoffStep: 2, backoffUntil: sql`now() - interval '39 days'`, updatedAt: old },
        { domain: 'backing-off.test', backoffStep: 9, backoffUntil: sql`now() + interval '1 hour'`, updatedAt: old },
        { domain: 'rated.test', nextAt: sql`now() + interval '1 second'`, updatedAt: old },
        { domain: 'recent.test', backoffStep: 1, backoffUntil: sql`now() - interval '1 minute'` },
      ]);
      await purge(db, { olderThanSeconds: 30 * 86400 });
      expect((await db.select({ d: domains.domain }).from(domains).orderBy(domains.domain)).map((r) => r.d)).toEqual(['backing-off.test', 'rated.test', 'recent.test']);
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
      await waitFor(() => smtp.received.length === 1, 'the first message');
      await add('second');
      await waitFor(() => smtp.received.length === 2, 'the second message');
      controller.abort();
      const totals = await worker;
      transport.close();
      expect(totals.sent).toBe(2);
    } finally {
      await drop();
    }
  });
});

/**
 * The operator commands through the real CLI, on the embedded database and on Postgres.
 * Each CLI run starts a process (and, embedded, a database): 1–2 s, 15 s on a starved machine.
 */
describe.each(ALL)('operator commands on $name', { timeout: 400_000 }, (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp({ onRcpt: (address) => (address.startsWith('gone@') ? smtpError(550, '5.1.1 no such user') : undefined) });
  });
  afterAll(() => smtp.close());

  /** A fresh database with `count` messages (to r0@…, r1@…, or `recipients(i)`), handed over to the CLI. */
  async function seeded(count: number, recipients?: (i: number) => string[]) {
    const created = await backend.create();
    await seedMessages(created.database.db, count, { recipients });
    await created.database.close();
    smtp.received.length = 0;
    const env = { DATABASE_URL: created.url, SMTP_URL: smtp.url };
    return { ...created, env, cli: (...args: string[]) => mailroom(args, env) };
  }
  /** Opens the database in this process for `body` (the CLI is not running meanwhile). */
  async function inProcess<T>(url: string, body: (db: Database['db']) => Promise<T>): Promise<T> {
    const database = await openDatabase(url);
    try {
      return await body(database.db);
    } finally {
      await database.close();
    }
  }

  it('pause makes send exit 0 without sending; MAILROOM_PAUSED=1 too; resume sends', async () => {
    const { cli, env, drop } = await seeded(1);
    try {
      expect((await cli('pause')).code).toBe(0);
      const paused = await cli('send');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toContain('sending is paused (run mailroom resume)');
      expect(smtp.received).toHaveLength(0);
      expect((await cli('resume')).code).toBe(0);
      const byEnv = await mailroom(['send'], { ...env, MAILROOM_PAUSED: '1' });
      expect(byEnv.code).toBe(0);
      expect(byEnv.stdout).toContain('sending is paused (MAILROOM_PAUSED=1)');
      expect(smtp.received).toHaveLength(0);
      expect((await cli('send')).stdout).toContain('sent 1');
      expect(smtp.received).toHaveLength(1);
    } finally {
      await drop();
    }
  });

  it('block add refuses a non-address with a line naming the fix, and stores nothing', async () => {
    const { cli, drop } = await seeded(0);
    try {
      const bad = await cli('block', 'add', 'not-an-address');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe('mailroom: "not-an-address" is not an email address: use e.g. someone@example.com.\n');
      expect(JSON.parse((await cli('block', 'list', '--json')).stdout)).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('block add, list (text and JSON) and remove', async () => {
    const { cli, drop } = await seeded(0);
    try {
      expect((await cli('block', 'add', 'x@example.com', '--reason', 'asked to stop ✋')).stdout).toBe('blocked x@example.com\n');
      expect((await cli('block', 'add', 'y@example.com')).code).toBe(0);
      expect((await cli('block', 'list')).stdout).toBe('x@example.com\tasked to stop ✋\ny@example.com\n');
      const removed = await cli('block', 'remove', 'x@example.com');
      expect(removed.code).toBe(0);
      expect(removed.stdout).toBe('unblocked x@example.com\n');
      expect(JSON.parse((await cli('block', 'list', '--json')).stdout)).toEqual([{ address: 'y@example.com', reason: '' }]);
      expect((await cli('block', 'remove', 'x@example.com')).stdout).toBe('x@example.com was not blocked\n');
    } finally {
      await drop();
    }
  });

  it('status prints the counts by state and the oldest waiting message as text', async () => {
    const { cli, drop } = await seeded(3, (i) => [i === 1 ? 'gone@example.com' : `r${i}@example.com`]);
    try {
      expect((await cli('status')).stdout).toMatch(/^queued {4}3\nsending {3}0\ndeferred {2}0\nsent {6}0\nfailed {4}0\noldest waiting: \d+s\n$/);
      expect((await cli('send')).stdout).toContain('sent 2, deferred 0, failed 1');
      expect((await cli('status')).stdout).toBe('queued    0\nsending   0\ndeferred  0\nsent      2\nfailed    1\noldest waiting: -\n');
    } finally {
      await drop();
    }
  });

  it('purge removes old sent messages, and old failed ones only with --failed', async () => {
    const { cli, url, drop } = await seeded(3, (i) => [i === 1 ? 'gone@example.com' : `r${i}@example.com`]);
    try {
      expect((await cli('send')).stdout).toContain('sent 2, deferred 0, failed 1');
      const states = () => inProcess(url, async (db) => (await db.select({ state: messages.state }).from(messages)).map((r) => r.state).sort());
      await inProcess(url, async (db) => {
        await db.update(messages).set({ updatedAt: sql`now() - interval '40 days'` }).where(eq(messages.state, 'sent'));
        await db.update(messages).set({ updatedAt: sql`now() - interval '40 days'` }).where(eq(messages.state, 'failed'));
        await db.update(attempts).set({ finishedAt: sql`now() - interval '40 days'` });
      });
      expect((await cli('purge', '--older-than', '30d')).stdout).toBe('purged 2 messages and 1 attempt rows\n');
      expect(await states()).toEqual(['failed']);
      expect((await cli('purge', '--older-than', '30d', '--failed')).stdout).toBe('purged 1 messages and 0 attempt rows\n');
      expect(await states()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('worker sends what is due and exits 0 on SIGTERM', async () => {
    const { url, drop } = await seeded(2);
    try {
      const worker = spawnMailroom(url, ['worker', '--poll', '1s'], { SMTP_URL: smtp.url });
      await waitFor(() => smtp.received.length === 2, 'the worker to send both');
      worker.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit.stderr).toBe('');
      expect(exit.code).toBe(0);
      expect(exit.stdout).toContain('worker stopped: sent 2');
    } finally {
      await drop();
    }
  });

  it('preview --host --port --smtp starts, answers on that address, and stops on SIGTERM', async () => {
    const { url, drop } = await seeded(1);
    try {
      const preview = spawnMailroom(url, ['preview', '--host', '127.0.0.1', '--port', '0', '--smtp', smtp.url]);
      const [, address] = await waitFor(() => /mailroom preview: (http:\/\/127\.0\.0\.1:\d+)/.exec(preview.stdout()), 'the preview to start');
      const outbox = await fetch(`${address}/outbox`);
      expect(outbox.status).toBe(200);
      expect(await outbox.text()).toContain('seed 0');
      preview.kill('SIGTERM');
      const exit = await preview.exited;
      expect(exit.stderr).toBe('');
      expect(exit.code).toBe(0);
    } finally {
      await drop();
    }
  });
});

describe.runIf(hasPostgres(ALL))('the CLI on Postgres only', () => {
  it('migrate creates the tables in an empty database, and running it again changes nothing', async () => {
    const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const env = { DATABASE_URL: url.toString() };
    try {
      const before = await mailroom(['status'], env);
      expect(before.code).toBe(1); // no tables yet
      const migrated = await mailroom(['migrate'], env);
      expect(migrated.stderr).toBe('');
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/^migrated postgres:\/\//);
      expect(JSON.parse((await mailroom(['status', '--json'], env)).stdout)).toEqual({ queued: 0, sending: 0, deferred: 0, sent: 0, failed: 0, oldestQueuedSeconds: null, paused: false, pausedSince: null, pausedBy: null });
      expect((await mailroom(['migrate'], env)).code).toBe(0);
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 1 });
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
      await waitFor(() => stdout.includes('worker started'), 'the worker to start');
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'wake up', text: 'x' });
      await waitFor(() => smtp.received.length === 1, 'NOTIFY to wake the worker', 30_000); // well under the 60 s poll: NOTIFY woke it
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
