import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { eq } from 'drizzle-orm';
import { createQueueTransport } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { createDeliveryTransport, failedAtConnect, type FailoverEvent } from '../src/drain/transports.js';
import { retryMessages } from '../src/store/retry.js';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { startScriptedSmtp, type Script } from './helpers/scripted-smtp.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { seedMessages } from './helpers/seed.js';
import { mailroom } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import { closedPort } from './helpers/closed-port.js';

/**
 * Several transports behind the drain: SMTP servers in failover order (a server that fails
 * at connect is set aside, the message goes to the next at once, the first is tried again
 * later) and routes by sender domain, all against real SMTP servers in this process.
 */

const ALL = await backends();


const MESSAGE = { envelope: { from: 'a@example.com', to: ['b@example.com'] }, raw: 'From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n\r\nx\r\n' };

async function errorOf(url: string): Promise<unknown> {
  const transport = createSmtpTransport(url, { socketTimeout: 5000, connectionTimeout: 5000 });
  try {
    await transport.sendMail(MESSAGE);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    transport.close();
  }
}

describe('what counts as a failure at connect', () => {
  it('refused, 421/554 greeting, 421 to EHLO, greeting timeout: yes; 4xx to MAIL/RCPT/DATA, a drop mid-message: no', async () => {
    const at = (stage: string, reply: ReturnType<Script>): Script => (ctx) => (ctx.stage === stage ? reply : undefined);
    const cases: [string, Script | 'refused', boolean][] = [
      ['refused', 'refused', true],
      ['421 greeting', at('greeting', '421 4.3.2 too busy, try later'), true],
      ['554 greeting', at('greeting', '554 5.3.2 no service here'), true],
      ['421 to EHLO', at('ehlo', '421 4.3.2 shutting down'), true],
      ['451 to MAIL', at('mail', '451 4.3.0 try later'), false],
      ['452 to RCPT', at('rcpt', '452 4.2.2 mailbox full'), false],
      ['451 after DATA', at('body', '451 4.3.0 try later'), false],
      ['dropped mid-message', at('data', 'drop-mid-data'), false],
    ];
    const seen: Record<string, boolean> = {};
    for (const [name, script, _] of cases) {
      if (script === 'refused') {
        seen[name] = failedAtConnect(await errorOf(`smtp://127.0.0.1:${await closedPort()}?tls=false`));
        continue;
      }
      const server = await startScriptedSmtp(script);
      try {
        const error = await errorOf(server.url);
        expect(error, name).toBeTruthy();
        seen[name] = failedAtConnect(error);
      } finally {
        await server.close();
      }
    }
    expect(seen).toEqual(Object.fromEntries(cases.map(([name, , expected]) => [name, expected])));

    // A server that never greets: nodemailer's greeting timer, a failure at connect.
    const silent = await startScriptedSmtp((ctx) => (ctx.stage === 'greeting' ? 'stall' : undefined));
    const transport = createSmtpTransport(silent.url, { connectionTimeout: 300 });
    const error = await transport.sendMail(MESSAGE).catch((e: unknown) => e);
    transport.close();
    await silent.close();
    expect(failedAtConnect(error)).toBe(true);
  });
});

describe.each(ALL)('failover on $name', (backend) => {
  let backup: TestSmtp;
  beforeAll(async () => {
    backup = await startSmtp();
  });
  afterAll(() => backup.close());

  it('the first server goes down mid-run: the rest go to the second at once, and back to the first once it answers; none lost', async () => {
    const { database, drop } = await backend.create();
    const primary = await startSmtp();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: primary.port });
    backup.received.length = 0;
    const events: string[] = [];
    const transport = createDeliveryTransport([`smtp://127.0.0.1:${proxy.port}?tls=false`, backup.url], {
      concurrency: 2,
      retryAfterMs: 400,
      onFailover: (e: FailoverEvent) => events.push(`down ${e.from} -> ${e.to}`),
      onRecover: (name) => events.push(`back ${name}`),
    });
    try {
      const ids = await seedMessages(database.db, 90);
      const run = drain(database.db, { smtp: transport, concurrency: 2, rate: 25 });
      await waitFor(() => primary.received.length >= 15, 'the first server to take 15 messages');
      await proxy.down(); // connections cut mid-session, new ones refused
      const downAt = Date.now();
      await waitFor(() => backup.received.length >= 15, 'the second server to take over');
      await proxy.up();
      const upAt = Date.now();
      const result = await run;
      // A message cut mid-DATA is deferred (the server may hold it), not moved: send those now.
      await retryMessages(database.db);
      const rest = await drain(database.db, { smtp: transport, concurrency: 2 });
      expect(result.sent + rest.sent).toBe(90);
      expect(result.failed + rest.failed).toBe(0);
      expect(result.deferred).toBeLessThanOrEqual(2); // at most the sends in flight at the cut

      const got = [...primary.received, ...backup.received].map((m) => m.parsed.messageId);
      expect(new Set(got)).toEqual(new Set(ids));
      expect(got.length - ids.length).toBeLessThanOrEqual(2); // duplicates: only what was in flight at the cut
      expect(backup.received.every((m) => m.at >= downAt)).toBe(true);
      const afterUp = primary.received.filter((m) => m.at > upAt).length;
      expect(afterUp).toBeGreaterThan(0); // came back to the first
      expect(events[0]).toMatch(new RegExp(`^down smtp://127.0.0.1:${proxy.port}\\?tls=false -> ${backup.url.replace(/\?/, '\\?')}$`));
      expect(events).toContain(`back smtp://127.0.0.1:${proxy.port}?tls=false`);
      const rows = await database.db.select({ state: messages.state }).from(messages).where(eq(messages.state, 'sent'));
      expect(rows).toHaveLength(90);
    } finally {
      transport.close();
      await proxy.close();
      await primary.close();
      await drop();
    }
  });

  it('a 421 greeting moves every message to the next server, none deferred; the first is tried again after --failover-retry', async () => {
    const { database, drop } = await backend.create();
    let busy = true;
    const primary = await startScriptedSmtp((ctx) => (ctx.stage === 'greeting' && busy ? '421 4.3.2 too busy, try later' : undefined));
    backup.received.length = 0;
    const events: string[] = [];
    let lastDown = 0;
    const WINDOW = 3000;
    const transport = createDeliveryTransport([primary.url, backup.url], {
      concurrency: 2,
      retryAfterMs: WINDOW,
      onFailover: (e) => {
        lastDown = Date.now();
        events.push(`down: ${e.reason}`);
      },
      onRecover: () => events.push('back'),
    });
    try {
      await seedMessages(database.db, 6);
      expect(await drain(database.db, { smtp: transport, concurrency: 2 })).toMatchObject({ sent: 6, deferred: 0 });
      expect(backup.received).toHaveLength(6);
      expect(primary.delivered).toHaveLength(0);
      // Set aside once (again only if a run outlasts the window and tries it again).
      expect(new Set(events)).toEqual(new Set(['down: 421 4.3.2 too busy, try later']));
      const sessions = primary.sessions;
      // Within the window the first is not asked again.
      await seedMessages(database.db, 2);
      await drain(database.db, { smtp: transport, concurrency: 1 });
      if (Date.now() - lastDown < WINDOW) expect(primary.sessions).toBe(sessions);
      busy = false;
      await waitFor(() => Date.now() - lastDown > WINDOW, 'the window to pass');
      await seedMessages(database.db, 4);
      // One at a time: the first message tries the first server again, and the rest follow it there.
      expect(await drain(database.db, { smtp: transport, concurrency: 1 })).toMatchObject({ sent: 4, deferred: 0 });
      expect(primary.delivered).toHaveLength(4);
      expect(events.at(-1)).toBe('back');
      expect(events.filter((e) => e === 'back')).toHaveLength(1);
    } finally {
      transport.close();
      await primary.close();
      await drop();
    }
  });

  it('`mailroom send` with several URLs and routes by sender domain: each message through its route, failing over inside it', async () => {
    const { url, database, drop } = await backend.create();
    const a = await startSmtp();
    const b = await startSmtp();
    backup.received.length = 0;
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const send = (from: string, subject: string) => queue.sendMail({ from, to: 'rcpt@dest.test', subject, text: subject });
      await send('a@example.com', 'example');
      await send('Billing <b@billing.example.com>', 'subdomain');
      await send('c@other.org', 'other');
      await send('d@elsewhere.net', 'default');
      await database.close();
      const dead = `smtp://127.0.0.1:${await closedPort()}?tls=false`;
      const result = await mailroom(['send', '--database', url, '--smtp', `${dead}, ${backup.url}`, '--route', `example.com=${dead},${a.url}`, '--route', `other.org=${b.url}`]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('sent 4, deferred 0, failed 0');
      expect(result.stdout).toContain(`${dead} failed at connect (connect ECONNREFUSED`);
      expect(a.received.map((m) => m.parsed.subject).sort()).toEqual(['example', 'subdomain']);
      expect(b.received.map((m) => m.parsed.subject)).toEqual(['other']);
      expect(backup.received.map((m) => m.parsed.subject)).toEqual(['default']);

      // Bad routes are usage errors; a route list with no server answering stops the run before anything is claimed.
      const bad = await mailroom(['send', '--database', url, '--route', 'example.com']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('is not DOMAIN=URL');
      const down = await mailroom(['send', '--database', url, '--smtp', `${dead},${dead.replace('?', '/?')}`]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/^mailroom: Cannot connect to SMTP server .*no server answered \(.*ECONNREFUSED.*; .*ECONNREFUSED.*\)\n$/);
    } finally {
      await a.close();
      await b.close();
      await drop();
    }
  });
});
