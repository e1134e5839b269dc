import { describe, expect, it } from 'vitest';
import { asc, eq, sql } from 'drizzle-orm';
import { attempts, messages } from 'mailroom/schema';
import { createSmtpTransport, drain, type DrainOptions } from 'mailroom/drain';
import { backoffSeconds } from '../src/drain/backoff.js';
import { QueryGuard, midRunDatabaseError } from '../src/drain/guard.js';
import { DatabaseError } from '../src/errors.js';
import { backends, hasPostgres } from './helpers/databases.js';
import { sharedDatabase } from './helpers/shared-database.js';
import { sharedPostgres } from './helpers/shared-postgres.js';
import { startScriptedSmtp, type Script, type ScriptedSmtp } from './helpers/scripted-smtp.js';
import { seedMessages, stateCounts } from './helpers/seed.js';
import { spawnDrain } from './helpers/spawn-drain.js';
import { startTcpProxy, throughProxy } from './helpers/tcp-proxy.js';
import { waitFor } from './helpers/wait.js';
import { inFlightBound } from '../src/drain/defaults.js';

// Delivery under SMTP faults, on the embedded database (what `npm start` and new users
// run) and on Postgres. Kills and concurrent drains are in concurrency.test.ts.
const ALL = await backends();
const POSTGRES = hasPostgres(ALL);

describe.each(ALL)('SMTP faults on $name', (backend) => {
  const shared = sharedDatabase(backend);
  const db = shared.db;

  /**
   * One drain over whatever is due, through a fresh pool to `server`. The socket timeout
   * is long enough that a slow reply on a starved machine is not taken for a stall;
   * tests of stalls pass a short one and wait it out once.
   */
  async function drainOnce(server: ScriptedSmtp, options: Partial<DrainOptions> = {}, socketTimeout = 15_000) {
    const smtp = createSmtpTransport(server.url, { concurrency: options.concurrency ?? 1, socketTimeout });
    try {
      return await drain(db(), { smtp, concurrency: 1, backoff: { baseSeconds: 60 }, ...options });
    } finally {
      smtp.close();
    }
  }

  const rowsByRecipient = async () => {
    const rows = await db().select().from(messages).orderBy(asc(messages.id));
    return new Map(rows.map((r) => [r.recipients[0]!, r]));
  };
  const attemptsOf = (id: number) => db().select().from(attempts).where(eq(attempts.messageId, id)).orderBy(asc(attempts.id));

  it('classifies every reply: 4xx, 421, drops and timeouts defer; 5xx fail; each attempt logged with code and text', async () => {
    const CODES = [421, 450, 451, 452, 550, 552, 554];
    // The recipient names the fault: rcpt-451@ is refused at RCPT, body-554@ after the message, …
    const script: Script = ({ stage, recipient, recipients }) => {
      const who = stage === 'rcpt' ? recipient! : recipients[0] ?? '';
      const [where, code] = who.split('@')[0]!.split('-');
      if (where === 'rcpt' && stage === 'rcpt') return `${code} ${code![0]}.7.1 scripted refusal of ${who} at RCPT`;
      if (where === 'datacmd' && stage === 'data') return `${code} ${code![0]}.3.0 scripted refusal at DATA`;
      if (where === 'body' && stage === 'body') return `${code} ${code![0]}.6.0 scripted refusal after the message`;
      if (who === 'drop-rcpt@example.com' && stage === 'rcpt') return 'drop';
      if (who === 'drop-data@example.com' && stage === 'data') return 'drop-mid-data';
      if (who === 'stall-body@example.com' && stage === 'body') return 'stall';
      return undefined;
    };
    const server = await startScriptedSmtp(script);
    try {
      const cases = [
        ...CODES.map((c) => `rcpt-${c}`),
        ...[421, 451, 554].map((c) => `datacmd-${c}`),
        ...CODES.map((c) => `body-${c}`),
        'drop-rcpt',
        'stall-body',
        'fine',
      ];
      await seedMessages(db(), cases.length, { recipients: (i) => [`${cases[i]}@example.com`] });
      // Big enough that DATA spans several TCP chunks, so the drop is really mid-message.
      await seedMessages(db(), 1, { recipients: () => ['drop-data@example.com'], bodyBytes: 512 * 1024 });

      const started = Date.now();
      const result = await drainOnce(server, {}, 5000); // stall-body waits this out once
      const transient = cases.filter((c) => /-4\d\d$|^drop|^stall/.test(c)).length + 1;
      expect(result).toMatchObject({ sent: 1, deferred: transient, failed: cases.length - 1 - (transient - 1) });

      const rows = await rowsByRecipient();
      for (const [recipient, row] of rows) {
        const label = recipient.split('@')[0]!;
        const code = Number(label.split('-')[1]) || null;
        const log = await attemptsOf(row.id);
        expect(log, label).toHaveLength(1);
        expect(log[0]!.attempt, label).toBe(1);
        expect(log[0]!.smtpCode, label).toBe(label === 'fine' ? 250 : code);
        expect(row.attempts, label).toBe(1);
        expect(row.leaseOwner, label).toBeNull();
        expect(row.leaseExpiresAt, label).toBeNull();
        if (label === 'fine') {
          expect(row.state).toBe('sent');
          expect(log[0]!.outcome).toBe('sent');
          continue;
        }
        const permanent = code !== null && code >= 500;
        expect(row.state, label).toBe(permanent ? 'failed' : 'deferred');
        expect(log[0]!.outcome, label).toBe(row.state);
        expect(row.recipientStatus[recipient]?.state, label).toBe(row.state);
        if (code) {
          expect(row.lastError, label).toMatch(new RegExp(`^${code} .*scripted refusal`));
          expect(log[0]!.reply, label).toMatch(new RegExp(`^${code} .*scripted refusal`));
        } else if (label === 'stall-body') {
          expect(row.lastError, label).toMatch(/^SMTP server timed out \(ETIMEDOUT\)/);
        } else {
          expect(row.lastError, label).toMatch(/^connection to the SMTP server (lost|failed) \((ECONNECTION|ESOCKET)\)/);
        }
        if (!permanent) {
          // baseSeconds 60 with equal jitter: 30–60 s from now
          expect(row.nextAttemptAt.getTime(), label).toBeGreaterThan(started + 29_000);
          expect(row.nextAttemptAt.getTime(), label).toBeLessThan(Date.now() + 61_000);
        }
      }
      expect(server.delivered.map((d) => d.to)).toEqual([['fine@example.com']]);
      const dropped = rows.get('drop-data@example.com')!;
      expect(dropped.state).toBe('deferred');
    } finally {
      await server.close();
    }
  });

  it('503 (bad sequence of commands) is the session, not the message: retried, not failed', async () => {
    const server = await startScriptedSmtp(({ stage }) => (stage === 'body' ? '503 5.5.1 bad sequence of commands' : undefined));
    try {
      await seedMessages(db(), 1);
      expect(await drainOnce(server)).toMatchObject({ deferred: 1 });
      const [row] = await db().select().from(messages);
      expect(row).toMatchObject({ state: 'deferred', lastError: '503 5.5.1 bad sequence of commands' });
    } finally {
      await server.close();
    }
  });

  it('a server that never greets is given up after the socket timeout, and deferred', async () => {
    const server = await startScriptedSmtp(({ stage }) => (stage === 'greeting' ? 'stall' : undefined));
    try {
      await seedMessages(db(), 1);
      const started = Date.now();
      const result = await drainOnce(server, {}, 1000);
      expect(result).toMatchObject({ sent: 0, deferred: 1 });
      const [row] = await db().select().from(messages);
      expect(row).toMatchObject({ state: 'deferred', leaseOwner: null });
      expect(row!.lastError).toMatch(/^SMTP server timed out \(ETIMEDOUT\)/);
      // Bounded by the socket timeout, not nodemailer's 15 s default for the greeting.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await server.close();
    }
  });

  it('a refused connection defers, with the reason', async () => {
    const server = await startScriptedSmtp();
    const url = server.url;
    await server.close();
    await seedMessages(db(), 2);
    const smtp = createSmtpTransport(url, { concurrency: 1, socketTimeout: 15_000 });
    try {
      const result = await drain(db(), { smtp, concurrency: 1, backoff: { baseSeconds: 60 } });
      expect(result).toMatchObject({ sent: 0, deferred: 2 });
    } finally {
      smtp.close();
    }
    const rows = await db().select().from(messages);
    for (const row of rows) {
      expect(row.state).toBe('deferred');
      expect(row.lastError).toMatch(/ECONNREFUSED|connect/i);
    }
  });

  it('a deferring message is failed once it runs out of attempts, every attempt logged, backoff growing', async () => {
    const server = await startScriptedSmtp(({ stage }) => (stage === 'rcpt' ? '451 4.7.1 greylisted, try later' : undefined));
    const backoff = { baseSeconds: 10, capSeconds: 100, maxAttempts: 6 };
    try {
      await seedMessages(db(), 5);
      const waits: number[][] = [];
      for (let run = 1; run <= backoff.maxAttempts; run++) {
        const result = await drainOnce(server, { backoff, concurrency: 2 });
        expect(result.sent).toBe(0);
        const rows = await db()
          .select({ state: messages.state, attempts: messages.attempts, lastError: messages.lastError, wait: sql<number>`extract(epoch from ${messages.nextAttemptAt} - ${messages.updatedAt})::float8` })
          .from(messages)
          .orderBy(asc(messages.id));
        if (run < backoff.maxAttempts) {
          expect(result.deferred).toBe(5);
          for (const row of rows) expect(row).toMatchObject({ state: 'deferred', attempts: run });
          waits.push(rows.map((r) => Number(r.wait)));
          // Make them due again without waiting for the backoff.
          await db().update(messages).set({ nextAttemptAt: sql`now()` });
        } else {
          expect(result.failed).toBe(5);
          for (const row of rows) {
            expect(row).toMatchObject({ state: 'failed', attempts: backoff.maxAttempts });
            expect(row.lastError).toMatch(/^gave up after 6 attempts; last reply: 451 4\.7\.1 greylisted/);
          }
        }
      }
      // Equal jitter: attempt n waits between half and all of min(cap, base·2^(n-1)).
      waits.forEach((wave, i) => {
        const full = Math.min(backoff.capSeconds, backoff.baseSeconds * 2 ** i);
        for (const wait of wave) {
          expect(wait).toBeGreaterThanOrEqual(full / 2 - 0.01);
          expect(wait).toBeLessThanOrEqual(full + 0.01);
        }
        // Jitter spreads messages deferred together.
        expect(new Set(wave.map((w) => w.toFixed(3))).size).toBeGreaterThan(1);
      });
      const means = waits.map((wave) => wave.reduce((a, b) => a + b, 0) / wave.length);
      expect(means[1]!).toBeGreaterThan(means[0]!);
      expect(means[2]!).toBeGreaterThan(means[1]!);
      expect(means[3]!).toBeGreaterThan(means[2]!);

      const log = await db().select().from(attempts).orderBy(asc(attempts.messageId), asc(attempts.attempt));
      expect(log).toHaveLength(5 * backoff.maxAttempts);
      for (const entry of log) {
        expect(entry.smtpCode).toBe(451);
        expect(entry.reply).toBe('451 4.7.1 greylisted, try later');
      }
      expect(log.filter((l) => l.outcome === 'deferred')).toHaveLength(5 * (backoff.maxAttempts - 1));
      // The last attempt's row says what became of the message.
      expect(log.filter((l) => l.outcome === 'failed').map((l) => l.attempt)).toEqual(Array(5).fill(backoff.maxAttempts));
      expect(server.delivered).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('a query that never answers stops the run once it outlives the lease; driver errors read as one line', async () => {
    const guard = new QueryGuard(0.2);
    const hung = guard.run(() => new Promise<never>(() => {}));
    await expect(hung).rejects.toThrow(DatabaseError);
    await expect(hung).rejects.toThrow(/^The database did not answer within 0.2s \(the lease\)\. Messages this run had claimed come back/);
    await expect(guard.failed).rejects.toBe(guard.failure);
    // Drizzle's wrapper (SQL and parameters) is dropped for the driver's own code and message.
    const wrapped = Object.assign(new Error('Failed query: update "mailroom_messages" … params: \\x0a0b…'), {
      cause: Object.assign(new Error('write CONNECTION_CLOSED db.internal:5432'), { code: 'CONNECTION_CLOSED' }),
    });
    const error = midRunDatabaseError(wrapped, 300);
    expect(error.message).toMatch(/^Lost the database connection mid-run \(CONNECTION_CLOSED: write CONNECTION_CLOSED db.internal:5432\)\. .*within 300s/);
    expect(error.message).not.toContain('Failed query');
    expect(error.cause).toBe(wrapped);
    const other = midRunDatabaseError(Object.assign(new Error('permission denied for table mailroom_messages'), { code: '42501' }), 60);
    expect(other.message).toMatch(/^Database error mid-run \(42501: permission denied/);
  });

  it('backoffSeconds: exponential, capped, half of it jitter', () => {
    const options = { baseSeconds: 60, capSeconds: 3600, maxAttempts: 10 };
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n, options, () => 0))).toEqual([30, 60, 120, 240]);
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n, options, () => 1))).toEqual([60, 120, 240, 480]);
    expect(backoffSeconds(20, options, () => 0.5)).toBe(2700);
  });

  it('mixed replies per recipient: accepted ones are never resent, refused ones fail, deferred ones retry', async () => {
    let greylist = true;
    const server = await startScriptedSmtp(({ stage, recipient }) => {
      if (stage !== 'rcpt') return undefined;
      if (recipient === 'gone@example.com') return '550 5.1.1 no such user';
      if (recipient === 'later@example.com' && greylist) return '450 4.2.1 mailbox busy';
      return undefined;
    });
    try {
      await seedMessages(db(), 1, { recipients: () => ['ok@example.com', 'gone@example.com', 'later@example.com'] });
      expect(await drainOnce(server)).toMatchObject({ deferred: 1 });
      let [row] = await db().select().from(messages);
      expect(row!.state).toBe('deferred');
      expect(row!.recipientStatus).toMatchObject({
        'ok@example.com': { state: 'sent' },
        'gone@example.com': { state: 'failed', reply: '550 5.1.1 no such user' },
        'later@example.com': { state: 'deferred', reply: '450 4.2.1 mailbox busy' },
      });
      greylist = false;
      await db().update(messages).set({ nextAttemptAt: sql`now()` });
      expect(await drainOnce(server)).toMatchObject({ sent: 1 });
      [row] = await db().select().from(messages);
      expect(row!.state).toBe('sent');
      expect(row!.lastError).toMatch(/refused: gone@example.com \(550 5.1.1 no such user\)/);
      expect(server.delivered.map((d) => d.to)).toEqual([['ok@example.com'], ['later@example.com']]);
      expect(server.delivered[0]!.messageId).toBe(server.delivered[1]!.messageId);
    } finally {
      await server.close();
    }
  });
});

describe.each(ALL)('a drain process stopped by a signal on $name', (backend) => {
  const shared = sharedDatabase(backend);
  const db = shared.db;

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: finishes the messages in flight, releases the rest, exits 0', async (signal) => {
    // Each message is held at the server until the test lets it go.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startScriptedSmtp(async ({ stage }) => {
      if (stage === 'body') await gate;
      return undefined;
    });
    try {
      await seedMessages(db(), 30);
      const exit = await shared.handOver(async (url) => {
        const run = spawnDrain(url, ['--smtp', server.url, '--concurrency', '3', '--lease', '60']);
        await waitFor(() => server.bodies === 3, 'three messages in flight', 60_000);
        run.kill(signal);
        await waitFor(() => run.stdout().includes('finishing messages in flight'), 'the drain to take the signal', 60_000);
        open();
        return run.exited;
      });
      expect(exit.stderr).toBe('');
      expect(exit.signal).toBeNull();
      expect(exit.code).toBe(0);
      expect(exit.stdout).toMatch(/finishing messages in flight, releasing the rest .*\nsent 3, deferred 0, failed 0, released \d+ \(stopped by signal\)\n$/);
      expect(server.delivered).toHaveLength(3);
      expect(await stateCounts(db())).toEqual({ sent: 3, queued: 27 });
      const rest = await db().select().from(messages).where(eq(messages.state, 'queued'));
      for (const row of rest) expect(row).toMatchObject({ attempts: 0, leaseOwner: null, leaseExpiresAt: null });
      expect(await db().select().from(attempts)).toHaveLength(3);
    } finally {
      open();
      await server.close();
    }
  });

});

// A lost connection needs a server to lose: the embedded database has none.
describe.runIf(POSTGRES)('a drain process that loses Postgres', () => {
  const shared = sharedPostgres();
  const db = shared.db;

  it('database connection lost mid-run: stops with a clear error and exit 1; after the lease another drain sends the rest', async () => {
    const COUNT = 200;
    const LEASE = 3;
    const CONCURRENCY = 4;
    const server = await startScriptedSmtp(async ({ stage }) => {
      if (stage === 'body') await new Promise((resolve) => setTimeout(resolve, 10));
      return undefined;
    });
    const target = new URL(shared.created().url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      await seedMessages(db(), COUNT);
      const args = ['--smtp', server.url, '--concurrency', String(CONCURRENCY), '--lease', String(LEASE)];
      const run = spawnDrain(throughProxy(shared.created().url, proxy), args);
      await waitFor(() => server.delivered.length >= 40, 'the drain to be well under way');
      const cutAt = Date.now();
      await proxy.down();
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      expect(exit.stdout).toBe('');
      expect(exit.stderr).toMatch(/^mailroom: Lost the database connection mid-run/);
      expect(exit.stderr).toMatch(/come back when their lease ends/);
      expect(exit.stderr.trim().split('\n')).toHaveLength(1); // one line, no stack
      expect(exit.stderr).not.toMatch(/Failed query|\n\s+at /);

      // Nothing lost: every message is sent, or waiting, or leased until at most LEASE s after the cut.
      const counts = await stateCounts(db());
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(COUNT);
      const leased = await db().select().from(messages).where(eq(messages.state, 'sending'));
      for (const row of leased) expect(row.leaseExpiresAt!.getTime()).toBeLessThanOrEqual(cutAt + LEASE * 1000 + 1000);

      // After the lease, another drain (with the database back) sends the rest.
      await proxy.up();
      await waitFor(
        async () => {
          const next = await spawnDrain(throughProxy(shared.created().url, proxy), args).exited;
          expect(next.stderr).toBe('');
          expect(next.code).toBe(0);
          return (await stateCounts(db())).sent === COUNT;
        },
        'a later drain to send the rest',
        (LEASE + 20) * 1000,
        500,
      );
      const stored = await db().select({ messageId: messages.messageId }).from(messages);
      expect(new Set(server.counts.keys())).toEqual(new Set(stored.map((m) => m.messageId)));
      const extra = server.delivered.length - COUNT;
      console.log(`[lost database] ${COUNT} messages, ${counts.sent ?? 0} sent before the cut, ${leased.length} leased at the cut, ${extra} sent twice; stderr: ${exit.stderr.trim()}`);
      // In flight: on each connection a send under way plus the outcomes not yet written (drain/defaults.ts).
      expect(extra).toBeLessThanOrEqual(inFlightBound(CONCURRENCY));
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  it('a database that stops answering mid-run: the query guard stops the process once a query outlives the lease', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startScriptedSmtp(async ({ stage }) => {
      if (stage === 'body') await gate;
      return undefined;
    });
    const target = new URL(shared.created().url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      await seedMessages(db(), 20);
      const run = spawnDrain(throughProxy(shared.created().url, proxy), ['--smtp', server.url, '--concurrency', '2', '--lease', '2']);
      await waitFor(() => server.bodies === 2, 'two messages in flight');
      // Connections stay open but nothing comes back: postgres.js would wait forever.
      proxy.freeze();
      const frozenAt = Date.now();
      open();
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      expect(exit.stderr).toMatch(/^mailroom: The database did not answer within 2s \(the lease\)\. Messages this run had claimed come back/);
      expect(exit.stderr.trim().split('\n')).toHaveLength(1);
      expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(2000); // the guard, not something sooner
      const counts = await stateCounts(db());
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(20);
      expect(counts.sent ?? 0).toBe(0); // the two accepted were never recorded: resent after the lease
    } finally {
      open();
      await proxy.close();
      await server.close();
    }
  });

  it('a database that accepts connections and drops them at once: the run stops with a clear error', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startScriptedSmtp(async ({ stage }) => {
      if (stage === 'body') await gate;
      return undefined;
    });
    const target = new URL(shared.created().url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      await seedMessages(db(), 20);
      const run = spawnDrain(throughProxy(shared.created().url, proxy), ['--smtp', server.url, '--concurrency', '2', '--lease', '2']);
      await waitFor(() => server.bodies === 2, 'two messages in flight');
      // postgres.js can retry such a server forever; if a query hangs, the drain gives up once it outlives the lease.
      proxy.blackhole(true);
      proxy.cut();
      open();
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      expect(exit.stderr).toMatch(/^mailroom: (Lost the database connection mid-run|The database did not answer within 2s)/);
      expect(exit.stderr.trim().split('\n')).toHaveLength(1);
      const counts = await stateCounts(db());
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(20);
      expect(counts.sent ?? 0).toBe(0); // the two accepted were never recorded: they are resent after the lease
    } finally {
      open();
      await proxy.close();
      await server.close();
    }
  });
});
