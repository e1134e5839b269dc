// Localized email end to end: a view in Catalan, Spanish, Arabic and Japanese goes through
// the queue (PGlite and Postgres, as the app's own Drizzle db) and the real drain to an SMTP
// server (mailroom/testing's capture), and arrives exactly as rendered: subject, HTML with
// lang/dir, plain text, Content-Language.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidMessageError } from 'mailroom';
import type { TestMailroom } from 'mailroom/testing';
import { InvoiceMail, PasswordResetMail, WelcomeMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { mailroomTargets, openTestMailroom } from './helpers/test-mailrooms.js';

const TARGETS = await mailroomTargets(['pglite drizzle db', 'postgres drizzle db']);

const CASES = [
  { locale: 'ca', lang: 'ca', dir: 'ltr', subject: 'Et donem la benvinguda, Núria!', line: 'El teu compte ja està a punt. Inicia la sessió per acabar de configurar-lo.' },
  { locale: 'es-MX', lang: 'es', dir: 'ltr', subject: '¡Te damos la bienvenida, Núria!', line: 'Tu cuenta ya está lista. Inicia sesión para terminar de configurarla.' },
  { locale: 'ar', lang: 'ar', dir: 'rtl', subject: 'مرحبًا بك يا Núria!', line: 'حسابك جاهز. سجّل الدخول لإكمال إعداده.' },
  { locale: 'ja-JP', lang: 'ja', dir: 'ltr', subject: 'Núriaさん、ようこそ！', line: 'アカウントの準備ができました。サインインして設定を完了してください。' },
] as const;

describe.each(TARGETS)('localized mail through the queue on $name', (target) => {
  let mail: TestMailroom;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ mail, drop } = await openTestMailroom(target));
  });
  afterAll(() => drop());
  beforeEach(() => mail.reset());
  const textTo = async (to: string) => (await mail.lastTo(to))!.text;

  it('Catalan, Spanish, Arabic and Japanese arrive exactly as rendered, each saying its language', async () => {
    const props = { name: 'Núria', loginUrl: 'https://example.com/login' };
    const rendered = [];
    for (const c of CASES) {
      const view = new WelcomeMail(props, { locale: c.locale });
      rendered.push(await view.render());
      await view.send(mail.transporter, { to: `${c.lang}@example.com` });
    }
    expect((await mail.deliverAll()).sent).toBe(CASES.length);
    expect(await mail.sent()).toHaveLength(CASES.length);
    for (const [i, c] of CASES.entries()) {
      const got = (await mail.lastTo(`${c.lang}@example.com`))!;
      expect(got.subject).toBe(c.subject);
      expect(got.subject).toBe(rendered[i]!.subject);
      expect(got.headers['content-language']).toBe(c.lang);
      expect(got.html).toBe(rendered[i]!.html);
      expect(got.html).toMatch(new RegExp(`<html[^>]* dir="${c.dir}"`));
      expect(got.html).toMatch(new RegExp(`<html[^>]* lang="${c.lang}"`));
      expect(got.html).toContain(c.line);
      expect(got.text).toBe(rendered[i]!.text);
      expect(got.text).toContain(c.line);
    }
  });

  it('the Arabic plain text reads as Arabic: UTF-8, whole sentences in reading order, no entities', async () => {
    await new PasswordResetMail({ name: 'ليلى', resetUrl: 'https://example.com/r/1', expiresInMinutes: 2 }, { locale: 'ar' }).send(mail.transporter, { to: 'layla@example.com' });
    await mail.deliverAll();
    const got = (await mail.lastTo('layla@example.com'))!;
    const textPart = /Content-Type: text\/plain; charset=([^\r\n;]+)/i.exec(got.raw.toString());
    expect(textPart?.[1]?.toLowerCase()).toBe('utf-8');
    // Arabic's dual: two minutes is one word, دقيقتين, not "2 دقيقة".
    expect(got.text).toBe(
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
    expect(got.subject).toBe('إعادة تعيين كلمة المرور');
    expect(got.headers['content-language']).toBe('ar');
  });

  it("the invoice's money and dates use Intl in the reader's locale", async () => {
    for (const locale of ['ca', 'ja']) await new InvoiceMail(Invoice.PreviewProps, { locale }).send(mail.transporter, { to: `${locale}@example.com` });
    await mail.deliverAll();
    expect(await textTo('ca@example.com')).toContain('Emesa el 5 de març del 2026');
    expect(await textTo('ca@example.com')).toContain('Total: 150,50\u00a0€'); // Intl's no-break space
    expect(await textTo('ja@example.com')).toContain('発行日：2026年3月5日');
    expect(await textTo('ja@example.com')).toContain('合計：€150.50');
  });

  it('a hand-set Content-Language must be language tags: anything else is refused and nothing stored', async () => {
    const message = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' };
    await mail.transporter.sendMail({ ...message, headers: { 'Content-Language': 'es, ca' } });
    const error = await mail.transporter.sendMail({ ...message, headers: { 'Content-Language': 'català' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toBe('Header "Content-Language" holds "català", which is not a language tag: use tags like "ca" or "es, ca", comma-separated.');
    expect((await mail.queued()).map((m) => m.headers['content-language'])).toEqual(['es, ca']);
  });
});
