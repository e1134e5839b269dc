import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database } from 'mailroom';
import { messages } from 'mailroom/schema';
import { backends, type Backend } from './helpers/databases.js';
import { seedMessages } from './helpers/seed.js';
import { startSmtp, smtpError, type TestSmtp, type TestSmtpOptions } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { spawnDrain } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';
import { readDatabase } from './helpers/read-database.js';

/**
 * Every `send` flag that reaches the drain, passed through the real CLI and seen in
 * its effect (on the SMTP server or in the stored rows), not only in its parse error.
 */

const ALL = await backends();

/**
 * An onData hook that holds messages until `size` are waiting together, then gives a
 * drain that sends more at once `graceMs` to show one more before answering them all:
 * the most the server ever sees waiting is what the drain sends at once. Waiting for
 * `size` is progress-based; `patienceMs` only keeps a wrong drain from hanging the test.
 */
function gate(size: number, graceMs = 2_000, patienceMs = 20_000) {
  let waiting: (() => void)[] = [];
  const seen = { most: 0 };
  const openAll = () => {
    for (const open of waiting) open();
    waiting = [];
  };
  const hook: TestSmtpOptions['onData'] = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, patienceMs);
      waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      seen.most = Math.max(seen.most, waiting.length);
      if (waiting.length === size) setTimeout(openAll, graceMs);
    });
  return { hook, seen };
}

describe.each(ALL)('send flags on $name', { timeout: 400_000 }, (backend: Backend) => {
  let db: Awaited<ReturnType<Backend['create']>>;
  const servers: TestSmtp[] = [];
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await db.drop();
  });

  /** Seeds `count` messages, then hands the database over (the embedded one is one process at a time). */
  async function seed(count: number): Promise<void> {
    await seedMessages(db.database.db, count);
    await db.database.close();
  }
  async function server(options: TestSmtpOptions = {}): Promise<TestSmtp> {
    const smtp = await startSmtp(options);
    servers.push(smtp);
    return smtp;
  }
  const read = <T>(body: (database: Database) => Promise<T>) => readDatabase(db.url, body);
  const rows = () => read(({ db }) => db.select().from(messages).orderBy(messages.id));
  const send = (smtp: TestSmtp, ...args: string[]) => mailroom(['send', '--smtp', smtp.url, ...args], { DATABASE_URL: db.url });

  it('--limit: sends that many and leaves the rest queued', async () => {
    await seed(5);
    const smtp = await server();
    const result = await send(smtp, '--limit', '3', '--concurrency', '1');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('sent 3, deferred 0, failed 0 (reached --limit)');
    expect(smtp.received).toHaveLength(3);
    expect((await rows()).map((r) => r.state)).toEqual(['sent', 'sent', 'sent', 'queued', 'queued']);
  });

  it('--concurrency: the server sees exactly that many messages at once', async () => {
    await seed(6);
    const held = gate(3);
    const smtp = await server({ onData: held.hook });
    const result = await send(smtp, '--concurrency', '3');
    expect(result.stdout).toContain('sent 6, deferred 0, failed 0');
    expect(held.seen.most).toBe(3);
  });

  it('--rate: 10 messages at 5 per second take at least ~1.8 s at the server', async () => {
    await seed(10);
    const smtp = await server();
    const result = await send(smtp, '--rate', '5', '--concurrency', '1');
    expect(result.stdout).toContain('sent 10, deferred 0, failed 0');
    const arrivals = smtp.received.map((r) => r.at);
    // Starts are 200 ms apart: the last starts 1.8 s after the first. The first arrival is
    // late by the connection's set-up (slow on a busy machine), so time from the drain's
    // connection instead (the one before it was verify's), which opens right after the first start.
    const opened = Math.max(...smtp.connections.filter((t) => t <= arrivals[0]!));
    expect(Math.max(...arrivals) - opened).toBeGreaterThanOrEqual(1600);
  });

  it('--time-limit: stops claiming when it runs out, releases what it holds', async () => {
    await seed(60);
    // 500 ms a message, one at a time: all 60 would take 30 s. The limit counts from the
    // process's start (a cron run is bounded as a whole), so on a starved machine opening
    // the database may use much of it: how many go out before it is reached is not fixed.
    const smtp = await server({ onData: () => new Promise((resolve) => setTimeout(resolve, 500)) });
    const result = await send(smtp, '--time-limit', '2s', '--concurrency', '1');
    expect(result.stderr).toBe('');
    // "released N" is left out when nothing was claimed (the limit spent opening the database).
    expect(result.stdout).toMatch(/^sent (\d+), deferred 0, failed 0(, released (\d+))? \(reached --time-limit\)/);
    const [, sent, , released = 0] = /^sent (\d+)[^(]*?(, released (\d+))? \(/.exec(result.stdout)!.map((v) => Number(v ?? 0));
    expect(sent).toBeLessThan(60);
    expect(smtp.received).toHaveLength(sent!);
    if (sent! > 0) expect(released).toBeGreaterThan(0); // it had claimed a batch and let the rest go
    const states = (await rows()).map((r) => r.state);
    expect(states.filter((s) => s === 'sending')).toEqual([]); // released, not left leased
    expect(states.filter((s) => s === 'queued')).toHaveLength(60 - sent!);
  });

  it('--batch-size: claims that many at a time (seen in what a stopped drain releases)', async () => {
    await seed(60);
    // The first message is held at the server until the drain has been told to stop.
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const smtp = await server({
      onData: () => {
        arrived++;
        return arrived === 1 ? hold : undefined;
      },
    });
    const drain = spawnDrain(db.url, ['--smtp', smtp.url, '--concurrency', '1', '--batch-size', '3']);
    try {
      await waitFor(() => arrived === 1, 'the first message at the server', 60_000);
      drain.kill('SIGTERM');
      await waitFor(() => drain.stdout().includes('SIGTERM'), 'the drain to acknowledge SIGTERM', 60_000);
    } finally {
      release();
    }
    const exit = await drain.exited;
    expect(exit.code).toBe(0);
    const released = Number(/released (\d+)/.exec(exit.stdout)?.[1]);
    // One batch of 3 (one sent, two left), perhaps the next batch claimed ahead: 2 to 5 released.
    // The default batch (25) would release at least 24.
    expect(released).toBeGreaterThanOrEqual(2);
    expect(released).toBeLessThanOrEqual(5);
    expect(smtp.received).toHaveLength(1);
  });

  describe('with a greylisting server', () => {
    let greylisting: TestSmtp;
    beforeEach(async () => {
      greylisting = await server({ onData: () => smtpError(451, '4.7.1 greylisted, try later') });
    });
    /** Seconds from now until the one message is next due. */
    const dueIn = async () => ((await rows())[0]!.nextAttemptAt.getTime() - Date.now()) / 1000;

    it('--max-attempts: a message deferred on its first attempt fails on its second', async () => {
      await seed(1);
      expect((await send(greylisting, '--max-attempts', '2')).stdout).toContain('sent 0, deferred 1, failed 0');
      expect((await mailroom(['retry'], { DATABASE_URL: db.url })).stdout).toContain('1 message due now');
      expect((await send(greylisting, '--max-attempts', '2')).stdout).toContain('sent 0, deferred 0, failed 1');
      const [row] = await rows();
      expect(row).toMatchObject({ state: 'failed', attempts: 2 });
      expect(row!.lastError).toContain('451 4.7.1 greylisted');
    });

    it('--backoff-base: the first retry is due between half and all of it', async () => {
      await seed(1);
      expect((await send(greylisting, '--backoff-base', '10m', '--backoff-cap', '1d')).stdout).toContain('deferred 1');
      const wait = await dueIn();
      expect(wait).toBeGreaterThan(300 - 60); // 60 s slack for the time the CLI took to exit
      expect(wait).toBeLessThanOrEqual(600);
    });

    it('--backoff-cap: no retry is further away than the cap', async () => {
      await seed(1);
      expect((await send(greylisting, '--backoff-base', '2h', '--backoff-cap', '20m')).stdout).toContain('deferred 1');
      const wait = await dueIn();
      expect(wait).toBeGreaterThan(600 - 60);
      expect(wait).toBeLessThanOrEqual(1200);
    });
  });
});
