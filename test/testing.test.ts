// mailroom/testing, as an app's tests use it: a real queue (in memory, or the app's own
// Postgres), the real drain into an in-process SMTP capture, and expectations that say
// what was queued and sent when they fail.
import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import { enqueueMail } from 'mailroom';
import { createTestMailroom, type TestMailroom } from 'mailroom/testing';
import { InvoiceMail, PasswordResetMail, WelcomeMail } from '../emails/_views/index.js';
import { invoicePdf } from '../emails/_views/invoice-pdf.js';
import type { InvoiceProps } from '../emails/invoice.js';
import { mailroomTargets, openTestMailroom } from './helpers/test-mailrooms.js';

// The default in-memory database, and the app's own Postgres given by URL or as a Drizzle db.
const TARGETS = await mailroomTargets();
const welcome = (name: string) => new WelcomeMail({ name, loginUrl: 'https://app.example.com/login' });
const invoice: InvoiceProps = { customer: 'Zoë', number: 'F-7', currency: 'EUR', lines: [{ description: 'Tea', amount: 7 }] };

describe.each(TARGETS)('mailroom/testing on $name', (target) => {
  let mail: TestMailroom;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ mail, drop } = await openTestMailroom(target));
    await mail.database.execute(sql`create table if not exists users (id serial primary key, email text not null)`);
  });
  afterAll(() => drop());
  beforeEach(() => mail.reset());

  it('lists queued mail with its view, recipients, subject, headers, priority, sendAt, text, html and attachments; filters', async () => {
    const later = new Date(Date.now() + 3_600_000);
    await welcome('Ana').send(mail.transporter, { to: 'ana@example.com', headers: { 'X-Campaign': 'spring' } });
    await new InvoiceMail(invoice).send(mail.transporter, { to: 'Zoe <zoe@example.com>', bcc: 'books@example.com', sendAt: later });
    await mail.transporter.sendMail({ from: 'a@example.com', to: 'ops@example.com', subject: 'plain', text: 'hi' });

    const all = await mail.queued();
    expect(all.map((m) => m.view)).toEqual(['WelcomeMail', 'InvoiceMail', null]);
    const [w, i] = all;
    expect(w).toMatchObject({ to: ['ana@example.com'], recipients: ['ana@example.com'], subject: 'Welcome, Ana!', priority: 'normal', state: 'queued' });
    expect(w!.headers['x-campaign']).toBe('spring');
    expect(w!.from).toBe('"Mailroom Demo" <hello@mailroom.test>');
    expect(w!.html).toContain('Ana');
    expect(w!.text).toMatch(/Welcome, Ana/i);
    expect(w!.link('/login')).toBe('https://app.example.com/login');
    expect(i).toMatchObject({ to: ['zoe@example.com'], recipients: ['zoe@example.com', 'books@example.com'], priority: 'low' });
    expect(i!.sendAt.getTime()).toBe(later.getTime());
    expect(i!.attachments).toHaveLength(1);
    expect(i!.attachments[0]!.filename).toBe('factura-F-7.pdf');
    expect(i!.attachments[0]!.content.equals(invoicePdf(invoice))).toBe(true);

    expect((await mail.queued({ view: InvoiceMail })).map((m) => m.subject)).toEqual(['Invoice F-7']);
    expect((await mail.queued({ view: 'WelcomeMail' })).length).toBe(1);
    expect((await mail.queued({ to: 'BOOKS@example.com' })).map((m) => m.view)).toEqual(['InvoiceMail']);
    expect((await mail.queued({ to: /@example\.com$/ })).length).toBe(3);
    expect((await mail.queued({ subject: 'plain' })).length).toBe(1);
    expect((await mail.queued({ subject: /^Welcome/ })).length).toBe(1);
    expect((await mail.queued({ priority: 'low' })).map((m) => m.view)).toEqual(['InvoiceMail']);
    expect(await mail.queued({ view: WelcomeMail, to: 'zoe@example.com' })).toEqual([]);
    await mail.expectQueued(WelcomeMail, { to: 'ana@example.com' });
    await mail.expectQueued(null, { count: 3 });
  });

  it('delivers through the real drain into the capture, parsed, with exact attachment bytes and links; due-later mail at a given time', async () => {
    await new PasswordResetMail({ name: 'Bo', resetUrl: 'https://app.example.com/reset?token=a1&x=2', expiresInMinutes: 30 }).send(mail.transporter, { to: 'bo@example.com' });
    await new InvoiceMail(invoice).send(mail.transporter, { to: 'zoe@example.com', sendAt: new Date(Date.now() + 86_400_000) });
    expect(await mail.queued({ view: PasswordResetMail })).toMatchObject([{ priority: 'high' }]); // `now`, no SMTP to try at once

    expect(await mail.deliverAll()).toMatchObject({ sent: 1, deferred: 0, failed: 0 });
    const reset = await mail.expectSent(PasswordResetMail, { to: 'bo@example.com' });
    expect(reset).toMatchObject({ view: 'PasswordResetMail', priority: 'high', subject: 'Reset your password', to: ['bo@example.com'] });
    expect(reset.link(/reset/)).toBe('https://app.example.com/reset?token=a1&x=2');
    expect(reset.links()).toContain('https://app.example.com/reset?token=a1&x=2');
    expect(reset.headers['x-mail-queue-priority']).toBeUndefined();
    expect(() => reset.link(/nowhere/)).toThrow(/No link matching \/nowhere\/.*\n.*reset\?token=a1&x=2/);
    expect((await mail.lastTo('bo@example.com'))?.messageId).toBe(reset.messageId);
    await mail.expectQueued(InvoiceMail); // due tomorrow: still waiting

    expect(await mail.deliverAll({ now: new Date(Date.now() + 2 * 86_400_000) })).toMatchObject({ sent: 1 });
    const sentInvoice = await mail.expectSent(InvoiceMail, { to: 'zoe@example.com' });
    expect(sentInvoice.attachments[0]!.content.equals(invoicePdf(invoice))).toBe(true);
    await mail.expectNothingQueued();
    expect((await mail.sent()).map((m) => m.view)).toEqual(['PasswordResetMail', 'InvoiceMail']);
  });

  it('queues inside the app’s transaction: committed mail exists, rolled-back mail does not', async () => {
    await mail.database.transaction(async (tx) => {
      await tx.execute(sql`insert into users (email) values ('ana@example.com')`);
      await enqueueMail(tx, await welcome('Ana').toMessage({ to: 'ana@example.com' }));
    });
    await expect(
      mail.database.transaction(async (tx) => {
        await tx.execute(sql`insert into users (email) values ('bo@example.com')`);
        await enqueueMail(tx, await welcome('Bo').toMessage({ to: 'bo@example.com' }));
        throw new Error('card declined');
      }),
    ).rejects.toThrow('card declined');
    await mail.expectQueued(WelcomeMail, { to: 'ana@example.com', count: 1 });
    await expect(mail.expectQueued(WelcomeMail, { to: 'bo@example.com' })).rejects.toThrow(AssertionError);
  });

  it('queued() lists what is still to be sent: a sent message leaves it for sent(), a failed one for failed()', async () => {
    mail.reject('gone@example.com', 550);
    mail.reject('busy@example.com', 451);
    for (const to of ['ana@example.com', 'gone@example.com', 'busy@example.com']) await welcome(to).send(mail.transporter, { to });
    await new InvoiceMail(invoice).send(mail.transporter, { to: 'zoe@example.com', sendAt: new Date(Date.now() + 86_400_000) });
    expect((await mail.queued()).map((m) => m.state)).toEqual(['queued', 'queued', 'queued', 'queued']);
    await mail.deliverAll();
    expect((await mail.queued()).map((m) => [m.recipients[0], m.state])).toEqual([['busy@example.com', 'deferred'], ['zoe@example.com', 'queued']]);
    expect((await mail.failed()).map((m) => m.recipients)).toEqual([['gone@example.com']]);
    expect((await mail.failed({ view: WelcomeMail }))[0]!.lastError).toMatch(/550/);
    expect(await mail.failed({ view: InvoiceMail })).toEqual([]);
    expect((await mail.sent()).map((m) => m.recipients)).toEqual([['ana@example.com']]);
  });

  it('sent() filters like queued(); lastTo() is the latest to an address, Cc and Bcc included', async () => {
    await welcome('Ana').send(mail.transporter, { to: 'ana@example.com', cc: 'boss@example.com' });
    await new PasswordResetMail({ name: 'Ana', resetUrl: 'https://app.example.com/reset?t=1', expiresInMinutes: 5 }).send(mail.transporter, { to: 'ana@example.com' });
    await new InvoiceMail(invoice).send(mail.transporter, { to: 'zoe@example.com', bcc: 'books@example.com' });
    await mail.deliverAll();
    // Sent in priority order: the reset (now → high) first.
    expect((await mail.sent()).map((m) => m.view)).toEqual(['PasswordResetMail', 'WelcomeMail', 'InvoiceMail']);
    expect((await mail.sent({ view: InvoiceMail })).map((m) => m.priority)).toEqual(['low']);
    expect((await mail.sent({ priority: 'high' })).map((m) => m.view)).toEqual(['PasswordResetMail']);
    expect((await mail.sent({ subject: 'Welcome, Ana!' })).map((m) => m.view)).toEqual(['WelcomeMail']);
    expect((await mail.sent({ subject: /^Invoice F-\d$/ })).map((m) => m.view)).toEqual(['InvoiceMail']);
    expect((await mail.sent({ to: 'ana@example.com', view: 'WelcomeMail' })).length).toBe(1);
    expect((await mail.lastTo('ANA@example.com'))?.view).toBe('WelcomeMail');
    expect((await mail.lastTo('boss@example.com'))?.cc).toEqual(['boss@example.com']);
    expect((await mail.lastTo('books@example.com'))?.view).toBe('InvoiceMail');
    expect((await mail.lastTo('books@example.com'))?.to).toEqual(['zoe@example.com']); // Bcc not in the headers
    expect(await mail.lastTo('nobody@example.com')).toBeUndefined();
  });

  it('reset() in one call empties the queue, the capture and the rejections; the app’s rows only on the in-memory database', async () => {
    await mail.database.execute(sql`insert into users (email) values ('kept@example.com')`);
    mail.reject('busy@example.com', 451);
    await welcome('Ana').send(mail.transporter, { to: 'ana@example.com' });
    await welcome('Busy').send(mail.transporter, { to: 'busy@example.com' });
    await mail.deliverAll();
    await welcome('Bo').send(mail.transporter, { to: 'bo@example.com' });
    expect([(await mail.queued()).length, (await mail.sent()).length]).toEqual([2, 1]);

    await mail.reset();
    await mail.expectNothingQueued();
    await mail.expectNothingSent();
    const rows = await mail.database.execute<{ email: string }>(sql`select email from users where email = 'kept@example.com'`);
    // PGlite's result has rows, postgres.js's is the array of them.
    const users = ('rows' in rows ? rows.rows : rows) as { email: string }[];
    expect(users.length).toBe(target.name === 'in-memory' ? 0 : 1);
    await welcome('Busy').send(mail.transporter, { to: 'busy@example.com' });
    expect(await mail.deliverAll()).toMatchObject({ sent: 1, deferred: 0 }); // the rejection is forgotten
    expect((await mail.queued())).toEqual([]);
  });

  it('smtpUrl takes mail the app sends over SMTP itself: in sent(), with no view or queue priority', async () => {
    const direct = nodemailer.createTransport(mail.smtpUrl);
    try {
      await direct.sendMail({ from: 'Ops <ops@example.com>', to: 'ana@example.com', subject: 'Direct', text: 'sent at https://app.example.com/x', envelope: { from: 'bounce@example.com', to: ['ana@example.com'] } });
    } finally {
      direct.close();
    }
    const [sent] = await mail.sent();
    expect(sent).toMatchObject({ subject: 'Direct', view: null, priority: null, from: '"Ops" <ops@example.com>', envelopeFrom: 'bounce@example.com' });
    expect(sent!.link('app.example.com')).toBe('https://app.example.com/x'); // from the text when there is no HTML
    await mail.expectSent(null, { subject: 'Direct' });
    await mail.expectNothingQueued();
  });

  it('a topic’s mail carries List-Unsubscribe as it will in production (a stand-in link), so tests can follow it', async () => {
    await mail.transporter.sendMail({ from: 'news@example.com', to: 'ana@example.com', subject: 'News', text: 'x', queueTopic: 'newsletter' } as never);
    const [news] = await mail.queued({ subject: 'News' });
    expect(news!.headers['list-unsubscribe']).toMatch(/^<https:\/\/unsubscribe\.mailroom\.test\/\?token=[\w.-]+>$/);
    expect(news!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });

  it('answers 4xx or 5xx for an address: the message is deferred, then delivered later; or it fails', async () => {
    mail.reject('busy@example.com', 451);
    mail.reject('gone@example.com', 550, 'No such user here');
    await welcome('Busy').send(mail.transporter, { to: 'busy@example.com' });
    await welcome('Gone').send(mail.transporter, { to: 'gone@example.com' });
    expect(await mail.deliverAll()).toMatchObject({ sent: 0, deferred: 1, failed: 1 });
    const [deferred] = await mail.queued({ to: 'busy@example.com' });
    expect(deferred).toMatchObject({ state: 'deferred', attempts: 1 });
    expect(deferred!.lastError).toMatch(/451/);
    await mail.expectNothingSent();
    const failing = await mail.expectSent(WelcomeMail, { to: 'gone@example.com' }).catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(AssertionError);
    expect((failing as Error).message).toMatch(/a matching message failed: .*No such user here/);

    await mail.reset(); // forgets the rejections too
    await welcome('Busy').send(mail.transporter, { to: 'busy@example.com' });
    mail.reject('busy@example.com', 421);
    expect(await mail.deliverAll()).toMatchObject({ deferred: 1 });
    expect(await mail.deliverAll()).toMatchObject({ sent: 0, deferred: 0 }); // not due yet: backoff
    expect(await mail.deliverAll({ now: new Date(Date.now() + 86_400_000) })).toMatchObject({ deferred: 1 }); // due by then: tried again
    expect(await mail.queued({ to: 'busy@example.com' })).toMatchObject([{ state: 'deferred', attempts: 2 }]);
  });

  it('explains a failed expectation: what was queued and sent, and a hint', async () => {
    await welcome('Ana').send(mail.transporter, { to: 'ana@example.com' });
    const error = (await mail.expectSent(WelcomeMail, { to: 'ana@example.com' }).catch((e: unknown) => e)) as AssertionError;
    expect(error).toBeInstanceOf(AssertionError);
    console.log(`--- a failing expectSent reads:\n${error.message}`);
    expect(error.message).toContain('expectSent: expected a sent WelcomeMail to ana@example.com, found 0.');
    expect(error.message).toContain('Queued (1):\n  1. WelcomeMail to ana@example.com: "Welcome, Ana!" [queued, normal]');
    expect(error.message).toContain('Sent (0): none');
    expect(error.message).toContain('queued, not sent: did you mean expectQueued?');

    const wrong = (await mail.expectQueued(WelcomeMail, { to: 'bo@example.com' }).catch((e: unknown) => e)) as AssertionError;
    expect(wrong.message).toContain('went to ana@example.com, not bo@example.com');
    await expect(mail.expectNothingQueued()).rejects.toThrow(/expected no queued message, found 1\.\nQueued \(1\):\n {2}1\. WelcomeMail/);

    await mail.deliverAll();
    const sentAlready = (await mail.expectQueued(WelcomeMail).catch((e: unknown) => e)) as AssertionError;
    expect(sentAlready.message).toContain('sent already, not queued: did you mean expectSent?');
    await expect(mail.expectNothingSent()).rejects.toThrow(/Sent \(1\):\n {2}1\. WelcomeMail to ana@example.com/);
    await expect(mail.expectSent(WelcomeMail, { count: 2 })).rejects.toThrow(/expected 2 sent WelcomeMails, found 1/);
  });
});

describe('sendNow: `now` mail goes out at once through the capture, as with smtp set in production', () => {
  const reset = (name: string, url = 'https://app.example.com/reset?token=n0w') => new PasswordResetMail({ name, resetUrl: url, expiresInMinutes: 5 });
  let mail: TestMailroom;
  beforeAll(async () => {
    mail = await createTestMailroom({ sendNow: true });
  });
  afterAll(() => mail.close());
  beforeEach(() => mail.reset());

  it('is in sent() when send() resolves, recorded as `now`, with no deliverAll; other priorities still wait', async () => {
    const info = await reset('Ana').send(mail.transporter, { to: 'ana@example.com' });
    expect(info).toMatchObject({ state: 'sent', accepted: ['ana@example.com'], rejected: [] });
    const sent = await mail.expectSent(PasswordResetMail, { to: 'ana@example.com', count: 1, priority: 'now' });
    expect(sent.link(/reset/)).toBe('https://app.example.com/reset?token=n0w');
    await mail.expectNothingQueued();

    await welcome('Ana').send(mail.transporter, { to: 'ana@example.com' });
    await mail.expectQueued(WelcomeMail, { to: 'ana@example.com', priority: 'normal' });
    expect((await mail.sent()).map((m) => m.view)).toEqual(['PasswordResetMail']);
  });

  it('refused for now, it waits in the queue as `high` (4xx) or is failed (5xx)', async () => {
    mail.reject('busy@example.com', 451);
    mail.reject('gone@example.com', 550);
    expect(await reset('Busy').send(mail.transporter, { to: 'busy@example.com' })).toMatchObject({ state: 'queued', accepted: [] });
    expect(await reset('Gone').send(mail.transporter, { to: 'gone@example.com' })).toMatchObject({ state: 'failed', rejected: ['gone@example.com'] });
    expect(await mail.queued()).toMatchObject([{ view: 'PasswordResetMail', recipients: ['busy@example.com'], priority: 'high', attempts: 1 }]);
    expect((await mail.failed()).map((m) => m.recipients)).toEqual([['gone@example.com']]);
    await mail.expectNothingSent();
  });
});

describe('the in-memory database between test mailrooms', () => {
  it('is handed on emptied: a new test mailroom sees no mail and no rows of the last one', async () => {
    const first = await createTestMailroom();
    await first.database.execute(sql`create table if not exists notes (body text)`);
    await first.database.execute(sql`insert into notes values ('left behind')`);
    await welcome('Ana').send(first.transporter, { to: 'ana@example.com' });
    await first.close();
    const second = await createTestMailroom();
    try {
      expect(second.database).toBe(first.database); // the same embedded database, reused
      await second.expectNothingQueued();
      expect(await second.database.execute(sql`select * from notes`)).toMatchObject({ rows: [] });
    } finally {
      await second.close();
    }
  });
});
