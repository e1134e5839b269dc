// The outbox shows which mail view built each message and filters on it (`/outbox?view=…`).
// The queue is a mailroom/testing one: in memory, and the app's own Postgres by URL or Drizzle db.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPreviewHandler, type PreviewHandler } from 'mailroom/preview';
import type { TestMailroom } from 'mailroom/testing';
import { InvoiceMail, WelcomeMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { mailroomTargets, openTestMailroom } from './helpers/test-mailrooms.js';

const TARGETS = await mailroomTargets();

describe.each(TARGETS)('outbox view column on $name', (target) => {
  let mail: TestMailroom;
  let preview: PreviewHandler;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ mail, drop } = await openTestMailroom(target));
    preview = createPreviewHandler({ database: mail.database, watch: false });
    await preview.ready;
    await new WelcomeMail({ name: 'Ana', loginUrl: 'https://app.example.com/login' }).send(mail.transporter, { to: 'ana@example.com' });
    await new InvoiceMail(Invoice.PreviewProps).send(mail.transporter, { to: 'zoe@example.com' });
    await mail.transporter.sendMail({ from: 'ops@example.com', to: 'ops@example.com', subject: 'Plain nodemailer', text: 'hi' });
  });
  afterAll(async () => {
    await preview?.close();
    await drop?.();
  });
  const page = async (path: string) => (await preview(new Request(`http://localhost${path}`))).text();
  const subjects = (body: string) => [...body.matchAll(/class="subject"[^>]*>([^<]*)</g)].map((m) => m[1]);

  it('lists each message’s view, linked to the outbox filtered on it', async () => {
    const body = await page('/outbox');
    expect(subjects(body)).toEqual(['Plain nodemailer', `Invoice ${Invoice.PreviewProps.number}`, 'Welcome, Ana!']);
    expect(body).toContain('<th>View</th>');
    expect(body).toMatch(/<td class="view"><a href="outbox\?view=WelcomeMail">WelcomeMail<\/a><\/td>/);
    expect(body).toMatch(/<td class="view"><\/td>/); // the plain message has none
  });

  it('filters by view, keeping the filter across state links and counting only its messages', async () => {
    const body = await page('/outbox?view=InvoiceMail');
    expect(subjects(body)).toEqual([`Invoice ${Invoice.PreviewProps.number}`]);
    expect(body).toContain('1 message<');
    expect(body).toContain('href="outbox?state=queued&amp;view=InvoiceMail"');
    expect(body).toContain('<input type="hidden" name="view" value="InvoiceMail">');
    expect(subjects(await page('/outbox?view=NoSuchMail'))).toEqual([]);
  });

  it('shows on the message page which view built the message, linked to the outbox filtered on it', async () => {
    const list = await page('/outbox');
    const idOf = (subject: string) => new RegExp(`href="outbox/(\\d+)"[^>]*>${subject}<`).exec(list)?.[1];
    const welcome = await page(`/outbox/${idOf('Welcome, Ana!')}`);
    expect(welcome).toMatch(/<th scope="row">View<\/th><td class="wrap"><a id="message-view" href="outbox\?view=WelcomeMail">WelcomeMail<\/a><\/td>/);
    const plain = await page(`/outbox/${idOf('Plain nodemailer')}`);
    expect(plain).toContain('<span class="muted" id="message-view">none: not sent through a mail view</span>');
  });
});
