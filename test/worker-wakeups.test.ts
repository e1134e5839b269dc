import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { enqueueMail } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport } from 'mailroom/drain';
import { runWorker, type WorkerTotals } from '../src/drain/worker.js';
import { retryMessages } from '../src/store/retry.js';
import { PAUSED, setSetting } from '../src/store/settings.js';
import { backends, type Backend } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { BIN, mailroom } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';

// `mailroom worker` sleeps until something happens: a message queued (the insert
// trigger's NOTIFY), made due by a retry, sending resumed (both NOTIFY too), or the
// next due time (a timer). The poll interval here is a minute: anything sooner is a wake-up.
const POLL_MS = 60_000;
/** Well under the poll interval, with room for a loaded machine; the worker reacts in well under a second. */
const WAKE_MS = 10_000;

const ALL = await backends();

describe.each(ALL)('worker wake-ups on $name', (backend: Backend) => {
  let created: Awaited<ReturnType<Backend['create']>>;
  let smtp: TestSmtp;
  let refuse = false;
  beforeAll(async () => {
    created = await backend.create();
    smtp = await startSmtp({ onData: () => (refuse ? smtpError(451, '4.3.0 try later') : undefined) });
  });
  afterAll(async () => {
    await smtp?.close();
    await created?.drop();
  });
  beforeEach(async () => {
    await db().delete(messages);
    await setSetting(db(), PAUSED, null);
    smtp.received.length = 0;
    refuse = false;
  });
  const db = () => created.database.db;

  let stop: (() => Promise<WorkerTotals>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  const pauses: boolean[] = [];
  function startWorker() {
    pauses.length = 0;
    const controller = new AbortController();
    const transport = createSmtpTransport(smtp.url);
    const running = runWorker(created.database, {
      smtp: transport,
      signal: controller.signal,
      pollIntervalMs: POLL_MS,
      backoff: { baseSeconds: 3600 },
      onPause: (paused) => pauses.push(paused),
    });
    stop = async () => {
      controller.abort();
      try {
        return await running;
      } finally {
        transport.close();
      }
    };
  }
  const send = (subject: string, sendAt?: Date) => enqueueMail(db(), { from: 'a@example.com', to: 'b@example.com', subject, text: 'x', sendAt });
  const delivered = (subject: string) => smtp.received.some((m) => m.parsed.subject === subject);

  it('a retry wakes the worker: a deferred message an hour away goes out at once', async () => {
    startWorker();
    refuse = true;
    await send('deferred');
    await waitFor(async () => (await db().select().from(messages))[0]?.state === 'deferred', 'the message to be deferred', WAKE_MS);
    refuse = false;
    const started = Date.now();
    expect(await retryMessages(db())).toBe(1);
    await waitFor(() => delivered('deferred'), 'the retried message', WAKE_MS);
    expect(Date.now() - started).toBeLessThan(WAKE_MS);
  });

  it('resume wakes a paused worker, which sent nothing while paused', async () => {
    await setSetting(db(), PAUSED, new Date().toISOString());
    startWorker();
    await waitFor(() => pauses[0] === true, 'the worker to see the pause', WAKE_MS);
    await send('held');
    // The insert's NOTIFY woke it; it looked, saw the pause, and went back to sleep.
    await waitFor(async () => (await db().select().from(messages))[0]?.state === 'queued' && pauses.length === 1, 'the queued message', WAKE_MS);
    expect(smtp.received).toHaveLength(0);
    await setSetting(db(), PAUSED, null);
    await waitFor(() => delivered('held'), 'the message after resume', WAKE_MS);
    expect(pauses).toEqual([true, false]);
  });

  it('a running worker pauses, and sends once resumed', async () => {
    startWorker();
    await send('before');
    await waitFor(() => delivered('before'), 'the first message', WAKE_MS);
    await setSetting(db(), PAUSED, new Date().toISOString());
    await waitFor(() => pauses[0] === true, 'the worker to see the pause', WAKE_MS);
    await send('during');
    await setSetting(db(), PAUSED, null);
    await waitFor(() => delivered('during'), 'the message after resume', WAKE_MS);
  });

  it('a scheduled message goes out when it becomes due, not at the next poll', async () => {
    startWorker();
    const sendAt = new Date(Date.now() + 2000);
    await send('scheduled', sendAt);
    await waitFor(() => delivered('scheduled'), 'the scheduled message', WAKE_MS);
    expect(Date.now()).toBeGreaterThanOrEqual(sendAt.getTime() - 100); // the database's clock decides, give or take
    expect(Date.now()).toBeLessThan(sendAt.getTime() + WAKE_MS);
  });

  it('a message scheduled while the worker sleeps until a later one is not kept waiting', async () => {
    startWorker();
    await send('later', new Date(Date.now() + 3600_000));
    await waitFor(async () => (await db().select().from(messages)).length === 1, 'the later message');
    await send('sooner', new Date(Date.now() + 1500));
    await waitFor(() => delivered('sooner'), 'the sooner message', WAKE_MS);
    expect(await db().$count(messages, sql`${messages.state} = 'queued'`)).toBe(1);
  });
});

describe.runIf(ALL.some((b) => b.name === 'postgres'))('mailroom worker, retry and resume as separate processes (Postgres)', () => {
  it('`mailroom resume` and `mailroom retry` from another process wake `mailroom worker` within its poll', async () => {
    const backend = ALL.find((b) => b.name === 'postgres')!;
    const { url, database, drop } = await backend.create();
    let refuse = true;
    const smtp = await startSmtp({ onData: () => (refuse ? smtpError(451, '4.3.0 try later') : undefined) });
    const env = { DATABASE_URL: url, SMTP_URL: smtp.url };
    const child = spawn(process.execPath, [BIN, 'worker', '--poll', '60s', '--backoff-base', '1h'], {
      env: { ...process.env, MAILROOM_PAUSED: undefined, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      expect((await mailroom(['pause'], env)).code).toBe(0);
      await waitFor(() => stdout.includes('sending is paused: waiting for mailroom resume'), 'the paused worker', WAKE_MS);
      await enqueueMail(database.db, { from: 'a@example.com', to: 'b@example.com', subject: 'x', text: 'x' });
      expect((await mailroom(['resume'], env)).code).toBe(0);
      await waitFor(() => stdout.includes('deferred 1'), 'the worker to try after resume', WAKE_MS);
      refuse = false;
      expect((await mailroom(['retry'], env)).stdout).toContain('1 message due now');
      await waitFor(() => smtp.received.length === 1, 'the retried message', WAKE_MS);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toContain('sending resumed');
    } finally {
      child.kill('SIGKILL');
      await smtp.close();
      await drop();
    }
  });
});
