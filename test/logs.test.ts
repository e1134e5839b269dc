import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createQueueTransport } from 'mailroom';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { spawnMailroom } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';
import { closedPort } from './helpers/closed-port.js';

/**
 * `--log json`: every line on stdout is one JSON object (pino), one per delivery with its
 * message id, recipient domain, outcome, reply code and milliseconds at the outcome's
 * level, and never a password, a body or a subject.
 */

const ALL = await backends();
const SMTP_SECRET = 'Pa55-SMTP-SECRET';
const DB_SECRET = 'DB-SECRET-93';
const BODY = 'BODY-MARKER-7f3a Núria';
const SUBJECT = 'SUBJECT-MARKER-c1';


/** Every stdout line parsed; a line that is not JSON fails the test. */
function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
}

function expectNoSecrets(output: string): void {
  for (const secret of [SMTP_SECRET, DB_SECRET, 'BODY-MARKER', SUBJECT, 'Núria']) expect(output, secret).not.toContain(secret);
}

describe.each(ALL)('structured logs on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp({
      onRcpt: (address) => {
        if (address.endsWith('@slow.test')) return smtpError(451, '4.7.1 greylisted, try later');
        if (address.endsWith('@dead.test')) return smtpError(550, '5.1.1 no such user');
      },
    });
  });
  afterAll(() => smtp.close());

  /** A URL with a password the logs must hide (trust authentication ignores it). */
  const withPassword = (url: string) => (url.startsWith('postgres') ? url.replace('postgres@', `postgres:${DB_SECRET}@`) : url);

  it('`mailroom send --log json`: one line per delivery at its level, a summary, the failover warning; no password, body or subject', async () => {
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const add = (to: string) => queue.sendMail({ from: 'app@example.com', to, subject: SUBJECT, text: BODY, html: `<p>${BODY}</p>` });
      const sent = await add('Ok@Dest.TEST');
      const deferred = await add('later@slow.test');
      const failed = await add('gone@dead.test');
      await database.close();

      const dead = `smtp://mailer:${SMTP_SECRET}@127.0.0.1:${await closedPort()}?tls=false`;
      const result = await mailroom(['send', '--database', withPassword(url), '--smtp', `${dead},${smtp.url}`, '--log', 'json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expectNoSecrets(result.stdout);
      const all = lines(result.stdout);
      for (const line of all) {
        expect(line).toMatchObject({ name: 'mailroom send', level: expect.stringMatching(/^(info|warn|error)$/), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: expect.any(String) });
      }

      const deliveries = all.filter((l) => l.event === 'delivery');
      expect(deliveries).toHaveLength(3);
      const byId = (messageId: string) => deliveries.find((d) => d.messageId === messageId)!;
      expect(byId(sent.messageId)).toMatchObject({ level: 'info', outcome: 'sent', domain: 'dest.test', code: 250, recipients: 1, attempt: 1 });
      expect(byId(deferred.messageId)).toMatchObject({ level: 'warn', outcome: 'deferred', domain: 'slow.test', code: 451 });
      expect(byId(failed.messageId)).toMatchObject({ level: 'error', outcome: 'failed', domain: 'dead.test', code: 550 });
      for (const d of deliveries) {
        expect(d.id).toEqual(expect.any(Number));
        expect(d.ms).toEqual(expect.any(Number));
        expect(d.ms as number).toBeGreaterThanOrEqual(0);
        expect(d.ms as number).toBeLessThan(60_000);
      }

      const failover = all.find((l) => l.event === 'failover')!;
      expect(failover).toMatchObject({ level: 'warn', next: smtp.url });
      expect(failover.msg).toMatch(/^smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:\d+\?tls=false failed at connect \(connect ECONNREFUSED/);
      expect(all.at(-1)).toMatchObject({ event: 'summary', level: 'info', sent: 1, deferred: 1, failed: 1, msg: expect.stringMatching(/^sent 1, deferred 1, failed 1/) });

      // Text stays the default, and reads as before: one summary line.
      const text = await mailroom(['send', '--database', withPassword(url), '--smtp', smtp.url]);
      expect(text.stdout).toBe('sent 0, deferred 0, failed 0 (nothing more is due)\n');
      const bad = await mailroom(['send', '--database', url, '--smtp', smtp.url, '--log', 'xml']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("Allowed choices are text, json");
    } finally {
      await drop();
    }
  });

  it('`mailroom worker --log json --log-level warn` prints only warnings and errors, every line JSON', async () => {
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const received = smtp.received.length;
      await queue.sendMail({ from: 'app@example.com', to: 'fine@dest.test', subject: SUBJECT, text: BODY });
      await queue.sendMail({ from: 'app@example.com', to: 'later@slow.test', subject: SUBJECT, text: BODY });
      await database.close();
      const worker = spawnMailroom(withPassword(url), ['worker', '--smtp', smtp.url, '--log', 'json', '--log-level', 'warn', '--poll', '0.2']);
      try {
        await waitFor(() => smtp.received.length > received && worker.stdout().includes('"outcome":"deferred"'), 'the worker to send one and defer the other');
      } finally {
        worker.kill('SIGTERM');
      }
      const exit = await worker.exited;
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
      expectNoSecrets(exit.stdout);
      const all = lines(exit.stdout);
      expect(all.map((l) => [l.level, l.event, l.outcome ?? null])).toEqual([['warn', 'delivery', 'deferred']]);
      expect(all[0]).toMatchObject({ name: 'mailroom worker', domain: 'slow.test', code: 451 });
    } finally {
      await drop();
    }
  });
});
