// Catalogs given as modules (static JSON imports, or loaders like `() => import('./ca.json')`)
// instead of a folder read at run time: what bundlers and react-email's `email export` need.
// emails-export.test.ts exports an app that uses them; i18n-cli.test.ts runs check and new on one.
import { describe, expect, it } from 'vitest';
import { render } from '@react-email/render';
import { Html, Text } from '@react-email/components';
import { ConfigError, MailView, defineCatalogs, type Translator } from 'mailroom';
import en from '../emails/_locales/en.json' with { type: 'json' };
import { WelcomeMail } from '../emails/_views/index.js';

const strings = { hello: 'Hello, {name}!', items: '{n, plural, one {# item} other {# items}}' };
type Strings = typeof strings;
let caLoads = 0;
const i18n = defineCatalogs<Strings>({
  defaultLocale: 'en',
  catalogs: {
    en: strings,
    es: { default: { hello: '¡Hola, {name}!', items: '{n, plural, one {# artículo} other {# artículos}}' } }, // `import * as es`
    ca: async () => {
      caLoads++;
      return { default: { hello: 'Hola, {name}!' } }; // what `import('./ca.json')` resolves to
    },
  },
});

function Hello({ name = 'Ona', n = 2 }: { name?: string; n?: number }) {
  const t = i18n.useT();
  return (
    <Html lang={t.locale}>
      <Text>{t('hello', { name })}</Text>
      <Text>{t('items', { n })}</Text>
    </Html>
  );
}
class HelloMail extends MailView<{ name: string; n: number }, Strings> {
  readonly template = Hello;
  override from = 'a@example.com';
  override i18n = i18n;
  subject({ name }: { name: string }, t: Translator<Strings>) {
    return t('hello', { name });
  }
}

describe('catalogs as modules', () => {
  it('render each locale from its module, loading a loader once, along the fallback chain', async () => {
    expect(i18n.locales()).toEqual(['en', 'ca', 'es']);
    expect(i18n.folder).toBeUndefined();
    const ca = await new HelloMail({ name: 'Núria', n: 3 }, { locale: 'ca-ES' }).render();
    expect(ca.subject).toBe('Hola, Núria!');
    expect(ca.text).toContain('3 items'); // not in ca: English
    expect(ca.missingTranslations).toEqual(['ca:items']);
    expect(ca.headers['Content-Language']).toBe('ca');
    const es = await new HelloMail({ name: 'Núria', n: 1 }, { locale: 'es' }).render();
    expect(es.text).toContain('1 artículo');
    expect(es.missingTranslations).toEqual([]);
    expect((await new HelloMail({ name: 'Ana', n: 1 }, { locale: 'fr' }).render()).subject).toBe('Hello, Ana!');
    await new HelloMail({ name: 'Bo', n: 1 }, { locale: 'ca' }).render();
    expect(caLoads).toBe(1);
  });

  it('a template rendered alone (as `email export` does) reads the default catalog synchronously', async () => {
    const html = await render(<Hello />);
    expect(html).toContain('Hello, Ona!');
    expect(html).toContain('2 items');
  });

  it('a loader not yet loaded is a clear error when read synchronously; load() loads it', async () => {
    let loaded = false;
    const lazy = defineCatalogs({ defaultLocale: 'en', catalogs: { en: strings, ca: () => ((loaded = true), { hello: 'Hola' }) } });
    expect(() => lazy.catalog('ca')).toThrow('the ca catalog is given as a loader and not loaded yet: `await i18n.load()` first, or import it statically.');
    expect(loaded).toBe(false);
    const fresh = defineCatalogs({ defaultLocale: 'en', catalogs: { en: strings, ca: () => ({ hello: 'Hola' }) } });
    await fresh.load();
    expect(fresh.catalog('ca')?.messages).toEqual({ hello: 'Hola' });
  });

  it('refuse catalogs without the default, with a nested or non-string value, or a loader that fails, naming the locale', async () => {
    expect(() => defineCatalogs({ defaultLocale: 'en', catalogs: { ca: {} } })).toThrow(ConfigError);
    expect(() => defineCatalogs({ defaultLocale: 'en', catalogs: { ca: {} } })).toThrow('defineCatalogs({ catalogs }) has no "en" catalog: the default locale needs one.');
    expect(() => defineCatalogs({ defaultLocale: 'en', catalogs: { en: strings, 'not a tag!': {} } })).toThrow(/the key "not a tag!"/);
    expect(() => defineCatalogs({ defaultLocale: 'en', catalogs: { en: strings, ca: undefined as never } })).toThrow('defineCatalogs({ catalogs }): "ca" is undefined, not its JSON or a loader of it (a missing import?).');
    const nested = defineCatalogs({ defaultLocale: 'en', catalogs: { en: { a: { b: 'c' } } as never } });
    expect(() => nested.catalog('en')).toThrow('the en catalog: "a" must be a string (an ICU message), not object: catalogs are flat.');
    const failing = defineCatalogs({ defaultLocale: 'en', catalogs: { en: strings, ca: () => Promise.reject(new Error('no such file')) } });
    await expect(failing.translator('ca')).rejects.toThrow('the ca catalog could not be loaded: no such file');
    expect(() => defineCatalogs({ defaultLocale: 'en' } as never)).toThrow(/defineCatalogs needs its catalogs/);
  });

  it('the example app’s JSON, imported as modules, renders exactly as from its folder', async () => {
    const modules = defineCatalogs<typeof en>({
      defaultLocale: 'en',
      catalogs: {
        en,
        ca: () => import('../emails/_locales/ca.json', { with: { type: 'json' } }),
        ar: () => import('../emails/_locales/ar.json', { with: { type: 'json' } }),
      },
    });
    class ModuleWelcome extends WelcomeMail {
      override i18n = modules;
    }
    const props = { name: 'Núria', loginUrl: 'https://example.com/login' };
    for (const locale of ['en', 'ca', 'ar']) {
      const fromModules = await new ModuleWelcome(props, { locale }).render();
      const fromFolder = await new WelcomeMail(props, { locale }).render();
      expect(fromModules.subject).toBe(fromFolder.subject);
      expect(fromModules.html).toBe(fromFolder.html);
      expect(fromModules.text).toBe(fromFolder.text);
    }
    expect((await new ModuleWelcome(props, { locale: 'es' }).render()).subject).toBe('Welcome, Núria!'); // es not given here
  });
});
