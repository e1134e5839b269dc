// Localized email end to end: a view in Catalan, Spanish, Arabic and Japanese goes through
// the queue (PGlite and Postgres) and a drain to a real SMTP server, and arrives exactly
// as rendered: subject, HTML with lang/dir, plain text, Content-Language.
import { describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createQueueTransport, InvalidMessageError } from 'mailroom';
import { drain, createSmtpTransport } from 'mailroom/drain';
import { messages } from 'mailroom/schema';
import { InvoiceMail, PasswordResetMail, WelcomeMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();

const CASES = [
  { locale: 'ca', lang: 'ca', dir: 'ltr', subject: 'Et donem la benvinguda, Núria!', line: 'El teu compte ja està a punt. Inicia la sessió per acabar de configurar-lo.' },
  { locale: 'es-MX', lang: 'es', dir: 'ltr', subject: '¡Te damos la bienvenida, Núria!', line: 'Tu cuenta ya está lista. Inicia sesión para terminar de configurarla.' },
  { locale: 'ar', lang: 'ar', dir: 'rtl', subject: 'مرحبًا بك يا Núria!', line: 'حسابك جاهز. سجّل الدخول لإكمال إعداده.' },
  { locale: 'ja-JP', lang: 'ja', dir: 'ltr', subject: 'Núriaさん、ようこそ！', line: 'アカウントの準備ができました。サインインして設定を完了してください。' },
] as const;

describe.each(ALL)('localized mail through the queue on $name', (backend) => {
  const fx = perTest(backend);

  it('Catalan, Spanish, Arabic and Japanese arrive exactly as rendered, each saying its language', async () => {
    const queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    const props = { name: 'Núria', loginUrl: 'https://example.com/login' };
    const rendered = [];
    for (const c of CASES) {
      const view = new WelcomeMail(props, { locale: c.locale });
      rendered.push(await view.render());
      await view.send(queue, { to: `${c.lang}@example.com` });
    }
    queue.close();
    const smtp = createSmtpTransport(fx.smtp.url);
    try {
      expect((await drain(fx.database.db, { smtp })).sent).toBe(CASES.length);
    } finally {
      smtp.close();
    }
    expect(fx.smtp.received).toHaveLength(CASES.length);
    for (const [i, c] of CASES.entries()) {
      const got = fx.smtp.received.find((r) => r.to[0] === `${c.lang}@example.com`)!;
      const mail = got.parsed;
      expect(mail.subject).toBe(c.subject);
      expect(mail.subject).toBe(rendered[i]!.subject);
      expect(mail.headers.get('content-language')).toBe(c.lang);
      expect(mail.html).toBe(rendered[i]!.html);
      expect(mail.html).toMatch(new RegExp(`<html[^>]* dir="${c.dir}"`));
      expect(mail.html).toMatch(new RegExp(`<html[^>]* lang="${c.lang}"`));
      expect(mail.html).toContain(c.line);
      expect(mail.text).toBe(rendered[i]!.text);
      expect(mail.text).toContain(c.line);
    }
  });

  it('the Arabic plain text reads as Arabic: UTF-8, whole sentences in reading order, no entities', async () => {
    const queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    await new PasswordResetMail({ name: 'ليلى', resetUrl: 'https://example.com/r/1', expiresInMinutes: 2 }, { locale: 'ar' }).send(queue, { to: 'layla@example.com' });
    queue.close();
    const smtp = createSmtpTransport(fx.smtp.url);
    try {
      await drain(fx.database.db, { smtp });
    } finally {
      smtp.close();
    }
    const [got] = fx.smtp.received;
    const textPart = /Content-Type: text\/plain; charset=([^\r\n;]+)/i.exec(got!.raw.toString());
    expect(textPart?.[1]?.toLowerCase()).toBe('utf-8');
    // Arabic's dual: two minutes is one word, دقيقتين, not "2 دقيقة".
    expect(got!.parsed.text).toBe(
      [
        'إعادة تعيين كلمة المرور',
        '',
        'مرحبًا ليلى، طلب أحدهم إعادة تعيين كلمة مرور حسابك.',
        '',
        'اختر كلمة مرور جديدة https://example.com/r/1',
        '',
        'تنتهي صلاحية الرابط خلال دقيقتين. إذا لم تطلب ذلك، فتجاهل هذه الرسالة.',
      ].join('\n'),
    );
    expect(got!.parsed.subject).toBe('إعادة تعيين كلمة المرور');
    expect(got!.parsed.headers.get('content-language')).toBe('ar');
  });

  it("the invoice's money and dates use Intl in the reader's locale", async () => {
    const queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    for (const locale of ['ca', 'ja'])
      await new InvoiceMail(Invoice.PreviewProps, { locale }).send(queue, { to: `${locale}@example.com` });
    queue.close();
    const smtp = createSmtpTransport(fx.smtp.url);
    try {
      await drain(fx.database.db, { smtp });
    } finally {
      smtp.close();
    }
    const text = (to: string) => fx.smtp.received.find((r) => r.to[0] === to)!.parsed.text!;
    expect(text('ca@example.com')).toContain('Emesa el 5 de març del 2026');
    expect(text('ca@example.com')).toContain('Total: 150,50\u00a0€'); // Intl's no-break space
    expect(text('ja@example.com')).toContain('発行日：2026年3月5日');
    expect(text('ja@example.com')).toContain('合計：€150.50');
  });

  it('a hand-set Content-Language must be language tags: anything else is refused and nothing stored', async () => {
    const queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    const message = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' };
    await queue.sendMail({ ...message, headers: { 'Content-Language': 'es, ca' } });
    const error = await queue.sendMail({ ...message, headers: { 'Content-Language': 'català' } }).catch((e: unknown) => e);
    queue.close();
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toBe('Header "Content-Language" holds "català", which is not a language tag: use tags like "ca" or "es, ca", comma-separated.');
    expect(await fx.database.db.select().from(messages)).toHaveLength(1);
  });
});
