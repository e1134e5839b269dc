import type { Attachment } from 'nodemailer';
import { MailView, type Priority, type Translator } from 'mailroom';
import Welcome, { type WelcomeProps } from '../welcome.js';
import PasswordReset, { type PasswordResetProps } from '../password-reset.js';
import Invoice, { type InvoiceProps } from '../invoice.js';
import { invoicePdf } from './invoice-pdf.js';
import { i18n } from '../_locales/i18n.js';

export { i18n };
type AppMessages = typeof import('../_locales/en.json');

/** The example app's base: every email comes from the same sender, in the reader's language. */
export abstract class AppMail<P> extends MailView<P, AppMessages> {
  override from = 'Mailroom Demo <hello@mailroom.test>';
  override i18n = i18n;
}

/** Emails the user is waiting for right now: tried at once, queued if that fails. */
export abstract class UrgentMail<P> extends AppMail<P> {
  override priority: Priority = 'now';
}

export class WelcomeMail extends AppMail<WelcomeProps> {
  readonly template = Welcome;
  subject({ name }: WelcomeProps, t: Translator<AppMessages>) {
    return t('welcome.subject', { name });
  }
  override validate({ name }: WelcomeProps) {
    if (!name.trim()) throw new Error('name must not be empty');
  }
}

export class PasswordResetMail extends UrgentMail<PasswordResetProps> {
  readonly template = PasswordReset;
  subject(_props: PasswordResetProps, t: Translator<AppMessages>) {
    return t('password-reset.subject');
  }
}

export class InvoiceMail extends AppMail<InvoiceProps> {
  readonly template = Invoice;
  override priority: Priority = 'low';
  subject({ number }: InvoiceProps, t: Translator<AppMessages>) {
    return t('invoice.subject', { number });
  }
  override attachments(props: InvoiceProps): Attachment[] {
    return [{ filename: `factura-${props.number}.pdf`, content: invoicePdf(props), contentType: 'application/pdf' }];
  }
}

/** Every view with sample props, for the preview server and the demo. */
export const views = [
  { name: 'welcome', view: () => new WelcomeMail(Welcome.PreviewProps) },
  { name: 'password-reset', view: () => new PasswordResetMail(PasswordReset.PreviewProps) },
  { name: 'invoice', view: () => new InvoiceMail(Invoice.PreviewProps) },
];
