import type { Check, Problem } from '../check/check.js';
import type { PreviewableView } from '../preview/templates.js';
import { loadMessageFormat, type Catalogs } from './catalogs.js';
import { icuError, type MessageFormatClass, type Messages } from './translator.js';

interface Element {
  type: number;
  value?: unknown;
  options?: Record<string, { value: Element[] }>;
  children?: Element[];
}

/** ICU argument names a message uses (`{name}`, `{n, plural, …}`, nested ones too) and its plural/select options. */
function argumentsOf(elements: Element[], into = new Set<string>(), plurals: { name: string; options: string[] }[] = []) {
  for (const element of elements) {
    // 1 argument, 2 number, 3 date, 4 time, 5 select, 6 plural (icu-messageformat-parser's TYPE)
    if (element.type >= 1 && element.type <= 6 && typeof element.value === 'string') into.add(element.value);
    if (element.type === 6 && element.options) plurals.push({ name: String(element.value), options: Object.keys(element.options) });
    for (const option of Object.values(element.options ?? {})) argumentsOf(option.value, into, plurals);
    if (element.children) argumentsOf(element.children, into, plurals);
  }
  return { args: into, plurals };
}

type Parsed = { args: Set<string>; plurals: { name: string; options: string[] }[] } | Error;

function parse(MessageFormat: MessageFormatClass, message: string, locale: string): Parsed {
  try {
    return argumentsOf(new MessageFormat(message, locale).getAst() as Element[]);
  } catch (error) {
    return error as Error;
  }
}

/** The folder's catalogs compared with the default one: missing, broken and stray strings. */
function compareCatalogs(MessageFormat: MessageFormatClass, i18n: Catalogs): Problem[] {
  const problems: Problem[] = [];
  const base = i18n.catalog(i18n.defaultLocale)!;
  const baseParsed = new Map<string, Parsed>();
  for (const [key, message] of Object.entries(base.messages)) {
    const parsed = parse(MessageFormat, message, base.locale);
    baseParsed.set(key, parsed);
    if (parsed instanceof Error) problems.push({ severity: 'error', where: `${base.file} "${key}"`, message: `not a valid ICU message: ${icuError(parsed)}` });
  }
  for (const locale of i18n.locales()) {
    if (locale === i18n.defaultLocale) continue;
    const catalog = i18n.catalog(locale)!;
    // A regional catalog (ca-ES) only overrides its language's (ca): it need not be complete.
    const complete = !locale.includes('-') || !i18n.locales().includes(locale.split('-')[0]!);
    const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories as string[];
    for (const key of Object.keys(base.messages)) {
      if (complete && typeof catalog.messages[key] !== 'string') {
        problems.push({ severity: 'error', where: `${catalog.file} "${key}"`, message: `missing (${base.file} has it): it would be sent in ${base.locale}` });
      }
    }
    for (const [key, message] of Object.entries(catalog.messages)) {
      const where = `${catalog.file} "${key}"`;
      const original = baseParsed.get(key);
      if (!original) {
        problems.push({ severity: 'warning', where, message: `not in ${base.file}: no email uses it (a renamed or removed key?)` });
        continue;
      }
      const parsed = parse(MessageFormat, message, locale);
      if (parsed instanceof Error) {
        problems.push({ severity: 'error', where, message: `not a valid ICU message: ${icuError(parsed)}` });
        continue;
      }
      if (original instanceof Error) continue;
      const unknown = [...parsed.args].filter((a) => !original.args.has(a));
      if (unknown.length) {
        problems.push({ severity: 'error', where, message: `uses {${unknown.join('}, {')}}, which ${base.file} does not pass: use ${original.args.size ? `{${[...original.args].join('}, {')}}` : 'no arguments'}` });
      }
      for (const plural of parsed.plurals) {
        const lacking = needed.filter((c) => !plural.options.includes(c) && c !== 'other');
        if (lacking.length && !plural.options.some((o) => o.startsWith('='))) {
          problems.push({ severity: 'warning', where, message: `{${plural.name}, plural} has no ${lacking.join(', ')} form${lacking.length > 1 ? 's' : ''}, which ${locale} uses (“other” is shown instead)` });
        }
      }
    }
  }
  return problems;
}

/**
 * Translations: every catalog complete and valid next to the default one, and every
 * registered view rendered in every locale without a missing string or an error.
 */
export const translationsCheck: Check = {
  name: 'translations',
  async run({ catalog }) {
    const problems: Problem[] = [];
    if (catalog.viewsError) return [{ severity: 'error', where: catalog.viewsFile ?? catalog.dir, message: `could not be loaded: ${catalog.viewsError.message}` }];
    // One entry per folder (a view may make its own defineCatalogs), or per module catalogs object.
    const seen = new Map<unknown, Catalogs>();
    const localized: { name: string; view: PreviewableView; i18n: Catalogs }[] = [];
    for (const entry of catalog.views) {
      if (entry.error) continue; // the view's own error is not a translation problem (and the preview shows it)
      const view = entry.make();
      const i18n = view.i18n as Catalogs | undefined;
      if (!i18n || typeof i18n.locales !== 'function') continue;
      const key = i18n.folder ?? i18n;
      if (!seen.has(key)) seen.set(key, i18n);
      localized.push({ name: entry.name, view, i18n });
    }
    if (seen.size === 0) return [];
    const MessageFormat = await loadMessageFormat();
    for (const i18n of seen.values()) {
      try {
        await i18n.load?.(); // catalogs given as loaders
        problems.push(...compareCatalogs(MessageFormat, i18n));
      } catch (error) {
        problems.push({ severity: 'error', where: i18n.folder ?? `the ${i18n.defaultLocale} catalogs`, message: (error as Error).message });
      }
    }
    const reported = new Set(problems.map((p) => p.where));
    for (const { name, view, i18n } of localized) {
      let locales: string[];
      try {
        locales = i18n.locales();
      } catch {
        continue; // reported above
      }
      for (const locale of locales) {
        const where = `view ${name} in ${locale}`;
        try {
          const rendered = await view.render({ locale });
          for (const missing of rendered.missingTranslations ?? []) {
            const key = missing.slice(missing.indexOf(':') + 1);
            const file = i18n.catalog(locale)?.file;
            if (file && reported.has(`${file} "${key}"`)) continue; // already named by file
            const inDefault = typeof i18n.catalog(i18n.defaultLocale)?.messages[key] === 'string';
            problems.push({ severity: 'error', where, message: inDefault ? `"${key}" is missing from ${file}` : `uses "${key}", which no catalog has (not even ${i18n.defaultLocale})` });
          }
        } catch (error) {
          const message = (error as Error)?.message ?? String(error);
          // A broken string already named by its file and key breaks the render too: say it once.
          if ([...reported].some((w) => message.includes(w.replace(/ "/, ': "')))) continue;
          problems.push({ severity: 'error', where, message: `does not render: ${message}` });
        }
      }
    }
    return problems;
  },
};

export type { Messages };
