import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database } from 'mailroom';
import { messages } from 'mailroom/schema';
import { backends, type Backend } from './helpers/databases.js';
import { seedMessages } from './helpers/seed.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { readDatabase } from './helpers/read-database.js';

/** `mailroom retry` through the real CLI: which messages it makes due, and what a retry resends. */

const ALL = await backends();

describe.each(ALL)('mailroom retry on $name', { timeout: 400_000 }, (backend: Backend) => {
  let db: Awaited<ReturnType<Backend['create']>>;
  let smtp: TestSmtp;
  /** RCPT replies by address; anything not listed is accepted. */
  const refuse = new Map<string, [number, string]>();
  beforeAll(async () => {
    smtp = await startSmtp({
      onRcpt: (address) => {
        const reply = refuse.get(address);
        return reply ? smtpError(reply[0], reply[1]) : undefined;
      },
    });
  });
  afterAll(() => smtp.close());
  beforeEach(async () => {
    db = await backend.create();
    refuse.clear();
    smtp.received.length = 0;
  });
  afterEach(() => db.drop());

  const read = <T>(body: (database: Database) => Promise<T>) => readDatabase(db.url, body);
  const rows = () => read(({ db }) => db.select().from(messages).orderBy(messages.id));
  const cli = (...args: string[]) => mailroom(args, { DATABASE_URL: db.url, SMTP_URL: smtp.url });
  /** Seeds one message per recipient list, then hands the database to the CLI. */
  async function seed(recipients: string[][]): Promise<void> {
    await seedMessages(db.database.db, recipients.length, { recipients: (i) => recipients[i]! });
    await db.database.close();
  }
  const dueNow = (row: { nextAttemptAt: Date }) => row.nextAttemptAt.getTime() <= Date.now();

  it('by default makes deferred messages due now and leaves failed ones; --failed takes both', async () => {
    await seed([['later@example.com'], ['never@example.com'], ['fine@example.com']]);
    refuse.set('later@example.com', [451, '4.2.0 mailbox busy']);
    refuse.set('never@example.com', [550, '5.1.1 no such user']);
    expect((await cli('send')).stdout).toContain('sent 1, deferred 1, failed 1');
    const before = await rows();
    expect(before.map((r) => r.state)).toEqual(['deferred', 'failed', 'sent']);
    expect(dueNow(before[0]!)).toBe(false); // backoff put it in the future

    const plain = await cli('retry');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('1 message due now');
    const [deferred, failed, sent] = await rows();
    expect(deferred).toMatchObject({ state: 'deferred', attempts: 1 });
    expect(dueNow(deferred!)).toBe(true);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(sent).toMatchObject({ state: 'sent' });

    expect((await cli('retry', '--failed')).stdout).toContain('2 messages due now');
    const after = await rows();
    expect(after[1]).toMatchObject({ state: 'queued', attempts: 0 }); // a fresh attempt budget
    expect(dueNow(after[1]!)).toBe(true);
    expect(after[2]).toMatchObject({ state: 'sent' }); // sent is never touched
  });

  it('--id makes only those messages due', async () => {
    await seed([['a@example.com'], ['b@example.com'], ['c@example.com']]);
    for (const address of ['a@example.com', 'b@example.com', 'c@example.com']) refuse.set(address, [451, '4.2.0 busy']);
    expect((await cli('send')).stdout).toContain('deferred 3');
    const ids = (await rows()).map((r) => r.id);
    const result = await cli('retry', '--id', String(ids[0]), '--id', String(ids[2]));
    expect(result.stdout).toContain('2 messages due now');
    expect((await rows()).map(dueNow)).toEqual([true, false, true]);
    expect((await cli('retry', '--id', 'seven')).code).toBe(2);
  });

  it('a retried, partly delivered message goes only to the recipients who have not accepted it', async () => {
    const to = ['one@example.com', 'two@example.com', 'three@example.com'];
    await seed([to]);
    refuse.set('two@example.com', [452, '4.2.2 mailbox full']);
    expect((await cli('send')).stdout).toContain('sent 0, deferred 1, failed 0');
    const [partial] = await rows();
    expect(partial!.recipientStatus['one@example.com']?.state).toBe('sent');
    expect(partial!.recipientStatus['two@example.com']).toMatchObject({ state: 'deferred', reply: expect.stringContaining('452') });

    refuse.clear();
    expect((await cli('retry')).stdout).toContain('1 message due now');
    expect((await cli('send')).stdout).toContain('sent 1, deferred 0, failed 0');
    // Each recipient got it exactly once, across both runs.
    const deliveries = smtp.received.flatMap((r) => r.to).sort();
    expect(deliveries).toEqual([...to].sort());
    expect(smtp.received.map((r) => r.to)).toEqual([['one@example.com', 'three@example.com'], ['two@example.com']]);
    expect(new Set(smtp.received.map((r) => r.parsed.messageId)).size).toBe(1); // the same message, resent
    const [done] = await rows();
    expect(done).toMatchObject({ state: 'sent', attempts: 2 });
  });
});
