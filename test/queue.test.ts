import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nodemailer, { type Transporter } from 'nodemailer';
import { eq, sql } from 'drizzle-orm';
import {
  createQueueTransport, enqueueMail, enqueueMailMany, InvalidMessageError, InvalidPriorityError, PRIORITY_HEADER, openDatabase, type QueuedInfo,
} from 'mailroom';
import { messages, attempts } from 'mailroom/schema';
import { drain, createSmtpTransport } from 'mailroom/drain';
import { WelcomeMail, InvoiceMail, PasswordResetMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { invoicePdf } from '../emails/_views/invoice-pdf.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';
import { startSmtp, smtpError } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';

const ALL = await backends();
const NAME = 'Núria Puigdomènech i Ça 👩‍💻';
const SUBJECT_PROPS = { name: 'Jòrdi Ñandú 🎉', loginUrl: 'https://example.com/l' };

describe.each(ALL)('queue on $name', (backend) => {
  const fx = perTest(backend);
  let queue: Transporter<QueuedInfo>;
  beforeEach(() => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
  });
  afterEach(() => queue.close()); // hooks unwind in reverse: before the database is dropped

  const drainAll = async (options: Partial<Parameters<typeof drain>[1]> = {}) => {
    const transport = createSmtpTransport(fx.smtp.url, { concurrency: 2 });
    try {
      return await drain(fx.database.db, { smtp: transport, concurrency: 2, ...options });
    } finally {
      transport.close();
    }
  };
  const rows = () => fx.database.db.select().from(messages).orderBy(messages.id);

  it('queues a view without talking to SMTP, then drains it with every part intact', async () => {
    const info = await new InvoiceMail({ ...Invoice.PreviewProps, number: 'Nº-ÀÉÎ-😀' }).send(queue, {
      to: { name: NAME, address: 'nuria@example.com' },
      attachments: [{ filename: 'résumé 日本語 🎈.txt', content: Buffer.from([0, 1, 2, 255, 254, 10, 13]) }],
    });
    expect(info.state).toBe('queued');
    expect(info.priority).toBe('low');
    expect(fx.smtp.received).toHaveLength(0);
    const [row] = await rows();
    expect(row!.raw.toString()).not.toContain(PRIORITY_HEADER);
    expect(row!.recipients).toEqual(['nuria@example.com']);

    const result = await drainAll();
    expect(result).toMatchObject({ sent: 1, deferred: 0, failed: 0 });
    expect(fx.smtp.received).toHaveLength(1);
    const mail = fx.smtp.received[0]!.parsed;
    expect(mail.subject).toBe('Invoice Nº-ÀÉÎ-😀');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]!.name : '').toBe(NAME);
    expect(mail.from?.value[0]!.name).toBe('Mailroom Demo');
    expect(mail.html).toContain('Cafè de l’Òpera');
    expect(mail.text).toContain('Subscripció anual ☕');
    expect(mail.messageId).toBe(info.messageId);
    expect(mail.headers.has(PRIORITY_HEADER.toLowerCase())).toBe(false);
    expect(fx.smtp.received[0]!.raw.toString()).not.toMatch(/X-Mail-Queue-Priority/i);
    expect(mail.attachments.map((a) => a.filename)).toEqual(['factura-Nº-ÀÉÎ-😀.pdf', 'résumé 日本語 🎈.txt']);
    expect(mail.attachments[0]!.contentType).toBe('application/pdf');
    expect(mail.attachments[0]!.content.equals(invoicePdf({ ...Invoice.PreviewProps, number: 'Nº-ÀÉÎ-😀' }))).toBe(true);
    expect(mail.attachments[1]!.content.equals(Buffer.from([0, 1, 2, 255, 254, 10, 13]))).toBe(true);

    const [sent] = await rows();
    expect(sent).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    const log = await fx.database.db.select().from(attempts);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ outcome: 'sent', smtpCode: 250 });
  });

  it('large messages are read one at a time at send and arrive byte-exact', async () => {
    const big = Buffer.alloc(700 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 256;
    for (let i = 0; i < 3; i++) {
      await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `big ${i}`, text: 'x', attachments: [{ filename: `dades-${i}.bin`, content: big }] });
    }
    await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'small', text: 'x' });
    expect((await drainAll()).sent).toBe(4);
    const bigOnes = fx.smtp.received.filter((m) => m.parsed.subject?.startsWith('big'));
    expect(bigOnes).toHaveLength(3);
    for (const m of bigOnes) expect(m.parsed.attachments[0]!.content.equals(big)).toBe(true);
  });

  it('stores and reads back raw messages with every byte value exactly, small and large', async () => {
    // Small ones sit in Node's shared buffer pool (a view at an offset); large ones do not.
    for (const length of [256 * 8, 256 * 4096]) {
      const body = Buffer.alloc(length);
      for (let i = 0; i < body.length; i++) body[i] = i % 256;
      const raw = Buffer.concat([Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: 8bit\r\n\r\n'), body, Buffer.from('\r\n')]);
      const info = await enqueueMail(fx.database, { envelope: { from: 'a@example.com', to: ['b@example.com'] }, raw });
      const [row] = await fx.database.db.select({ raw: messages.raw, size: messages.size }).from(messages).where(eq(messages.id, info.id));
      expect(row!.size).toBe(raw.length);
      expect(Buffer.isBuffer(row!.raw)).toBe(true);
      expect(row!.raw.equals(raw)).toBe(true);
    }
  });

  it('drains in priority order, oldest first within one priority', async () => {
    const send = (subject: string, priority: string) =>
      queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject, text: subject, headers: { [PRIORITY_HEADER]: priority } });
    await send('low-1', 'low');
    await send('normal-1', 'normal');
    await send('high-1', 'high');
    await send('low-2', 'low');
    await send('high-2', 'high');
    await send('default', '');
    await drainAll({ concurrency: 1 });
    expect(fx.smtp.received.map((m) => m.parsed.subject)).toEqual(['high-1', 'high-2', 'normal-1', 'default', 'low-1', 'low-2']);
  });

  it('--limit sends at most N and leaves the rest queued', async () => {
    for (let i = 0; i < 5; i++) await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `m${i}`, text: 'x' });
    const result = await drainAll({ limit: 3 });
    expect(result).toMatchObject({ sent: 3, stopped: 'limit' });
    expect((await rows()).map((r) => r.state)).toEqual(['sent', 'sent', 'sent', 'queued', 'queued']);
  });

  it('sends `now` at once through smtp, recorded as sent with its log row', async () => {
    const urgent = nodemailer.createTransport(createQueueTransport({ database: fx.database, smtp: fx.smtp.url }));
    const info = await new PasswordResetMail({ name: NAME, resetUrl: 'https://x', expiresInMinutes: 5 }).send(urgent, { to: 'n@example.com' });
    urgent.close();
    expect(info.state).toBe('sent');
    expect(info.accepted).toEqual(['n@example.com']);
    expect(fx.smtp.received).toHaveLength(1);
    expect(fx.smtp.received[0]!.raw.toString()).not.toMatch(/X-Mail-Queue-Priority/i);
    expect((await rows())[0]).toMatchObject({ state: 'sent', attempts: 1 });
    expect(await fx.database.db.select().from(attempts)).toHaveLength(1);
  });

  it('keeps `now` queued as high when SMTP fails or is not configured', async () => {
    const down = nodemailer.createTransport(createQueueTransport({ database: fx.database, smtp: 'smtp://127.0.0.1:1?tls=false' }));
    const info = await down.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'urgent', text: 'x', headers: { [PRIORITY_HEADER]: 'now' } });
    down.close();
    expect(info.state).toBe('queued');
    await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'no smtp', text: 'x', headers: { [PRIORITY_HEADER]: 'now' } });
    const queued = await rows();
    expect(queued.map((r) => [r.state, r.priority])).toEqual([['queued', 1], ['queued', 1]]);
    expect(queued[0]!.lastError).toMatch(/ECONNREFUSED|connect/i);
    await drainAll();
    expect(fx.smtp.received.map((m) => m.parsed.subject).sort()).toEqual(['no smtp', 'urgent']);
  });

  it('rejects bad input with a clear error and stores nothing', async () => {
    const base = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x' };
    const cases: [object, RegExp][] = [
      [{ to: 'not-an-address' }, /Invalid to address "not-an-address"/],
      [{ to: undefined }, /no recipient/],
      [{ from: undefined }, /no sender/],
      [{ subject: 'hi\r\nBcc: victim@example.com' }, /"subject" contains a line break/],
      [{ to: { name: 'Eve\nBcc: x@example.com', address: 'b@example.com' } }, /line break/],
      [{ headers: { 'X-Evil': 'a\r\nBcc: x@example.com' } }, /Header "X-Evil" contains a line break/],
      [{ attachments: [{ path: '/nonexistent/file.pdf' }] }, /attachments\[0\]\.path "\/nonexistent\/file.pdf": mailroom reads no files/],
      [{ attachments: [{ filename: 'big.bin', content: Buffer.alloc(21 * 1024 * 1024) }] }, /over the 20971520-byte limit/],
    ];
    for (const [patch, message] of cases) {
      await expect(queue.sendMail({ ...base, ...patch })).rejects.toThrow(InvalidMessageError);
      await expect(queue.sendMail({ ...base, ...patch })).rejects.toThrow(message);
    }
    await expect(queue.sendMail({ ...base, headers: { [PRIORITY_HEADER]: 'asap' } })).rejects.toThrow(InvalidPriorityError);
    expect(await rows()).toHaveLength(0);
  });

  it('the same idempotency key queued twice is one message', async () => {
    const view = new WelcomeMail(SUBJECT_PROPS);
    const a = await view.send(queue, { to: 'b@example.com', idempotencyKey: 'welcome:42' });
    const b = await view.send(queue, { to: 'b@example.com', idempotencyKey: 'welcome:42' });
    expect(b).toMatchObject({ id: a.id, duplicate: true, messageId: a.messageId });
    expect(await rows()).toHaveLength(1);
  });

  it('sendAt holds a message until its time', async () => {
    await new WelcomeMail(SUBJECT_PROPS).send(queue, { to: 'b@example.com', sendAt: new Date(Date.now() + 3600_000) });
    expect((await drainAll()).sent).toBe(0);
    await fx.database.db.update(messages).set({ nextAttemptAt: sql`now()` });
    expect((await drainAll()).sent).toBe(1);
  });

  it('enqueues inside the app transaction: rolled back means no email', async () => {
    // Only the app's own error may come out: a failing rollback would be another.
    await expect(
      fx.database.db.transaction(async (tx) => {
        await enqueueMail(tx, { from: 'a@example.com', to: 'b@example.com', subject: 'rolled back', text: 'x' });
        throw new Error('business change failed');
      }),
    ).rejects.toThrow(/^business change failed$/);
    await fx.database.db.transaction(async (tx) => {
      await enqueueMail(tx, { from: 'a@example.com', to: 'b@example.com', subject: 'committed', text: 'x' });
    });
    expect((await rows()).map((r) => r.subject)).toEqual(['committed']);
  });

  it('a starved event loop (lease timer late) still sends every claimed message in the same run', async () => {
    for (let i = 0; i < 5; i++) await queue.sendMail({ from: 'a@example.com', to: `s${i}@example.com`, subject: `starved ${i}`, text: 'x' });
    const LEASE = 1;
    // After each send the loop is blocked for most of the lease: the periodic renewal cannot
    // run, so the next message's lease looks too short to start. It must be renewed then and
    // sent, not held back until the run ends and given back unsent.
    const block = () => {
      const until = Date.now() + LEASE * 800;
      while (Date.now() < until);
    };
    const result = await drainAll({ concurrency: 1, batchSize: 5, leaseSeconds: LEASE, onDelivery: block });
    expect(result).toMatchObject({ sent: 5, released: 0 });
    expect((await rows()).map((r) => r.state)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('defers on 4xx with a backoff, fails on 5xx, and records each attempt', async () => {
    const flaky = await startSmtp({
      onData: (raw) => {
        const text = raw.toString();
        if (text.includes('Subject: temp')) return smtpError(451, 'try again later');
        if (text.includes('Subject: perm')) return smtpError(554, 'rejected for policy');
      },
    });
    try {
      for (const subject of ['temp', 'perm', 'fine']) await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject, text: 'x' });
      const transport = createSmtpTransport(flaky.url, { concurrency: 1 });
      const result = await drain(fx.database.db, { smtp: transport, concurrency: 1, backoff: { baseSeconds: 60 } });
      transport.close();
      expect(result).toMatchObject({ sent: 1, deferred: 1, failed: 1 });
      const [temp, perm, fine] = await rows();
      expect(temp).toMatchObject({ state: 'deferred', attempts: 1 });
      expect(temp!.lastError).toMatch(/451/);
      expect(temp!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 25_000);
      expect(perm).toMatchObject({ state: 'failed' });
      expect(perm!.lastError).toMatch(/554 rejected for policy/);
      expect(fine!.state).toBe('sent');
      const log = await fx.database.db.select().from(attempts).orderBy(attempts.messageId);
      expect(log.map((l) => [l.outcome, l.smtpCode])).toEqual([['deferred', 451], ['failed', 554], ['sent', 250]]);
    } finally {
      await flaky.close();
    }
  });

  it('partial acceptance: a retry never resends to recipients that accepted', async () => {
    let refuse = true;
    const picky = await startSmtp({
      onRcpt: (address) => (address === 'later@example.com' && refuse ? smtpError(450, 'mailbox busy') : undefined),
    });
    try {
      await queue.sendMail({ from: 'a@example.com', to: ['now@example.com', 'later@example.com'], subject: 'partial', text: 'x' });
      const run = async () => {
        const transport = createSmtpTransport(picky.url, { concurrency: 1 });
        await drain(fx.database.db, { smtp: transport });
        transport.close();
      };
      await run();
      expect(picky.received.map((m) => m.to)).toEqual([['now@example.com']]);
      const [row] = await rows();
      expect(row!.state).toBe('deferred');
      expect(row!.recipientStatus).toMatchObject({ 'now@example.com': { state: 'sent' }, 'later@example.com': { state: 'deferred' } });
      refuse = false;
      await fx.database.db.update(messages).set({ nextAttemptAt: sql`now()` }).where(eq(messages.id, row!.id));
      await run();
      expect(picky.received.map((m) => m.to)).toEqual([['now@example.com'], ['later@example.com']]);
      expect(picky.received[0]!.parsed.messageId).toBe(picky.received[1]!.parsed.messageId);
      expect((await rows())[0]!.state).toBe('sent');
    } finally {
      await picky.close();
    }
  });

  it.runIf(backend.name === 'pglite')('transporter.close() releases a database it opened from a URL', async () => {
    const url = `file:/tmp/mailroom-close-${process.pid}-${Date.now()}`;
    const own = nodemailer.createTransport(createQueueTransport({ database: url }));
    await own.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x' });
    await own.close();
    const status = await mailroom(['status', '--json'], { DATABASE_URL: url });
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ queued: 1 });
  });

  it.runIf(backend.name === 'postgres')('prepare: false (PgBouncer in transaction mode) leaves no statement on the server', async () => {
    const own = await openDatabase(fx.db.url, { prepare: false, max: 1 });
    try {
      const transport = nodemailer.createTransport(createQueueTransport({ database: own }));
      await new WelcomeMail({ name: 'Ana', loginUrl: 'https://example.com/l' }).send(transport, { to: 'b@example.com' });
      await enqueueMail(own, { from: 'a@example.com', to: 'c@example.com', subject: 's', text: 'x' });
      // One connection (max: 1): what it prepared is listed for it.
      expect(await own.sql!`select name from pg_prepared_statements`).toEqual([]);
      expect(await own.db.$count(messages)).toBe(2);
    } finally {
      await own.close();
    }
  });

  it.runIf(backend.name === 'postgres')('statements run inside transactions are prepared too (bulk enqueue)', async () => {
    const own = await openDatabase(fx.db.url, { max: 1 });
    try {
      const mails = [0, 1].map((i) => ({ from: 'a@example.com', to: `u${i}@example.com`, subject: `s${i}`, text: 'x' }));
      const insertsPrepared = async (database: typeof own) =>
        (await database.sql!`select statement from pg_prepared_statements where statement like 'insert into "mailroom_messages"%'`).length;
      await enqueueMailMany(own, mails); // its own transaction (begin)
      expect(await insertsPrepared(own)).toBeGreaterThan(0);
      // A savepoint in the app's transaction, on a connection that has prepared nothing yet:
      // only the savepoint's own client can have prepared this INSERT.
      const fresh = await openDatabase(fx.db.url, { max: 1 });
      try {
        expect(await insertsPrepared(fresh)).toBe(0);
        await fresh.db.transaction((tx) => enqueueMailMany(tx, mails));
        expect(await insertsPrepared(fresh)).toBeGreaterThan(0);
      } finally {
        await fresh.close();
      }
    } finally {
      await own.close();
    }
  });

  it('takes back messages whose drain died once their lease ends', async () => {
    await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'orphan', text: 'x' });
    await fx.database.db.update(messages).set({ state: 'sending', leaseOwner: 'dead-drain', leaseExpiresAt: sql`now() + interval '1 hour'`, attempts: 1 });
    expect((await drainAll()).sent).toBe(0);
    await fx.database.db.update(messages).set({ leaseExpiresAt: sql`now() - interval '1 second'` });
    expect((await drainAll()).sent).toBe(1);
    expect((await rows())[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });
});
