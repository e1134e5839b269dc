/**
 * The example app's main job (`npm start`): queue the example emails the way an
 * app would, then drain the queue like cron's `mailroom send` would. With no
 * SMTP_URL the mail goes to a local mailbox folder of .eml files.
 */
import { resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { createQueueTransport, openDatabase, drain, createSmtpTransport, DEFAULT_DATABASE } from 'mailroom';
import { startMailbox } from '../src/dev/mailbox.js';
import { queueStatus } from '../src/store/status.js';
import { WelcomeMail, PasswordResetMail, InvoiceMail } from './views/index.js';
import Invoice from './invoice.js';

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
  const { counts } = await queueStatus(database.db);
  console.log(`queue (${database.label}): ${JSON.stringify(counts)}`);
  if (mailbox) {
    console.log(`\nNo SMTP_URL set, so mail went to a local mailbox: ${mailbox.received.length} message(s) in ${mailbox.folder}`);
    for (const file of mailbox.received) console.log(`  ${file}`);
    console.log('Open the .eml files in any mail client, or set SMTP_URL=smtp://user:pass@host:587 to send for real.');
  }
} finally {
  await mailbox?.close();
  await database.close();
}
