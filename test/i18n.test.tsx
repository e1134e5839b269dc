// Locales, catalogs and the translator, without a queue (i18n-delivery.test.ts sends them).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Body, Html, Text } from '@react-email/components';
import { MailView, createRenderPool, defineCatalogs, fallbackChain, textDirection, InvalidMessageError, RenderError, type Translator } from 'mailroom';
import { WelcomeMail } from '../emails/_views/index.js';
import { markLanguage } from '../src/i18n/localize.js';

const catalogs = (files: Record<string, object>) => {
  const folder = mkdtempSync(join(tmpdir(), 'mailroom-locales-'));
  for (const [locale, messages] of Object.entries(files)) writeFileSync(join(folder, `${locale}.json`), JSON.stringify(messages));
  return defineCatalogs<{ hello: string; items: string; only_en: string }>({ folder, defaultLocale: 'en' });
};

describe('locales', () => {
  it('fall back from the most specific tag to the default', () => {
    expect(fallbackChain('ca-ES-valencia', 'en')).toEqual(['ca-ES-valencia', 'ca-ES', 'ca', 'en']);
    expect(fallbackChain('en-GB', 'en')).toEqual(['en-GB', 'en']);
  });

  it('know which are written right to left', () => {
    for (const l of ['ar', 'ar-EG', 'he', 'fa', 'ur']) expect(textDirection(l)).toBe('rtl');
    for (const l of ['ca', 'es', 'ja', 'en', 'az-Latn']) expect(textDirection(l)).toBe('ltr');
  });

  it('a view asked for a locale that is not a language tag is a clear error', async () => {
    const error = await new WelcomeMail({ name: 'A', loginUrl: 'x' }, { locale: 'not a locale!' }).render().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderError);
    expect((error as Error).cause).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toMatch(/"not a locale!" is not a BCP 47 language tag: use one like "ca"/);
  });
});

describe('catalogs', () => {
  const i18n = catalogs({
    en: { hello: 'Hello, {name}!', items: '{n, plural, one {# item} other {# items}}', only_en: 'Only English' },
    ca: { hello: 'Hola, {name}!', items: '{n, plural, one {# element} other {# elements}}' },
    'ca-ES-valencia': { hello: 'Bon dia, {name}!' },
  });

  it('read the most specific catalog, then its parents, then the default, and record what fell back', async () => {
    const t = await i18n.translator('ca-ES-valencia');
    expect(t.locale).toBe('ca-ES-valencia');
    expect(t('hello', { name: 'Ona' })).toBe('Bon dia, Ona!');
    expect(t('items', { n: 1 })).toBe('1 element');
    expect(t('only_en')).toBe('Only English');
    expect([...t.missing]).toEqual(['ca-ES-valencia:items', 'ca-ES-valencia:only_en']);
  });

  it('use the region for dates and numbers when the catalog is the language’s', async () => {
    const t = await i18n.translator('ca-ES');
    expect(t.locale).toBe('ca');
    expect(t.formatLocale).toBe('ca-ES');
    expect(t.number(1234.5)).toBe('1.234,5');
    const fr = await i18n.translator('fr-FR');
    expect([fr.locale, fr.formatLocale]).toEqual(['en', 'en']); // English text, English dates
  });

  it('name the file and key of a broken message', async () => {
    const broken = catalogs({ en: { hello: 'Hello {name', items: '', only_en: '' } });
    const t = await broken.translator('en');
    expect(() => t('hello', { name: 'x' })).toThrow(/en\.json: "hello" is not a valid ICU message/);
  });

  it('refuse a folder without the default catalog, naming the file', () => {
    expect(() => catalogs({ ca: { hello: 'Hola' } }).locales()).toThrow(/en\.json is missing: the default locale needs a catalog/);
  });
});

describe('a localized view', () => {
  const i18n = catalogs({ en: { hello: 'Hello, {name}!', items: '', only_en: '' }, ar: { hello: 'مرحبًا {name}' } });
  const Template = ({ name }: { name: string }) => {
    const t = i18n.useT();
    return (
      <Html lang="xx">
        <Body>
          <Text>{t('hello', { name })}</Text>
          <Text>{t.date(new Date('2026-03-05T12:00:00Z'))}</Text>
        </Body>
      </Html>
    );
  };
  class Hello extends MailView<{ name: string }, typeof i18n extends { useT(): Translator<infer M> } ? M : never> {
    template = Template;
    override i18n = i18n;
    subject({ name }: { name: string }, t: Translator<{ hello: string }>) {
      return t('hello', { name });
    }
    override locale({ name }: { name: string }) {
      return name === 'ليلى' ? 'ar' : undefined; // the locale(props) hook
    }
  }

  it('takes its locale from the send, else from locale(props), else the default, and says so in lang, dir and Content-Language', async () => {
    const fromHook = await new Hello({ name: 'ليلى' }).render();
    expect(fromHook.subject).toBe('مرحبًا ليلى');
    expect(fromHook.html).toMatch(/<html dir="rtl" lang="ar"/);
    expect(fromHook.html).not.toContain('lang="xx"');
    expect(fromHook.html).toMatch(/<body[^>]* dir="rtl"/);
    expect(fromHook.headers['Content-Language']).toBe('ar');
    const fromSend = await new Hello({ name: 'ليلى' }, { locale: 'en-US' }).render();
    expect(fromSend.subject).toBe('Hello, ليلى!');
    expect(fromSend.headers['Content-Language']).toBe('en');
    expect(fromSend.text).toContain('March 5, 2026');
    const byDefault = await new Hello({ name: 'Ada' }).render();
    expect(byDefault.locale).toBe('en');
  });

  it("a send's own locale wins over the view's, and stays out of the message handed to nodemailer", async () => {
    const message = await new Hello({ name: 'ليلى' }).toMessage({ to: 'a@example.com', locale: 'en' });
    expect(message.subject).toBe('Hello, ليلى!');
    expect((message.headers as Record<string, string>)['Content-Language']).toBe('en');
    expect('locale' in message).toBe(false);
  });

  it('a view without catalogs keeps its template’s HTML untouched', async () => {
    class Plain extends MailView<{ name: string }> {
      template = ({ name }: { name: string }) => <Html lang="xx"><Text>{name}</Text></Html>;
      subject() { return 's'; }
    }
    const plain = await new Plain({ name: 'a' }).render();
    expect(plain.html).toContain('lang="xx"');
    expect(plain.headers['Content-Language']).toBeUndefined();
    const told = await new Plain({ name: 'a' }, { locale: 'he' }).render();
    expect(told.html).toMatch(/<html dir="rtl" lang="he"/);
    expect(told.headers['Content-Language']).toBe('he');
  });

  it('markLanguage replaces the template’s own lang and dir', () => {
    expect(markLanguage('<!doctype html><html lang="en" dir=ltr><body class="x">', 'ar', 'rtl')).toBe('<!doctype html><html dir="rtl" lang="ar"><body dir="rtl" class="x">');
  });
});

describe('render pool', () => {
  it('renders a view in the locale the job asks for, as on the main thread', async () => {
    const pool = createRenderPool({ size: 1 });
    try {
      const module = fileURLToPath(new URL('../emails/_views/index.ts', import.meta.url));
      const props = { name: 'Ona', loginUrl: 'https://example.com' };
      const rendered = await pool.render({ module, export: 'WelcomeMail', props, options: { locale: 'ar' } });
      expect(rendered.subject).toBe('مرحبًا بك يا Ona!');
      expect(rendered).toEqual(await new WelcomeMail(props, { locale: 'ar' }).render());
    } finally {
      await pool.close();
    }
  });
});

describe('install cost', () => {
  const node = (code: string) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', 'data:text/javascript,import{register}from"node:module";register("./test/helpers/deny-import.mjs",new URL("file://"+process.cwd()+"/"))', '--input-type=module', '-e', code], {
      env: { ...process.env, DENY_IMPORT: 'intl-messageformat' },
    });
  it("`import 'mailroom'` and a view without catalogs never load intl-messageformat; a localized render does", async () => {
    const plain = `import { MailView } from './src/index.ts'; import { createElement } from 'react';
      class V extends MailView { template = () => createElement('p', null, 'hi'); subject() { return 's'; } }
      const r = await new V({}, { locale: 'ca' }).render(); console.log(r.headers['Content-Language']);`;
    expect((await node(plain)).stdout.trim()).toBe('ca');
    const localized = `import { WelcomeMail } from './emails/_views/index.ts'; await new WelcomeMail({ name: 'a', loginUrl: 'x' }, { locale: 'ca' }).render();`;
    await expect(node(localized)).rejects.toThrow(/loaded intl-messageformat/); // the control: the hook does catch it
  });
});
