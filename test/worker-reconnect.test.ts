import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { enqueueMail, openDatabase } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport } from 'mailroom/drain';
import { runWorker } from '../src/drain/worker.js';
import { backends, pg } from './helpers/databases.js';
import { startScriptedSmtp } from './helpers/scripted-smtp.js';
import { startTcpProxy, throughProxy } from './helpers/tcp-proxy.js';
import { BIN } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';

// A continuous worker outlives a Postgres restart: the connection between the worker and
// Postgres goes through a TCP proxy the test cuts and restores (the machine's cluster is
// shared, so it is not restarted). The embedded database has no connection to lose.
const POSTGRES = (await backends()).some((b) => b.name === 'postgres');
/** Whether any backend of this database LISTENs (is not idle in the plain pool). */
async function listening(database: { sql?: { unsafe: (q: string) => Promise<unknown[]> } }): Promise<boolean> {
  const rows = (await database.sql!.unsafe(`select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen%'`)) as unknown[];
  return rows.length > 0;
}
const POSTGRES_PORT = Number(new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').port || 5432);

describe.runIf(POSTGRES)('worker and a lost Postgres', () => {
  it('reconnects with backoff, says so once, and loses or repeats nothing, even a message sent during the outage', async () => {
    const { url, database: direct, drop } = await pg.create();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: POSTGRES_PORT });
    const viaProxy = await openDatabase(throughProxy(url, proxy));
    // The server holds its reply to `inflight@` until told: the mail goes out while the database is away.
    let accept!: () => void;
    const accepted = new Promise<void>((resolve) => (accept = resolve));
    const server = await startScriptedSmtp(async ({ stage, recipients }) => {
      if (stage === 'body' && recipients[0] === 'inflight@example.com') await accepted;
      return undefined;
    });
    const transport = createSmtpTransport(server.url);
    const controller = new AbortController();
    const events: string[] = [];
    const worker = runWorker(viaProxy, {
      smtp: transport,
      signal: controller.signal,
      pollIntervalMs: 60_000,
      leaseSeconds: 8,
      reconnect: { firstMs: 100, maxMs: 500 },
      onDatabaseLost: (error) => events.push(`lost: ${error.message}`),
      onDatabaseBack: () => events.push('back'),
    });
    const send = (to: string) => enqueueMail(direct.db, { from: 'a@example.com', to, subject: to, text: 'x' });
    const row = async (to: string) => (await direct.db.select().from(messages).where(eq(messages.subject, to)))[0];
    try {
      await send('first@example.com');
      await waitFor(async () => (await row('first@example.com'))?.state === 'sent', 'the first message');

      await send('inflight@example.com');
      await waitFor(() => server.bodies === 2, 'the in-flight message to reach the server');
      await proxy.down();
      accept();
      await send('meanwhile@example.com'); // its NOTIFY cannot reach the worker
      await waitFor(() => events.length > 0, 'the worker to notice the loss');
      expect(events[0]).toMatch(/^lost: Lost the database connection mid-run/);
      await proxy.up();
      await waitFor(() => events.includes('back'), 'the worker to reconnect');

      // The message that went out during the outage is recorded as sent by its first attempt;
      // the one queued meanwhile is sent; none twice, nothing left behind.
      await waitFor(async () => (await row('inflight@example.com'))?.state === 'sent', 'the in-flight outcome');
      expect(await row('inflight@example.com')).toMatchObject({ state: 'sent', attempts: 1 });
      await waitFor(async () => (await row('meanwhile@example.com'))?.state === 'sent', 'the message queued meanwhile');
      // Woken by NOTIFY again (the poll is a minute away).
      await send('after@example.com');
      await waitFor(async () => (await row('after@example.com'))?.state === 'sent', 'a message queued after', 15_000);
      expect(server.duplicates()).toEqual([]);
      expect(server.delivered.map((d) => d.to[0]).sort()).toEqual(
        ['after@example.com', 'first@example.com', 'inflight@example.com', 'meanwhile@example.com'],
      );
      expect(events).toEqual([events[0], 'back']); // said once, not once per try
    } finally {
      controller.abort();
      await worker.catch(() => {});
      transport.close();
      await server.close();
      await viaProxy.close();
      await proxy.close();
      await drop();
    }
  });

  it('`mailroom worker` prints one line when Postgres goes away and one when it is back, and keeps sending', async () => {
    const { url, database: direct, drop } = await pg.create();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: POSTGRES_PORT });
    const server = await startScriptedSmtp();
    // Polling every second, so it meets the outage rather than sleeping through it.
    const child = spawn(process.execPath, [BIN, 'worker', '--poll', '1s'], {
      env: { ...process.env, MAILROOM_PAUSED: undefined, DATABASE_URL: throughProxy(url, proxy), SMTP_URL: server.url },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor(() => output.includes('worker started'), 'the worker', 30_000);
      await proxy.down();
      await waitFor(() => /Reconnecting with backoff/.test(output), 'the loss to be reported', 30_000).catch((e) => {
        throw new Error(`${e.message}; output: ${output}`);
      });
      await enqueueMail(direct.db, { from: 'a@example.com', to: 'b@example.com', subject: 'x', text: 'x' });
      await proxy.up();
      await waitFor(() => server.delivered.length === 1, 'the message queued during the outage', 30_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.match(/Reconnecting with backoff/g)).toHaveLength(1);
      expect(output.match(/database connection restored/g)).toHaveLength(1);
      expect(output).toContain('worker stopped: sent 1');
    } finally {
      child.kill('SIGKILL');
      await server.close();
      await proxy.close();
      await drop();
    }
  });

  it('a worker asleep through the outage catches up on what was queued meanwhile once Postgres is back', async () => {
    const { url, database: direct, drop } = await pg.create();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: POSTGRES_PORT });
    const viaProxy = await openDatabase(throughProxy(url, proxy));
    const server = await startScriptedSmtp();
    const transport = createSmtpTransport(server.url);
    const controller = new AbortController();
    const worker = runWorker(viaProxy, { smtp: transport, signal: controller.signal, pollIntervalMs: 60_000, onDatabaseLost: () => {} });
    try {
      await enqueueMail(direct.db, { from: 'a@example.com', to: 'b@example.com', subject: 'before', text: 'x' });
      await waitFor(() => server.delivered.length === 1, 'the first message');
      await proxy.down();
      await enqueueMail(direct.db, { from: 'a@example.com', to: 'b@example.com', subject: 'meanwhile', text: 'x' }); // its NOTIFY is lost
      // The listening connection is gone (the server's end of it too) before the database comes back.
      await waitFor(async () => !(await listening(direct)), 'the listening backend to go');
      await proxy.up();
      // Well before the minute's poll: the listening connection came back and woke the worker.
      await waitFor(() => server.delivered.length === 2, 'the message queued during the outage', 20_000);
    } finally {
      controller.abort();
      await worker.catch(() => {});
      transport.close();
      await server.close();
      await viaProxy.close();
      await proxy.close();
      await drop();
    }
  });
});
