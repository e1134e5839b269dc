import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { createQueueTransport, DatabaseInUseError, openDatabase, PRIORITY_HEADER } from 'mailroom';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { spawnMailroom } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();

describe('mailroom CLI usage', () => {
  it('every command has --help', async () => {
    for (const command of [[], ['send'], ['worker'], ['status'], ['retry'], ['purge'], ['block', 'add'], ['block', 'list'], ['pause'], ['resume'], ['preview'], ['migrate']]) {
      const result = await mailroom([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: mailroom');
      if (command.length) expect(result.stdout).toContain('--database');
    }
  });

  it('answers misuse with usage and a non-zero exit', async () => {
    for (const args of [['frobnicate'], ['send', '--limit', 'ten'], ['send', '--time-limit', '5 parsecs'], ['status', '--jsn']]) {
      const result = await mailroom(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/error: .*\n[\s\S]*Usage: mailroom/);
    }
  });

  it('explains a missing SMTP server, a bad SMTP_URL and a bad DATABASE_URL in one line, hiding passwords', async () => {
    const noSmtp = await mailroom(['send', '--database', 'file:/tmp/mailroom-cli-nosmtp']);
    expect(noSmtp.code).toBe(1);
    expect(noSmtp.stderr).toMatch(/^mailroom: No SMTP server: set SMTP_URL/);
    const badSmtp = await mailroom(['send', '--database', 'file:/tmp/mailroom-cli-nosmtp'], { SMTP_URL: 'http://u:hunter2@x' });
    expect(badSmtp.code).toBe(1);
    expect(badSmtp.stderr).toContain('Unsupported SMTP URL scheme "http:"');
    expect(badSmtp.stderr).not.toContain('hunter2');
    const badDb = await mailroom(['status'], { DATABASE_URL: 'mysql://root:hunter2@localhost/x' });
    expect(badDb.code).toBe(1);
    expect(badDb.stderr).toMatch(/Unsupported database URL "mysql:\/\/root:\*\*\*@localhost\/x"/);
    const downDb = await mailroom(['status'], { DATABASE_URL: 'postgres://root:hunter2@127.0.0.1:1/x' });
    expect(downDb.code).toBe(1);
    expect(downDb.stderr).toMatch(/Cannot connect to Postgres at 127.0.0.1:1\/x/);
    expect(downDb.stderr).not.toContain('hunter2');
  });
});

describe.each(ALL)('mailroom CLI on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  it('send, status, retry and migrate work on a queue filled by the library', async () => {
    const db = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
      for (let i = 0; i < 3; i++) {
        await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `n${i}`, text: 'x', headers: { [PRIORITY_HEADER]: 'low' } });
      }
      // The embedded database is one process at a time: hand it over to the CLI.
      await db.database.close();
      const env = { DATABASE_URL: db.url };

      expect((await mailroom(['migrate'], env)).code).toBe(0);
      const before = JSON.parse((await mailroom(['status', '--json'], env)).stdout);
      expect(before).toMatchObject({ queued: 3, sending: 0, deferred: 0, sent: 0, failed: 0 });
      expect(before.oldestQueuedSeconds).toBeGreaterThanOrEqual(0);

      const first = await mailroom(['send', '--smtp', smtp.url, '--limit', '2', '--concurrency', '2', '--lease', '30'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('sent 2, deferred 0, failed 0 (reached --limit)');
      expect(JSON.parse((await mailroom(['status', '--json'], env)).stdout)).toMatchObject({ queued: 1, sent: 2 });

      const rest = await mailroom(['send'], { ...env, SMTP_URL: smtp.url });
      expect(rest.stdout).toContain('sent 1, deferred 0, failed 0 (nothing more is due)');
      const after = JSON.parse((await mailroom(['status', '--json'], env)).stdout);
      expect(after).toMatchObject({ queued: 0, sent: 3, oldestQueuedSeconds: null });
      expect((await mailroom(['retry', '--failed'], env)).stdout).toContain('0 messages due now');
    } finally {
      await db.drop();
    }
  });

  it('exits 0 when the run worked even if messages were deferred; --max-deferred stops early', async () => {
    const db = await backend.create();
    const greylisting = await startSmtp({ onData: () => smtpError(451, '4.7.1 greylisted, try later') });
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
      for (let i = 0; i < 4; i++) await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `g${i}`, text: 'x' });
      await db.database.close();
      const env = { DATABASE_URL: db.url, SMTP_URL: greylisting.url };
      const stopped = await mailroom(['send', '--concurrency', '1', '--max-deferred', '2'], env);
      expect(stopped.stderr).toBe('');
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toMatch(/^sent 0, deferred 2, failed 0, released \d+ \(reached --max-deferred/);
      const rest = await mailroom(['send', '--concurrency', '1'], env);
      expect(rest.code).toBe(0);
      expect(rest.stdout).toContain('sent 0, deferred 2, failed 0 (nothing more is due)');
      expect(JSON.parse((await mailroom(['status', '--json'], env)).stdout)).toMatchObject({ deferred: 4, queued: 0, sending: 0 });
    } finally {
      await greylisting.close();
      await db.drop();
    }
  });

  it('exits non-zero when the SMTP server cannot be reached', async () => {
    const db = await backend.create();
    await db.database.close(); // the embedded database is one process at a time
    try {
      const result = await mailroom(['send', '--smtp', 'smtp://user:hunter2@127.0.0.1:1?tls=false'], { DATABASE_URL: db.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^mailroom: Cannot connect to SMTP server smtp:\/\/user:\*\*\*@127.0.0.1:1/);
      expect(result.stderr).not.toContain('hunter2');
    } finally {
      await db.drop();
    }
  });
});

describe('embedded database guard', () => {
  it('a second process gets a clear error naming the fix, and the data is intact', async () => {
    const url = `file:/tmp/mailroom-lock-${process.pid}`;
    const database = await openDatabase(url);
    try {
      const result = await mailroom(['status'], { DATABASE_URL: url });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`in use by process ${process.pid}.*postgres:// URL to run several processes`));
    } finally {
      await database.close();
    }
    expect((await mailroom(['status', '--json'], { DATABASE_URL: url })).code).toBe(0);
  });

  it('a library opening a folder a running CLI holds gets DatabaseInUseError naming that process', async () => {
    const url = `file:/tmp/mailroom-lock-worker-${process.pid}`;
    const smtp = await startSmtp();
    const worker = spawnMailroom(url, ['worker', '--poll', '1h'], { SMTP_URL: smtp.url });
    try {
      await waitFor(() => worker.stdout().includes('worker started'), 'the worker to start');
      const error = await openDatabase(url).then(
        (database) => database.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DatabaseInUseError);
      expect((error as Error).message).toContain(`in use by process ${worker.child.pid}`);
    } finally {
      worker.kill('SIGTERM');
      await worker.exited;
      await smtp.close();
      rmSync(url.slice('file:'.length), { recursive: true, force: true });
    }
  });
});
