import { describe, expect, it } from 'vitest';
import { MailView, PRIORITY_HEADER, InvalidPriorityError, RenderError } from 'mailroom';
import { WelcomeMail, InvoiceMail, PasswordResetMail, UrgentMail } from '../emails/_views/index.js';
import Welcome from '../emails/welcome.js';
import Invoice from '../emails/invoice.js';
import PasswordReset from '../emails/password-reset.js';
import { createElement, type ComponentType } from 'react';
import { render, toPlainText } from '@react-email/render';
import { plainText } from '../src/views/plain-text.js';

describe('mail views', () => {
  it('render HTML and plain text from the React Email template', async () => {
    const rendered = await new WelcomeMail({ name: 'Martí 🎉', loginUrl: 'https://example.com/l' }).render();
    expect(rendered.subject).toBe('Welcome, Martí 🎉!');
    expect(rendered.html).toContain('<html');
    expect(rendered.html).toContain('Martí 🎉');
    expect(rendered.text.toLowerCase()).toContain('welcome, martí 🎉!');
    expect(rendered.text).not.toContain('<');
  });

  it('stamp the priority header from the class, default normal', async () => {
    expect((await new WelcomeMail(Welcome.PreviewProps).render()).headers[PRIORITY_HEADER]).toBe('normal');
    expect((await new PasswordResetMail({ name: 'a', resetUrl: 'u', expiresInMinutes: 1 }).render()).headers[PRIORITY_HEADER]).toBe('now');
    expect((await new InvoiceMail(Invoice.PreviewProps).render()).headers[PRIORITY_HEADER]).toBe('low');
  });

  it('a base class sets the priority for all its subclasses', async () => {
    class Alert extends UrgentMail<{ text: string }> {
      template = ({ text }: { text: string }) => <p>{text}</p>;
      subject() {
        return 'alert';
      }
    }
    expect((await new Alert({ text: 'x' }).render()).headers[PRIORITY_HEADER]).toBe('now');
  });

  it('reject an unknown priority naming the allowed values', async () => {
    class Bad extends MailView<object> {
      template = () => <p>x</p>;
      override priority = 'urgent' as never;
      subject() {
        return 's';
      }
    }
    await expect(new Bad({}).render()).rejects.toThrow(InvalidPriorityError);
    await expect(new Bad({}).render()).rejects.toThrow(/now, high, normal, low/);
  });

  it('wrap a throwing template or failed validation in a RenderError naming the view', async () => {
    class Throws extends MailView<object> {
      template = (): never => {
        throw new Error('boom');
      };
      subject() {
        return 's';
      }
    }
    await expect(new Throws({}).render()).rejects.toThrow(RenderError);
    await expect(new Throws({}).render()).rejects.toThrow(/Throws could not render: boom/);
    await expect(new WelcomeMail({ name: ' ', loginUrl: 'x' }).render()).rejects.toThrow(/name must not be empty/);
  });

  it('toMessage merges the view with the send options, attachments included', async () => {
    const message = await new InvoiceMail(Invoice.PreviewProps).toMessage({
      to: 'a@example.com',
      headers: { 'X-Extra': '1' },
      attachments: [{ filename: 'extra.txt', content: 'hi' }],
    });
    expect(message.from).toBe('Mailroom Demo <hello@mailroom.test>');
    expect(message.subject).toBe('Invoice F-2026-0042');
    // The priority travels as an option for the queue transport to read, never as a header on the wire.
    expect(message.headers).toEqual({ 'X-Extra': '1' });
    expect(message.queuePriority).toBe('low');
    expect(message.attachments?.map((a) => a.filename)).toEqual(['factura-F-2026-0042.pdf', 'extra.txt']);
    expect(message.html).toContain('Invoice F-2026-0042');
    expect(message.text).toContain('Total: 150.50 EUR');
  });
});

describe('plain text', () => {
  it('is exactly what react-email toPlainText gives, for every template and odd HTML', async () => {
    const templates = [Welcome, Invoice, PasswordReset] as unknown as (ComponentType<object> & { PreviewProps: object })[];
    const pages = await Promise.all(templates.map((t) => render(createElement(t, t.PreviewProps))));
    pages.push(
      '<table><tr><td>a</td><th>b</th></tr></table><img src=x alt=pic><a href="https://x.test">https://x.test</a><a href="https://y.test">y</a>',
      '<p data-skip-in-text="true">hidden</p><div data-text-format="dataTable"><table><tr><td>1</td></tr></table></div><h1>Título — 标题</h1>',
    );
    for (const html of pages) expect(plainText(html)).toBe(toPlainText(html));
  });
});

describe('views know nothing of queues', () => {
  it('send() goes straight out through a plain nodemailer SMTP transporter', async () => {
    const { startSmtp } = await import('./helpers/smtp.js');
    const nodemailer = (await import('nodemailer')).default;
    const server = await startSmtp();
    const transporter = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, ignoreTLS: true });
    try {
      const info = await new WelcomeMail({ name: 'Pau Çà 🌊', loginUrl: 'https://x' }).send(transporter, { to: 'pau@example.com' });
      expect(info.accepted).toEqual(['pau@example.com']);
      expect(server.received[0]!.parsed.subject).toBe('Welcome, Pau Çà 🌊!');
      // The priority header is the queue's to read: it never goes out, queue or not.
      expect(server.received[0]!.raw.toString()).not.toMatch(/X-Mail-Queue-Priority/i);
    } finally {
      transporter.close();
      await server.close();
    }
  });
});
