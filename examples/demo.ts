/**
 * The example app's main job (`npm start`): queue the example emails the way an
 * app would, then drain the queue like cron's `mailroom send` would. With no
 * SMTP_URL the mail goes to a local mailbox folder of .eml files. It ends in the
 * preview server (the templates and the outbox just filled) until Ctrl-C or
 * SIGTERM, then closes everything and exits 0.
 *
 * It lives outside emails/ so react-email's `email dev` and `email export` see only
 * templates there. `npm start` runs it as `node --import tsx`, one process: the tsx
 * CLI would relay signals to a child and SIGKILL it if it does not answer in 30 ms.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { count } from 'drizzle-orm';
import { createQueueTransport, openDatabase, ConfigError, DEFAULT_DATABASE } from 'mailroom';
import { drain, createSmtpTransport } from 'mailroom/drain';
import { messages } from 'mailroom/schema';
import { startPreviewServer } from 'mailroom/preview';
import { startMailbox } from './mailbox.js';
import { WelcomeMail, PasswordResetMail, InvoiceMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';

const database = await openDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE, { migrate: true });
const mailbox = process.env.SMTP_URL ? undefined : await startMailbox(resolve('.mailroom/inbox'));
const smtpUrl = process.env.SMTP_URL ?? mailbox!.url;

try {
  // The app: one line makes nodemailer queue instead of send.
  const transporter = nodemailer.createTransport(createQueueTransport({ database, smtp: smtpUrl }));
  const to = { name: 'Núria Puigdomènech', address: 'nuria@example.com' };
  const queued = await Promise.all([
    new WelcomeMail({ name: 'Núria 🎉', loginUrl: 'https://example.com/login' }).send(transporter, { to }),
    new PasswordResetMail({ name: 'Núria', resetUrl: 'https://example.com/reset/xyz', expiresInMinutes: 30 }).send(transporter, { to }),
    new InvoiceMail(Invoice.PreviewProps).send(transporter, { to, cc: 'comptabilitat@example.com' }),
  ]);
  for (const info of queued) console.log(`queued #${info.id} ${info.messageId} (${info.priority}) → ${info.state}`);
  transporter.close();

  // Cron: drain what is due.
  const smtp = createSmtpTransport(smtpUrl, { concurrency: 2 });
  const result = await drain(database.db, { smtp, concurrency: 2 });
  smtp.close();
  console.log(`drained: sent ${result.sent}, deferred ${result.deferred}, failed ${result.failed}`);
  // The outbox is the app's own table to query (the exported Drizzle schema).
  const rows = await database.db.select({ state: messages.state, n: count() }).from(messages).groupBy(messages.state);
  const counts = Object.fromEntries(rows.map((row) => [row.state, row.n]));
  console.log(`queue (${database.label}): ${JSON.stringify(counts)}`);
  if (mailbox) {
    console.log(`\nNo SMTP_URL set, so mail went to a local mailbox: ${mailbox.received.length} message(s) in ${mailbox.folder}`);
    for (const file of mailbox.received) console.log(`  ${file}`);
    console.log('Open the .eml files in any mail client, or set SMTP_URL=smtp://user:pass@host:587 to send for real.');
  }

  // The preview server, in this process: the embedded database is one process at a time.
  const emailsDir = fileURLToPath(new URL('../emails/', import.meta.url));
  const options = { database, emailsDir, smtp: smtpUrl, host: process.env.MAILROOM_PREVIEW_HOST ?? '127.0.0.1' };
  const port = Number(process.env.MAILROOM_PREVIEW_PORT ?? 3000);
  const preview = await startPreviewServer({ ...options, port }).catch((error: unknown) => {
    if (!(error instanceof ConfigError) || port === 0) throw error;
    console.log(`(${error.message.split(':')[0]}: using a free port instead)`);
    return startPreviewServer({ ...options, port: 0 });
  });
  console.log(`\nPreview: ${preview.url}  (templates and the outbox; Ctrl-C to stop)`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done).once('SIGTERM', done);
  });
  await preview.close();
} finally {
  await mailbox?.close();
  await database.close();
}
