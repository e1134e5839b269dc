import { createElement, type ReactElement } from 'react';
import { RenderError } from '../errors.js';
import type { Catalogs } from './catalogs.js';
import { TranslatorContext } from './context.js';
import { canonicalLocale, textDirection } from './locale.js';
import type { Messages, Translator } from './translator.js';

/** What a view's render needs to put one message in one language. */
export interface Localization {
  t: Translator;
  /** Unset for a view with neither catalogs nor a locale: its HTML is left as the template wrote it. */
  locale?: string;
  dir?: 'ltr' | 'rtl';
}

/** Stands in for `t` in a view without catalogs that asks for one anyway. */
function noCatalogs(locale: string | undefined): Translator {
  const t = ((key: string) => {
    throw new RenderError(`t("${key}") was called, but this view has no catalogs: set \`i18n = defineCatalogs({ folder, defaultLocale })\` on it (or its base class).`);
  }) as unknown as Translator;
  const formatLocale = locale ?? 'en';
  return Object.assign(t, {
    locale: formatLocale,
    formatLocale,
    dir: textDirection(formatLocale),
    missing: new Set<string>(),
    date: (v: Date | number, o?: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(formatLocale, o ?? { dateStyle: 'long' }).format(v),
    number: (v: number | bigint, o?: Intl.NumberFormatOptions) => new Intl.NumberFormat(formatLocale, o).format(v),
    currency: (v: number | bigint, c: string, o?: Intl.NumberFormatOptions) => new Intl.NumberFormat(formatLocale, { ...o, style: 'currency', currency: c }).format(v),
  });
}

/**
 * The locale a message is written in: the send's (`new WelcomeMail(props, { locale })`),
 * else the view's `locale(props)` hook, else the catalogs' default; then the most specific
 * catalog on its fallback chain (`ca-ES` → `ca` → default).
 */
export async function localize(i18n: Catalogs<Messages> | undefined, requested: string | undefined): Promise<Localization> {
  if (!i18n) {
    if (requested === undefined) return { t: noCatalogs(undefined) };
    const locale = canonicalLocale(requested);
    return { t: noCatalogs(locale), locale, dir: textDirection(locale) };
  }
  const t = await i18n.translator(requested);
  return { t, locale: t.locale, dir: t.dir };
}

/** The template inside the translator's context, so its `useT()` reads this message's locale. */
export function withTranslator(element: ReactElement, t: Translator | undefined): ReactElement {
  return t ? createElement(TranslatorContext.Provider, { value: t }, element) : element;
}

const attribute = (name: string) => new RegExp(`\\s${name}\\s*=\\s*("[^"]*"|'[^']*'|[^\\s>]+)`, 'i');

/** Sets one attribute on the first `<tag …>`, replacing the template's own. */
function setAttribute(html: string, tag: string, name: string, value: string): string {
  return html.replace(new RegExp(`<${tag}(?=[\\s>/])[^>]*>`, 'i'), (open) => {
    const without = open.replace(attribute(name), '');
    return without.replace(new RegExp(`^<${tag}`, 'i'), `<${tag} ${name}="${value}"`);
  });
}

/**
 * `lang` and `dir` on `<html>` whatever the template wrote there, and `dir` on `<body>`
 * too: some webmail clients drop the `<html>` element's attributes.
 */
export function markLanguage(html: string, locale: string, dir: 'ltr' | 'rtl'): string {
  let marked = setAttribute(setAttribute(html, 'html', 'lang', locale), 'html', 'dir', dir);
  if (dir === 'rtl') marked = setAttribute(marked, 'body', 'dir', dir);
  return marked;
}
