import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { eq, sql } from 'drizzle-orm';
import { createQueueTransport, enqueueMail, enqueueMailMany, openDatabase, SuppressedRecipientError, type Database } from 'mailroom';
import { messages, suppressions } from 'mailroom/schema';
import { createSmtpTransport, drain, suppress, unsuppress, listSuppressions, blockAddress, listBlocked } from 'mailroom/drain';
import { migrateMailroom } from '../src/store/migrations.js';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';

const ALL = await backends();

describe.each(ALL)('the suppression list on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  const sendAll = async (db: Database['db']) => {
    const transport = createSmtpTransport(smtp.url);
    try {
      return await drain(db, { smtp: transport });
    } finally {
      transport.close();
    }
  };

  it('an address suppressed for a topic misses that topic only; one suppressed for everything misses all; each record says why', async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    try {
      smtp.received.length = 0;
      expect(await suppress(db, { address: ' Reader@Example.COM ', topic: 'newsletter', reason: 'unsubscribed', source: 'one-click' })).toBe(true);
      // idempotent: the second one changes nothing
      expect(await suppress(db, { address: 'reader@example.com', topic: 'newsletter', reason: 'complaint' })).toBe(false);
      await suppress(db, { address: 'gone@example.com', reason: 'hard-bounce', note: '5.1.1 no such user' });
      const queue = nodemailer.createTransport(createQueueTransport({ database, unsubscribe: false }));
      const add = (subject: string, to: string | string[], queueTopic?: string) =>
        queue.sendMail({ from: 'a@example.com', to, subject, text: 'x', ...(queueTopic ? { queueTopic } : {}) } as never);
      await add('news', 'READER@example.com', 'newsletter');
      await add('receipt', 'reader@example.com');
      await add('other topic', 'reader@example.com', 'product-updates');
      await add('news to two', ['reader@example.com', 'friend@example.com'], 'newsletter');
      await add('to the bounced', 'gone@example.com', 'newsletter');
      const result = await sendAll(db);
      expect(result).toMatchObject({ sent: 3, failed: 2 });
      expect(smtp.received.map((m) => `${m.parsed.subject} → ${m.to.join(',')}`).sort()).toEqual([
        'news to two → friend@example.com',
        'other topic → reader@example.com',
        'receipt → reader@example.com',
      ]);
      const rows = await db.select().from(messages).orderBy(messages.id);
      expect(rows.map((r) => r.topic)).toEqual(['newsletter', null, 'product-updates', 'newsletter', 'newsletter']);
      expect(rows[0]).toMatchObject({ state: 'failed', lastError: 'all recipients are suppressed: suppressed (unsubscribed from topic newsletter)' });
      expect(rows[0]!.recipientStatus).toEqual({ 'READER@example.com': { state: 'failed', reply: 'suppressed (unsubscribed from topic newsletter)' } });
      expect(rows[3]!.recipientStatus['reader@example.com']).toEqual({ state: 'failed', reply: 'suppressed (unsubscribed from topic newsletter)' });
      expect(rows[4]).toMatchObject({ state: 'failed', lastError: 'all recipients are suppressed: suppressed (hard-bounce): 5.1.1 no such user' });
      // lifted: the next message goes out
      expect(await unsuppress(db, 'reader@example.com', 'newsletter')).toBe(true);
      expect(await unsuppress(db, 'reader@example.com', 'newsletter')).toBe(false);
      await add('news again', 'reader@example.com', 'newsletter');
      expect(await sendAll(db)).toMatchObject({ sent: 1 });
      queue.close();
    } finally {
      await drop();
    }
  });

  it('a manual suppression for every message reads "blocked" (what `mailroom block` adds); one for a topic names the topic', async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    try {
      smtp.received.length = 0;
      await suppress(db, { address: 'quiet@example.com', topic: 'newsletter', reason: 'manual', note: 'asked by phone' });
      await suppress(db, { address: 'never@example.com', reason: 'manual', note: 'spam trap' });
      const news = { from: 'a@example.com', subject: 'news', text: 'x', queueTopic: 'newsletter' };
      await expect(enqueueMail(database, { ...news, to: 'quiet@example.com' }, { unsubscribe: false, suppressed: 'refuse' })).rejects.toThrow(
        'Not queued: quiet@example.com (suppressed (manual from topic newsletter): asked by phone) is on the suppression list.',
      );
      await enqueueMail(database, { ...news, to: 'quiet@example.com' }, { unsubscribe: false });
      await enqueueMail(database, { ...news, to: 'never@example.com' }, { unsubscribe: false });
      await enqueueMail(database, { ...news, queueTopic: undefined, to: 'quiet@example.com' });
      expect(await sendAll(db)).toMatchObject({ sent: 1, failed: 2 });
      const rows = await db.select().from(messages).orderBy(messages.id);
      expect(rows[0]).toMatchObject({
        state: 'failed',
        lastError: 'all recipients are suppressed: suppressed (manual from topic newsletter): asked by phone',
        recipientStatus: { 'quiet@example.com': { state: 'failed', reply: 'suppressed (manual from topic newsletter): asked by phone' } },
      });
      expect(rows[1]).toMatchObject({ state: 'failed', lastError: 'all recipients are blocked', recipientStatus: { 'never@example.com': { state: 'failed', reply: 'blocked: spam trap' } } });
      expect(rows[2]!.state).toBe('sent');
    } finally {
      await drop();
    }
  });

  it('at enqueue the app chooses: refuse (typed error, nothing stored) or store it as not sent', async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    try {
      smtp.received.length = 0;
      await suppress(db, { address: 'left@example.com', topic: 'newsletter', reason: 'unsubscribed' });
      const mail = { from: 'a@example.com', to: 'Left@example.com', subject: 'hi', text: 'x', queueTopic: 'newsletter' };
      const refused = enqueueMail(database, mail, { unsubscribe: false, suppressed: 'refuse' });
      await expect(refused).rejects.toBeInstanceOf(SuppressedRecipientError);
      await expect(enqueueMail(database, mail, { unsubscribe: false, suppressed: 'refuse' })).rejects.toThrow(
        'Not queued: Left@example.com (suppressed (unsubscribed from topic newsletter)) is on the suppression list.',
      );
      expect(await db.select().from(messages)).toHaveLength(0);
      // transactional mail to the same address is not refused
      await enqueueMail(database, { ...mail, queueTopic: undefined }, { unsubscribe: false, suppressed: 'refuse' });

      const queue = nodemailer.createTransport(createQueueTransport({ database, unsubscribe: false, suppressed: 'store' }));
      const stored = await queue.sendMail({ ...mail, to: ['left@example.com', 'stays@example.com'] } as never);
      expect(stored).toMatchObject({ state: 'queued', rejected: ['left@example.com'] });
      const alone = await queue.sendMail(mail as never);
      expect(alone).toMatchObject({ state: 'failed', response: 'stored, not sent: every recipient is suppressed' });
      const [row] = await db.select().from(messages).where(eq(messages.id, alone.id));
      expect(row).toMatchObject({ state: 'failed', recipientStatus: { 'Left@example.com': { state: 'failed', reply: 'suppressed (unsubscribed from topic newsletter)' } } });
      expect(await sendAll(db)).toMatchObject({ sent: 2, failed: 0 });
      expect(smtp.received.flatMap((m) => m.to).sort()).toEqual(['Left@example.com', 'stays@example.com']);
      expect(smtp.received.find((m) => m.to.includes('stays@example.com'))!.to).toEqual(['stays@example.com']);
      expect(() => createQueueTransport({ database, suppressed: 'maybe' as never })).toThrow('"suppressed" must be "drain", "refuse" or "store"');
      queue.close();
    } finally {
      await drop();
    }
  });

  it('enqueueMailMany takes the same choice: refuse stores none of the batch, store fails only the suppressed', async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    try {
      smtp.received.length = 0;
      await suppress(db, { address: 'gone@example.com', reason: 'hard-bounce' });
      await suppress(db, { address: 'left@example.com', topic: 'newsletter', reason: 'unsubscribed' });
      const batch = [
        { from: 'a@example.com', to: 'one@example.com', subject: '1', text: 'x', queueTopic: 'newsletter' },
        { from: 'a@example.com', to: ['Left@example.com', 'two@example.com'], subject: '2', text: 'x', queueTopic: 'newsletter' },
        { from: 'a@example.com', to: 'GONE@example.com', subject: '3', text: 'x' },
        { from: 'a@example.com', to: 'left@example.com', subject: '4', text: 'transactional: not in the topic' },
      ];
      const refused = enqueueMailMany(database, batch, { unsubscribe: false, suppressed: 'refuse' });
      await expect(refused).rejects.toBeInstanceOf(SuppressedRecipientError);
      await expect(enqueueMailMany(database, batch, { unsubscribe: false, suppressed: 'refuse' })).rejects.toThrow(
        'Not queued (message 2 of 4; none of the 4 was stored): Left@example.com (suppressed (unsubscribed from topic newsletter)), GONE@example.com (suppressed (hard-bounce))',
      );
      expect(await db.select().from(messages)).toHaveLength(0);
      expect(await enqueueMailMany(database, [batch[0]!, batch[3]!], { unsubscribe: false, suppressed: 'refuse' })).toHaveLength(2);

      const stored = await enqueueMailMany(database, batch, { unsubscribe: false, suppressed: 'store' });
      expect(stored.map((q) => q.state)).toEqual(['queued', 'queued', 'failed', 'queued']);
      const [third] = await db.select().from(messages).where(eq(messages.id, stored[2]!.id));
      expect(third).toMatchObject({ state: 'failed', recipientStatus: { 'GONE@example.com': { state: 'failed', reply: 'suppressed (hard-bounce)' } } });
      await expect(enqueueMailMany(database, batch, { unsubscribe: false, suppressed: 'sometimes' as never })).rejects.toThrow('"suppressed" must be "drain", "refuse" or "store"');
      expect(await sendAll(db)).toMatchObject({ sent: 5, failed: 0 });
      expect(smtp.received.flatMap((m) => m.to).sort()).toEqual(['left@example.com', 'left@example.com', 'one@example.com', 'one@example.com', 'two@example.com']);
    } finally {
      await drop();
    }
  });

  it('the blocklist API and its old rows live on as manual suppressions for everything', async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    try {
      // A database migrated before 0004 with a blocklist row: forgetting 0004 and everything after
      // it (Drizzle's migrator runs what is newer than the newest row) runs them again (their IF
      // NOT EXISTS statements), and 0004 copies the row over.
      await db.execute(sql`insert into mailroom_blocklist (address, reason) values ('Old.Block@example.com', 'asked in 2025')`);
      await db.execute(sql`delete from drizzle.__mailroom_migrations where created_at >= 1796161662302`);
      await migrateMailroom(db);
      await migrateMailroom(db);
      expect(await listSuppressions(db)).toMatchObject([{ address: 'old.block@example.com', topic: '', reason: 'manual', source: 'blocklist', note: 'asked in 2025' }]);
      await blockAddress(db, 'B@example.com', 'first');
      await blockAddress(db, 'b@example.com', 'second');
      expect(await listBlocked(db)).toMatchObject([
        { address: 'b@example.com', reason: 'second' },
        { address: 'old.block@example.com', reason: 'asked in 2025' },
      ]);
      expect(await db.select().from(suppressions)).toHaveLength(2);
      // Blocking an address that already bounced keeps the bounce's record, not the block's note.
      await suppress(db, { address: 'Gone@example.com', reason: 'hard-bounce', source: 'bounce', note: '5.1.1 user unknown' });
      await blockAddress(db, 'gone@example.com', 'trap');
      expect(await listSuppressions(db, { reason: 'hard-bounce' })).toMatchObject([{ address: 'gone@example.com', topic: '', source: 'bounce', note: '5.1.1 user unknown' }]);
      expect(await listBlocked(db)).toContainEqual(expect.objectContaining({ address: 'gone@example.com', reason: 'hard-bounce: 5.1.1 user unknown' }));
    } finally {
      await drop();
    }
  });

  // The CLI calls the functions tested above on both databases; run on one (each CLI start on a loaded machine costs seconds).
  it.runIf(backend.name === 'postgres' || ALL.length === 1)('mailroom suppress add, list, export (CSV and JSON) and remove', { timeout: 300_000 }, async () => {
    const created = await backend.create();
    await created.database.close();
    const cli = (...args: string[]) => mailroom(args, { DATABASE_URL: created.url });
    try {
      expect((await cli('suppress', 'add', 'X@example.com', '--topic', 'newsletter', '--reason', 'unsubscribed')).stdout).toBe('suppressed X@example.com for topic newsletter\n');
      expect((await cli('suppress', 'add', 'x@example.com', '--topic', 'newsletter')).stdout).toBe('x@example.com was already suppressed for topic newsletter\n');
      expect((await cli('suppress', 'add', 'y@example.com', '--note', 'said "stop", twice ✋')).code).toBe(0);
      expect((await cli('block', 'add', 'z@example.com', '--reason', 'trap')).stdout).toBe('blocked z@example.com\n');
      expect((await cli('suppress', 'list')).stdout).toBe('x@example.com\tnewsletter\tunsubscribed\ny@example.com\t*\tmanual\tsaid "stop", twice ✋\nz@example.com\t*\tmanual\ttrap\n');
      expect((await cli('suppress', 'list', '--reason', 'unsubscribed', '--format', 'json')).stdout).toMatch(/^\[\{"address":"x@example.com","topic":"newsletter","reason":"unsubscribed","source":"cli","note":"","created_at":"\d{4}-/);
      const csv = (await cli('suppress', 'export')).stdout.split('\r\n');
      expect(csv[0]).toBe('address,topic,reason,source,note,created_at');
      expect(csv[2]).toMatch(/^y@example.com,,manual,cli,"said ""stop"", twice ✋",\d{4}-/);
      expect(csv[3]).toMatch(/^z@example.com,,manual,block,trap,/);
      const json = JSON.parse((await cli('suppress', 'export', '--format', 'json')).stdout);
      expect(json.map((r: { address: string }) => r.address)).toEqual(['x@example.com', 'y@example.com', 'z@example.com']);
      expect((await cli('suppress', 'remove', 'x@example.com', '--topic', 'newsletter')).stdout).toBe('lifted x@example.com for topic newsletter\n');
      const badTopic = await cli('suppress', 'add', 'a@example.com', '--topic', 'News Letter');
      expect(badTopic.code).toBe(1);
      expect(badTopic.stderr).toMatch(/^mailroom: --topic: Topic "News Letter" is not a topic name/);
      const reopened = await openDatabase(created.url);
      expect((await listSuppressions(reopened.db)).map((r) => r.address)).toEqual(['y@example.com', 'z@example.com']);
      await reopened.close();
    } finally {
      await created.drop();
    }
  });
});
