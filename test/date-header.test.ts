import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { eq } from 'drizzle-orm';
import { createQueueTransport, enqueueMailMany } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { retryMessages } from '../src/store/retry.js';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();

/** The Date header of RFC 822 bytes, as written. */
const dateHeader = (raw: Buffer | string) => /^Date: (.+)\r?$/m.exec(raw.toString().split(/\r?\n\r?\n/)[0]!)?.[1];
/** Date headers have whole seconds. */
const toSecond = (date: Date) => Math.floor(date.getTime() / 1000) * 1000;

describe.each(ALL)('the Date header on $name', (backend) => {
  let smtp: TestSmtp;
  let refuseOnce = new Set<string>();
  beforeAll(async () => {
    // Greylists a subject's first delivery when asked: a deferral, then a retry.
    smtp = await startSmtp({
      onData: (raw) => {
        const subject = /^Subject: (.+)\r?$/m.exec(raw.toString())?.[1]?.trim() ?? '';
        if (refuseOnce.delete(subject)) return smtpError(451, 'greylisted');
      },
    });
  });
  afterAll(() => smtp.close());

  it('a message sent later is dated its sendAt, in the stored bytes and on the wire', async () => {
    const { database, drop } = await backend.create();
    const transport = createSmtpTransport(smtp.url);
    try {
      smtp.received.length = 0;
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const sendAt = new Date(Date.now() + 2500);
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'later', text: 'x', sendAt } as never);
      const now = new Date();
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'now', text: 'x' });

      const stored = async (subject: string) => (await database.db.select().from(messages).where(eq(messages.subject, subject)))[0]!;
      const storedLater = dateHeader((await stored('later')).raw!);
      expect(Date.parse(storedLater!)).toBe(toSecond(sendAt));
      expect(Math.abs(Date.parse(dateHeader((await stored('now')).raw!)!) - toSecond(now))).toBeLessThanOrEqual(1000);
      const tomorrow = new Date(Date.now() + 86_400_000);
      await enqueueMailMany(database.db, [{ from: 'a@example.com', to: 'b@example.com', subject: 'bulk later', text: 'x', sendAt: tomorrow }]);
      expect(Date.parse(dateHeader((await stored('bulk later')).raw!)!)).toBe(toSecond(tomorrow));

      await waitFor(async () => (await drain(database.db, { smtp: transport }), smtp.received.some((m) => m.parsed.subject === 'later')), 'the scheduled message to go out', 60_000, 200);
      expect(Date.now()).toBeGreaterThanOrEqual(sendAt.getTime());
      const wire = smtp.received.find((m) => m.parsed.subject === 'later')!;
      expect(dateHeader(wire.raw)).toBe(storedLater);
      expect(wire.parsed.date!.getTime()).toBe(toSecond(sendAt));
      expect(Buffer.compare(wire.raw, (await stored('later')).raw!)).toBe(0); // the outbox shows what went out
    } finally {
      transport.close();
      await drop();
    }
  });

  it('a retried message keeps its Date and Message-ID; a Date the app set is kept; a past sendAt is the queueing time', async () => {
    const { database, drop } = await backend.create();
    const transport = createSmtpTransport(smtp.url);
    try {
      smtp.received.length = 0;
      refuseOnce = new Set(['deferred']);
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const queuedAt = new Date();
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'deferred', text: 'x' });
      const own = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'own date', text: 'x', date: own, sendAt: new Date(Date.now() + 600_000) } as never);
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'past', text: 'x', sendAt: new Date(Date.UTC(2020, 0, 1)) } as never);

      const first = await drain(database.db, { smtp: transport });
      expect(first).toMatchObject({ sent: 1, deferred: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1100)); // a restamp would now show another second
      await retryMessages(database.db);
      await drain(database.db, { smtp: transport });
      const retried = smtp.received.find((m) => m.parsed.subject === 'deferred')!;
      expect(Math.abs(retried.parsed.date!.getTime() - toSecond(queuedAt))).toBeLessThanOrEqual(1000);
      const [row] = await database.db.select().from(messages).where(eq(messages.subject, 'deferred'));
      expect(row!.state).toBe('sent');
      expect(Buffer.compare(retried.raw, row!.raw!)).toBe(0);

      const past = smtp.received.find((m) => m.parsed.subject === 'past')!;
      expect(Math.abs(past.parsed.date!.getTime() - toSecond(queuedAt))).toBeLessThanOrEqual(2000);
      const [ownRow] = await database.db.select().from(messages).where(eq(messages.subject, 'own date'));
      expect(Date.parse(dateHeader(ownRow!.raw!)!)).toBe(own.getTime());
    } finally {
      transport.close();
      await drop();
    }
  });
});
