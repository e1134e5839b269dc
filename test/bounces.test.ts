import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { eq } from 'drizzle-orm';
import { createQueueTransport, openDatabase, ConfigError } from 'mailroom';
import { messages, bounces } from 'mailroom/schema';
import { createSmtpTransport, drain, listSuppressions } from 'mailroom/drain';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { mailroom, type CliResult } from './helpers/cli.js';

const ALL = await backends();
const fixture = (name: string, values: Record<string, string>) =>
  Object.entries(values)
    .reduce((text, [key, value]) => text.replaceAll(`{{${key}}}`, value), readFileSync(new URL(`./fixtures/bounces/${name}`, import.meta.url), 'utf8'))
    .replace(/\r?\n/g, '\r\n');

/** `mailroom bounces` with a report on standard input, as a Postfix pipe runs it. */
const piped = (args: string[], input: string, env: Record<string, string>): Promise<CliResult> => mailroom(args, env, undefined, input);

describe.each(ALL)('bounces and complaints on $name', (backend) => {
  let smtp: TestSmtp;
  let dir: string;
  beforeAll(async () => {
    smtp = await startSmtp();
    dir = mkdtempSync(join(tmpdir(), 'mailroom-bounces-'));
  });
  afterAll(async () => {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a DSN on stdin and an ARF report in an mbox suppress the right addresses, soft bounces after the limit; the next send to them is not delivered and says why', { timeout: 600_000 }, async () => {
    const created = await backend.create();
    const sent = new Map<string, { id: number; messageId: string; envelopeFrom: string }>();
    let reopened: Awaited<ReturnType<typeof openDatabase>> | undefined;
    try {
      expect(() => createQueueTransport({ database: created.database, returnPath: 'bounces+x@example.com' })).toThrow(ConfigError);
      const queue = nodemailer.createTransport(createQueueTransport({ database: created.database, returnPath: 'bounces@example.com' }));
      for (const to of ['Gone@example.com', 'angry@example.com', 'slow@example.com', 'odd@example.com', 'fine@example.com']) {
        const info = await queue.sendMail({ from: 'news@example.com', to, subject: 'The news', text: 'x' });
        const [row] = await created.database.db.select().from(messages).where(eq(messages.id, info.id));
        sent.set(to.toLowerCase(), { id: row!.id, messageId: row!.messageId, envelopeFrom: row!.envelopeFrom });
      }
      smtp.received.length = 0;
      const transport = createSmtpTransport(smtp.url);
      expect(await drain(created.database.db, { smtp: transport })).toMatchObject({ sent: 5 });
      // VERP: each message went out with its own envelope sender
      const senders = smtp.received.map((m) => m.from);
      expect(new Set(senders).size).toBe(5);
      for (const from of senders) expect(from).toMatch(/^bounces\+[0-9a-f]{20}@example\.com$/);
      expect(senders).toContain(sent.get('gone@example.com')!.envelopeFrom);
      await created.database.close();

      const env = { DATABASE_URL: created.url };
      const m = (address: string) => sent.get(address)!;
      // 1. A hard bounce, piped on stdin
      const dsn = fixture('dsn.eml', { N: '1', RETURN_PATH: m('gone@example.com').envelopeFrom, RECIPIENT: 'gone@example.com', ACTION: 'failed', STATUS: '5.1.1', DIAGNOSTIC: '550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown', MESSAGE_ID: m('gone@example.com').messageId });
      const first = await piped(['bounces'], dsn, env);
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe(`stdin: hard bounce gone@example.com 5.1.1 (message ${m('gone@example.com').id}): suppressed\n`);

      // 2. An mbox with a complaint and two soft bounces (the limit is 2), and a Maildir with a non-standard bounce to a VERP address
      const soft = (n: string) => fixture('dsn.eml', { N: n, RETURN_PATH: m('slow@example.com').envelopeFrom, RECIPIENT: 'slow@example.com', ACTION: 'delayed', STATUS: '4.2.2', DIAGNOSTIC: '452 4.2.2 Mailbox full', MESSAGE_ID: m('slow@example.com').messageId });
      const arf = fixture('arf.eml', { RETURN_PATH: m('angry@example.com').envelopeFrom, RECIPIENT: 'angry@example.com', MESSAGE_ID: m('angry@example.com').messageId });
      const mbox = join(dir, `${backend.name}.mbox`);
      writeFileSync(mbox, [arf, soft('2'), soft('3')].map((msg) => `From MAILER-DAEMON Tue Dec  1 10:00:00 2026\r\n${msg.replace(/^From /gm, '>From ')}\r\n`).join(''));
      const maildir = join(dir, `${backend.name}-maildir`);
      for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
      writeFileSync(
        join(maildir, 'new', '1701.M1.host'),
        `From: postmaster@legacy.example\r\nTo: ${m('odd@example.com').envelopeFrom}\r\nSubject: Returned mail\r\nMessage-ID: <odd-1@legacy.example>\r\n\r\nYour message could not be delivered: 550 5.7.1 Mailbox disabled\r\n`,
      );
      const second = await mailroom(['bounces', mbox, maildir, '--soft-limit', '2'], env);
      expect(second.stderr).toBe('');
      expect(second.stdout.split('\n')).toEqual([
        `${mbox}#1: complaint angry@example.com abuse (message ${m('angry@example.com').id}): suppressed`,
        `${mbox}#2: soft bounce slow@example.com 4.2.2 (message ${m('slow@example.com').id}): recorded`,
        `${mbox}#3: soft bounce slow@example.com 4.2.2 (message ${m('slow@example.com').id}): suppressed`,
        `${join(maildir, 'new', '1701.M1.host')}: hard bounce odd@example.com 5.7.1 (message ${m('odd@example.com').id}): suppressed`,
        '',
      ]);
      // status: the rates beside the sent count (5 sent; gone and odd hard-bounced, slow soft twice, angry complained)
      const status = await mailroom(['status'], env);
      expect(status.stdout).toContain('last 1d: sent 5, hard bounces 2 (40.00%), soft 2, complaints 1 (20.00%)\nlast 7d: sent 5, hard bounces 2 (40.00%), soft 2, complaints 1 (20.00%)\n');
      // read again: nothing counted twice
      const again = await mailroom(['bounces', mbox, '--json'], env);
      expect(again.stdout.trim().split('\n').map((l) => JSON.parse(l).duplicate)).toEqual([true, true, true]);

      const database = (reopened = await openDatabase(created.url));
      const db = database.db;
      expect((await listSuppressions(db)).map((s) => `${s.address} ${s.topic || '*'} ${s.reason} ${s.source}`)).toEqual([
        'angry@example.com * complaint feedback-report',
        'gone@example.com * hard-bounce bounce',
        'odd@example.com * hard-bounce bounce',
        'slow@example.com * hard-bounce bounce',
      ]);
      expect(await db.select().from(bounces)).toHaveLength(5);
      // the message's record shows the bounce
      const [gone] = await db.select().from(messages).where(eq(messages.id, m('gone@example.com').id));
      expect(gone!.recipientStatus).toEqual({ 'Gone@example.com': { state: 'failed', reply: 'bounced: 5.1.1 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown' } });
      expect(gone!.lastError).toBe('bounced: Gone@example.com 5.1.1 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown');

      // the next send to a bounced address is not delivered, and says why
      const queue2 = nodemailer.createTransport(createQueueTransport({ database, returnPath: 'bounces@example.com' }));
      await queue2.sendMail({ from: 'news@example.com', to: 'gone@example.com', subject: 'Again', text: 'x' });
      await queue2.sendMail({ from: 'news@example.com', to: 'fine@example.com', subject: 'Again', text: 'x' });
      smtp.received.length = 0;
      expect(await drain(db, { smtp: transport })).toMatchObject({ sent: 1, failed: 1 });
      transport.close();
      expect(smtp.received.map((r) => r.to)).toEqual([['fine@example.com']]);
      const [retry] = await db.select().from(messages).where(eq(messages.subject, 'Again')).orderBy(messages.id);
      expect(retry!.lastError).toBe('all recipients are suppressed: suppressed (hard-bounce): 5.1.1 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown');
      queue.close();
      queue2.close();
    } finally {
      await reopened?.close();
      await created.drop();
    }
  });
});
