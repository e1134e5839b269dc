import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { createQueueTransport, openDatabase, ConfigError } from 'mailroom';
import { bounces } from 'mailroom/schema';
import { listSuppressions, suppress } from 'mailroom/drain';
import { backends } from './helpers/databases.js';
import { mailroom } from './helpers/cli.js';

// A bounce is mail anyone can send to the bounce pipe. What it may suppress is limited to
// what it proves: an address mailroom mailed, in the message the report returns.

const ALL = await backends();

/** A qmail-layout bounce (as in fixtures/bounces/qmail.eml) naming `recipients`, quoting `messageId`. */
const qmailBounce = (recipients: string[], messageId: string) =>
  [
    'From: MAILER-DAEMON@mail.example.net',
    'To: bounces@example.com',
    'Subject: failure notice',
    `Message-ID: <forged-${recipients.length}-${messageId.length}@mail.example.net>`,
    '',
    'Hi. This is the qmail-send program at mail.example.net.',
    "I'm afraid I wasn't able to deliver your message to the following addresses.",
    "This is a permanent error; I've given up. Sorry it didn't work out.",
    '',
    ...recipients.flatMap((r) => [`<${r}>:`, `Remote host said: 550 5.1.1 <${r}>... User unknown`, '']),
    '--- Below this line is a copy of the message.',
    '',
    `Message-ID: ${messageId}`,
    '',
    'x',
    '',
  ].join('\r\n');

describe.each(ALL)('what a bounce report may suppress, on $name', (backend) => {
  it('only recipients of the message it returns (a forward\'s by its Original-Recipient); a report naming thousands is skipped whole; --trust-unmatched opts in; no NUL byte is stored', { timeout: 600_000 }, async () => {
    const created = await backend.create();
    let reopened: Awaited<ReturnType<typeof openDatabase>> | undefined;
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database: created.database }));
      const info = await queue.sendMail({ from: 'team@example.com', to: 'real@example.org', subject: 'Receipt', text: 'x', messageId: '<receipt-1@example.com>' });
      const aliased = await queue.sendMail({ from: 'team@example.com', to: 'aliased@example.org', subject: 'Welcome', text: 'x', messageId: '<welcome-2@example.com>' });
      queue.close();
      await created.database.close();
      const env = { DATABASE_URL: created.url };
      const pipe = (text: string, ...args: string[]) => mailroom(['bounces', ...args], env, undefined, text);

      // 2,000 forged recipients in one report: nothing read from it
      const many = Array.from({ length: 2000 }, (_, i) => `victim${i}@example.org`);
      const flood = await pipe(qmailBounce(many, '<receipt-1@example.com>'));
      expect(flood.code).toBe(0);
      expect(flood.stdout).toBe('stdin: hard bounce (no address) 5.1.1: skipped: the report names 2000 recipients, more than the 1000 one report may: nothing read from it\n');

      // it quotes the real message but also names someone it was never sent to
      const mixed = await pipe(qmailBounce(['Real@example.org', 'victim@example.org'], '<receipt-1@example.com>'));
      expect(mixed.stdout.split('\n')).toEqual([
        `stdin: hard bounce Real@example.org 5.1.1 (message ${info.id}): suppressed`,
        `stdin: hard bounce victim@example.org 5.1.1 (message ${info.id}): skipped: not a recipient of message ${info.id}, the one the report returns: not trusted (--trust-unmatched to suppress anyway)`,
        '',
      ]);

      // a DSN from where the address forwards to: the forward target failed, the address mailroom mailed is its Original-Recipient
      const dsn = readFileSync(new URL('./fixtures/bounces/dsn.eml', import.meta.url), 'utf8')
        .replace(/\{\{(\w+)\}\}/g, (_, key: string) => ({ N: '7', RETURN_PATH: 'bounces@example.com', RECIPIENT: 'someone@forward.example', ACTION: 'failed', STATUS: '5.1.1', DIAGNOSTIC: '550 5.1.1 no such user', MESSAGE_ID: '<welcome-2@example.com>' })[key]!)
        .replace('Original-Recipient: rfc822;someone@forward.example', 'Original-Recipient: rfc822;aliased@example.org')
        .replace(/\r?\n/g, '\r\n');
      expect((await pipe(dsn)).stdout).toBe(`stdin: hard bounce aliased@example.org 5.1.1 (message ${aliased.id}): suppressed\n`);

      // a report about a message mailroom never sent, with a NUL byte in one address
      const unknown = qmailBounce(['stranger@example.org', 'nul\0byte@example.org'], '<elsewhere-9@example.net>');
      const refused = await pipe(unknown);
      expect(refused.stdout).toBe(
        'stdin: hard bounce stranger@example.org 5.1.1: skipped: matches no message mailroom sent (by return path or Message-ID): not trusted (--trust-unmatched to suppress anyway)\n' +
          'stdin: hard bounce "nul\\u0000byte@example.org" 5.1.1: skipped: not an email address\n',
      );
      // the operator whose pipe only the MTA writes to opts in
      const trusted = await pipe(unknown, '--trust-unmatched');
      expect(trusted.code).toBe(0);
      expect(trusted.stdout.split('\n')[0]).toBe('stdin: hard bounce stranger@example.org 5.1.1: suppressed');
      expect(trusted.stdout).toContain('skipped: not an email address');
      // and a lower cap is the operator's to set
      const capped = await pipe(qmailBounce(['a@example.org', 'b@example.org', 'c@example.org'], '<x@example.net>'), '--max-recipients', '2', '--trust-unmatched');
      expect(capped.stdout).toContain('skipped: the report names 3 recipients, more than the 2 one report may');

      const database = (reopened = await openDatabase(created.url));
      expect((await listSuppressions(database.db)).map((s) => s.address)).toEqual(['aliased@example.org', 'real@example.org', 'stranger@example.org']);
      expect((await database.db.select().from(bounces)).map((b) => b.address).sort()).toEqual(['aliased@example.org', 'real@example.org', 'stranger@example.org']);
      // the store refuses such an address from any caller, by class, naming the problem
      await expect(suppress(database.db, { address: 'nul\0byte@example.org', reason: 'manual' })).rejects.toThrow(ConfigError);
      await expect(suppress(database.db, { address: 'two words@example.org', reason: 'manual' })).rejects.toThrow(/not an email address/);
    } finally {
      await reopened?.close();
      await created.drop();
    }
  });
});
