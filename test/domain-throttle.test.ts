import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createSmtpTransport, drain, type DomainLimits } from 'mailroom/drain';
import { runWorker } from '../src/drain/worker.js';
import { domains, messages } from 'mailroom/schema';
import { recipientDomain } from '../src/store/schema.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { backends, type Backend } from './helpers/databases.js';
import { seedMessages } from './helpers/seed.js';
import { smtpError } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';

/**
 * Per-domain throttles (drain/domain-throttle.ts), counted at the receiver: an SMTP server
 * that records how many transactions are open at once per RCPT domain.
 */

const ALL = await backends();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Receiver {
  url: string;
  /** Most transactions open at once, per recipient domain. */
  peak: Map<string, number>;
  /** Messages accepted, per recipient domain. */
  accepted: Map<string, number>;
  /** RCPT commands seen, per recipient domain. */
  rcpts: Map<string, number>;
  /** Date.now() of each transaction's first RCPT, per recipient domain. */
  starts: Map<string, number[]>;
  /** Per domain: ms to wait before answering DATA, or a reply code for RCPT ("try later"). */
  slow: Map<string, number>;
  refuse: Map<string, number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const open = new Map<string, number>();
  const r: Omit<Receiver, 'url' | 'close'> = { peak: new Map(), accepted: new Map(), rcpts: new Map(), starts: new Map(), slow: new Map(), refuse: new Map() };
  const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
  const openOf = new WeakMap<SMTPServerSession, string>();
  const end = (session: SMTPServerSession) => {
    const domain = openOf.get(session);
    if (domain === undefined) return;
    openOf.delete(session);
    bump(open, domain, -1);
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, session, callback) {
      const domain = address.address.split('@').pop()!.toLowerCase();
      bump(r.rcpts, domain);
      const code = r.refuse.get(domain);
      if (code) return callback(smtpError(code, `${code} 4.7.0 ${domain} says try later`));
      if (!openOf.has(session)) {
        r.starts.set(domain, [...(r.starts.get(domain) ?? []), Date.now()]);
        openOf.set(session, domain);
        bump(open, domain);
        r.peak.set(domain, Math.max(r.peak.get(domain) ?? 0, open.get(domain)!));
      }
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', async () => {
        const domain = openOf.get(session);
        await delay(domain ? (r.slow.get(domain) ?? 0) : 0);
        if (domain) bump(r.accepted, domain);
        end(session);
        callback();
      });
    },
    onClose: (session) => end(session),
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { ...r, url: `smtp://127.0.0.1:${port}?tls=false`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** `count` messages to each domain, interleaved: the first recipient's domain is what counts. */
const toDomains = (names: string[]) => (i: number) => [`r${i}@${names[i % names.length]}`];

describe.each(ALL)('domain throttles on $name', { timeout: 120_000 }, (backend: Backend) => {
  let db: Awaited<ReturnType<Backend['create']>>;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());
  beforeEach(async () => {
    db = await backend.create();
    for (const map of [receiver.peak, receiver.accepted, receiver.rcpts, receiver.starts, receiver.slow, receiver.refuse]) map.clear();
  });
  afterEach(() => db.drop());

  const run = async (database: Database, limits: DomainLimits | undefined, concurrency = 8, extra: Parameters<typeof drain>[1] extends infer O ? Partial<O> : never = {}) => {
    const smtp = createSmtpTransport(receiver.url, { concurrency });
    try {
      return await drain(database.db, { smtp, concurrency, domains: limits, ...extra });
    } finally {
      smtp.close();
    }
  };

  it('stores each message under its first recipient’s domain, lower-cased', async () => {
    await seedMessages(db.database.db, 2, { recipients: (i) => (i === 0 ? ['A@Mail.Example.COM', 'b@other.test'] : ['"odd@name"@x.test']) });
    const rows = await db.database.db.select({ d: recipientDomain }).from(messages).orderBy(messages.id);
    expect(rows.map((r) => r.d)).toEqual(['mail.example.com', 'x.test']);
  });

  it('keeps a domain at its in-flight limit, counted at the receiver, while other domains use the lanes', async () => {
    await seedMessages(db.database.db, 60, { recipients: toDomains(['slow.test', 'fast.test']) });
    receiver.slow.set('slow.test', 120);
    receiver.slow.set('fast.test', 20);
    const result = await run(db.database, { default: { concurrency: 5 }, domains: { 'slow.test': { concurrency: 2 } } });
    expect(result).toMatchObject({ sent: 60, deferred: 0, failed: 0 });
    expect(receiver.accepted.get('slow.test')).toBe(30);
    expect(receiver.peak.get('slow.test')).toBe(2);
    expect(receiver.peak.get('fast.test')).toBe(5); // the default holds too, and the slow domain left it the lanes
  });

  it('holds the limit with two drains at once on one database', async () => {
    await seedMessages(db.database.db, 60, { recipients: toDomains(['slow.test', 'fast.test']) });
    receiver.slow.set('slow.test', 80);
    const limits = { domains: { 'slow.test': { concurrency: 3 } } };
    // On Postgres each drain has its own connections; the embedded database is shared in-process.
    const second = backend.name === 'postgres' ? await openDatabase(db.url) : db.database;
    try {
      // Both claim at once at the start: each counts before the other's claim commits, and
      // only the recount keeps them at 3 together (without it the receiver saw 6 on Postgres).
      // Which drain sends how many is a race (one may take every message), so only the sum is fixed.
      const [a, b] = await Promise.all([run(db.database, limits, 6), run(second, limits, 6)]);
      expect(a.sent + b.sent).toBe(60);
    } finally {
      if (second !== db.database) await second.close();
    }
    expect(receiver.accepted.get('slow.test')).toBe(30);
    expect(receiver.peak.get('slow.test')).toBe(3);
  });

  it('starts at most the domain’s rate per second', async () => {
    await seedMessages(db.database.db, 12, { recipients: toDomains(['rated.test', 'fast.test']) });
    const result = await run(db.database, { domains: { 'rated.test': { rate: 2 } } });
    expect(result.sent).toBe(12);
    // Two per second: half a second between starts, seen at the receiver. Timers run late under
    // load (PGlite's queries hold the event loop; a new connection's set-up delays its start), so
    // one gap may come short; without the slots, claims of two at once every second give three gaps of ~0.
    const starts = receiver.starts.get('rated.test')!;
    expect(starts).toHaveLength(6);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps.filter((gap) => gap < 250).length, `gaps ${gaps.join(', ')} ms`).toBeLessThanOrEqual(1);
    // The other domain was not paced: its six went out together.
    const fast = receiver.starts.get('fast.test')!;
    expect(fast[5]! - fast[0]!).toBeLessThan(starts[5]! - starts[0]!);
    const [row] = await db.database.db.select().from(domains).where(eq(domains.domain, 'rated.test'));
    expect(row?.nextAt).toBeInstanceOf(Date);
  });

  it('a 451 backs that domain off, with growing delays, and not the others; a success resets it', async () => {
    await seedMessages(db.database.db, 20, { recipients: toDomains(['busy.test', 'fast.test']) });
    receiver.refuse.set('busy.test', 451);
    const limits = { default: { concurrency: 2 } };
    const first = await run(db.database, limits, 4, { backoff: { baseSeconds: 60, capSeconds: 3600 } });
    expect(receiver.accepted.get('fast.test')).toBe(10);
    // Only what was in flight when it said "try later" reached it: at most its limit.
    expect(receiver.rcpts.get('busy.test')).toBeLessThanOrEqual(2);
    expect(first.deferred).toBe(receiver.rcpts.get('busy.test'));
    const back = async () => (await db.database.db.select().from(domains).where(eq(domains.domain, 'busy.test')))[0]!;
    const once = await back();
    expect(once.backoffStep).toBe(1);
    expect((once.backoffUntil!.getTime() - Date.now()) / 1000).toBeGreaterThan(50);
    const waiting = await db.database.db.select({ state: messages.state, attempts: messages.attempts }).from(messages).where(eq(recipientDomain, 'busy.test'));
    expect(waiting.filter((m) => m.state === 'queued' && m.attempts === 0).length).toBe(10 - first.deferred);

    // Still backed off: another run claims none of its messages.
    const rcpts = receiver.rcpts.get('busy.test');
    expect((await run(db.database, limits, 4)).sent).toBe(0);
    expect(receiver.rcpts.get('busy.test')).toBe(rcpts);

    // The back-off ends, the domain says "try later" again: the next step is twice as long.
    await db.database.db.update(domains).set({ backoffUntil: sql`now() - interval '1 second'` });
    await run(db.database, limits, 4, { backoff: { baseSeconds: 60, capSeconds: 3600 } });
    const twice = await back();
    expect(twice.backoffStep).toBe(2);
    expect((twice.backoffUntil!.getTime() - Date.now()) / 1000).toBeGreaterThan(110);

    // It answers again: everything due goes, and the success resets the back-off.
    receiver.refuse.clear();
    await db.database.db.update(domains).set({ backoffUntil: sql`now() - interval '1 second'` });
    await db.database.db.update(messages).set({ nextAttemptAt: sql`now()` });
    const last = await run(db.database, limits, 4);
    expect(last.sent).toBe(10);
    expect(await back()).toMatchObject({ backoffStep: 0, backoffUntil: null });
  });

  it('mailroom send takes the limits from its flags and from the config file', async () => {
    await seedMessages(db.database.db, 24, { recipients: toDomains(['slow.test', 'fast.test']) });
    await db.database.close(); // the CLI opens it (the embedded database is one process at a time)
    receiver.slow.set('slow.test', 100);
    const env = { DATABASE_URL: db.url, SMTP_URL: receiver.url };
    const byFlag = await mailroom(['send', '--concurrency', '6', '--limit', '12', '--domain', 'slow.test:concurrency=2'], env);
    expect(byFlag.stdout, byFlag.stderr).toMatch(/sent 12\b/);
    expect(receiver.peak.get('slow.test')).toBe(2);
    receiver.peak.clear();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mailroom-throttle-')));
    try {
      writeFileSync(join(dir, 'mailroom.config.mjs'), `export default { drain: { concurrency: 6, domains: ['slow.test:concurrency=3'] } };\n`);
      const byFile = await mailroom(['send'], env, dir);
      expect(byFile.stdout, byFile.stderr).toMatch(/sent 12\b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(receiver.peak.get('slow.test')).toBe(3);
  });

  it('a worker sleeps while the only due mail is a backed-off domain’s, instead of running again at once', async () => {
    await seedMessages(db.database.db, 6, { recipients: toDomains(['busy.test']) });
    receiver.refuse.set('busy.test', 451);
    const smtp = createSmtpTransport(receiver.url, { concurrency: 2 });
    const controller = new AbortController();
    const worker = runWorker(db.database, { smtp, concurrency: 2, domains: { default: { concurrency: 2 } }, pollIntervalMs: 5000, signal: controller.signal });
    await delay(3000);
    controller.abort();
    const totals = await worker;
    smtp.close();
    expect(totals.deferred).toBeGreaterThan(0);
    // One run met the 451; the five queued behind it are due but held: the next look is at the poll, not 50 ms later.
    expect(totals.runs).toBeLessThanOrEqual(3);
  });
});

describe('domain throttle flags and config', { timeout: 60_000 }, () => {
  const folder = (files: Record<string, string>) => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mailroom-throttle-')));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
  };
  const env = { DATABASE_URL: 'file:/nonexistent/db', SMTP_URL: 'smtp://127.0.0.1:9?tls=false' };

  it.each([
    [['--domain', 'gmail.com'], /is not DOMAIN:concurrency=N,rate=N: e\.g\. gmail\.com:concurrency=2,rate=5/],
    [['--domain', 'gmail.com:concurrency=0'], /concurrency "0" is not a whole number from 1 to 100000/],
    [['--domain', 'gmail.com:rate=fast'], /rate "fast" is not a number of messages per second/],
    [['--domain', 'gmail.com:burst=3'], /unknown key "burst" \(concurrency or rate\)/],
    [['--domain', 'gmail.com:rate=0x10'], /rate "0x10" is not a number of messages per second/],
    [['--domain', 'gmail.com:concurrency=2,concurrency=3'], /concurrency is given twice: give it once/],
    [['--rate', '0x10'], /"0x10" is not a number from 0\.001/],
    [['--domain', 'not a domain:rate=1'], /is not DOMAIN:concurrency=N,rate=N/],
    [['--domain-concurrency', '0'], /"0" is not a whole number from 1 to 100000/],
    [['--domain-rate', '-1'], /"-1" is not a number from 0\.001/],
  ])('send %j is a usage error naming the fix', async (args, message) => {
    const result = await mailroom(['send', ...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('a domain given twice is refused before anything is sent', async () => {
    const result = await mailroom(['send', '--domain', 'a.test:rate=1', '--domain', 'A.test:concurrency=2'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Two limits for a\.test: give one --domain a\.test:… with every key in it/);
  });

  it('the config file sets the same limits, and a bad value there names the key', async () => {
    using good = folder({ 'mailroom.config.mjs': `export default { drain: { domainConcurrency: 4, domainRate: 10, domains: ['gmail.com:concurrency=2,rate=5'] } };\n` });
    const printed = await mailroom(['config', '--json'], {}, good.dir);
    expect(printed.code).toBe(0);
    const settings = JSON.parse(printed.stdout).settings as Record<string, { value: unknown }>;
    expect(settings['drain.domainConcurrency']?.value).toBe(4);
    expect(settings['drain.domainRate']?.value).toBe(10);
    expect(settings['drain.domains']?.value).toEqual(['gmail.com:concurrency=2,rate=5']);

    using bad = folder({ 'mailroom.config.mjs': `export default { drain: { domains: ['gmail.com:concurrency=lots'] } };\n` });
    const refused = await mailroom(['send'], env, bad.dir);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/drain\.domains/);
    expect(refused.stderr).toMatch(/concurrency "lots" is not a whole number/);
  });
});
