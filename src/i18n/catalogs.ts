import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useContext } from 'react';
import { ConfigError } from '../errors.js';
import { loadOptional } from '../optional.js';
import { canonicalLocale, fallbackChain } from './locale.js';
import { TranslatorContext } from './context.js';
import { createTranslator, type LoadedCatalog, type MessageFormatClass, type Messages, type Translator } from './translator.js';

export interface CatalogsOptions {
  /** The folder of `<locale>.json` files (flat `"key": "ICU message"`), e.g. `new URL('../locales/', import.meta.url)`. */
  folder: string | URL;
  /** The locale every other one falls back to; its catalog is the complete one. */
  defaultLocale: string;
}

/** Where a view's strings come from: one folder of catalogs, one per locale. */
export interface Catalogs<M extends Messages = Messages> {
  readonly folder: string;
  readonly defaultLocale: string;
  /** The locales with a catalog file, the default first, then alphabetical. */
  locales(): string[];
  /** One catalog as read from its file; undefined when there is none for that locale. */
  catalog(locale: string): LoadedCatalog | undefined;
  /** The catalogs a message in `requested` reads from, most specific first, and the locale its dates and numbers use. */
  resolve(requested?: string): { chain: LoadedCatalog[]; formatLocale: string };
  /** A translator for `requested` (default: the default locale); loads the ICU formatter on first use. */
  translator(requested?: string): Promise<Translator<M>>;
  /** In a template: the translator of the message being rendered (the default locale's outside a view). */
  useT(): Translator<M>;
}

let MessageFormat: MessageFormatClass | undefined;

/** intl-messageformat, loaded on the first localized render so `import 'mailroom'` never loads it. */
export async function loadMessageFormat(): Promise<MessageFormatClass> {
  MessageFormat ??= (await loadOptional(() => import('intl-messageformat'), 'Localized email', ['intl-messageformat'])).IntlMessageFormat as unknown as MessageFormatClass;
  return MessageFormat;
}

/** The same, synchronously (Node ≥ 20.19 requires ES modules), for a template rendered outside a view. */
function requireMessageFormat(): MessageFormatClass {
  // Bundled to CommonJS (react-email's `email export`), import.meta.url is empty: resolve from the working directory.
  const from = import.meta.url || join(process.cwd(), 'package.json');
  MessageFormat ??= (createRequire(from)('intl-messageformat') as { IntlMessageFormat: MessageFormatClass }).IntlMessageFormat;
  return MessageFormat;
}

const CATALOG_FILE = /^([A-Za-z0-9_-]+)\.json$/;

/**
 * The app's catalogs. Files are read on first use and kept: the preview loads the app's
 * views afresh after a change, and with them a fresh `defineCatalogs`.
 *
 *     import type en from '../locales/en.json';
 *     export const i18n = defineCatalogs<typeof en>({ folder: new URL('../locales/', import.meta.url), defaultLocale: 'en' });
 */
export function defineCatalogs<M extends Messages = Messages>(options: CatalogsOptions): Catalogs<M> {
  const folder = options.folder instanceof URL ? fileURLToPath(options.folder) : options.folder;
  const defaultLocale = canonicalLocale(options.defaultLocale, 'defaultLocale');
  const cache = new Map<string, LoadedCatalog | undefined>();
  let files: Map<string, string> | undefined;

  const listFiles = () => {
    if (files) return files;
    if (!existsSync(folder)) throw new ConfigError(`The catalogs folder ${folder} does not exist: create it with a ${defaultLocale}.json inside.`);
    files = new Map();
    for (const name of readdirSync(folder).sort()) {
      const match = CATALOG_FILE.exec(name);
      if (match) files.set(canonicalLocale(match[1]!, `${join(folder, name)}: the file name`), join(folder, name));
    }
    if (!files.has(defaultLocale)) throw new ConfigError(`${join(folder, `${defaultLocale}.json`)} is missing: the default locale needs a catalog.`);
    return files;
  };

  const catalog = (locale: string): LoadedCatalog | undefined => {
    const key = canonicalLocale(locale);
    if (cache.has(key)) return cache.get(key);
    const file = listFiles().get(key);
    let loaded: LoadedCatalog | undefined;
    if (file) {
      const shown = relative(process.cwd(), file) || file;
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new ConfigError(`${shown} is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${shown} must hold one JSON object of "key": "message".`);
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== 'string') throw new ConfigError(`${shown}: "${k}" must be a string (an ICU message), not ${Array.isArray(v) ? 'an array' : typeof v}: catalogs are flat.`);
      }
      loaded = { locale: key, file: shown, messages: parsed as Messages };
    }
    cache.set(key, loaded);
    return loaded;
  };

  const resolve = (requested?: string) => {
    const asked = canonicalLocale(requested ?? defaultLocale);
    const chain = fallbackChain(asked, defaultLocale).map(catalog).filter((c): c is LoadedCatalog => c !== undefined);
    const first = chain[0]!;
    // ca-ES asked, ca catalog found: Spanish-Catalan dates; fr asked, en found: English ones.
    const formatLocale = asked === first.locale || asked.startsWith(`${first.locale}-`) ? asked : first.locale;
    return { chain, formatLocale };
  };

  const make = (MF: MessageFormatClass, requested?: string) => {
    const { chain, formatLocale } = resolve(requested);
    return createTranslator(MF, chain, formatLocale) as Translator<M>;
  };

  return {
    folder,
    defaultLocale,
    locales: () => {
      const all = [...listFiles().keys()];
      return [defaultLocale, ...all.filter((l) => l !== defaultLocale)];
    },
    catalog,
    resolve,
    translator: async (requested) => make(await loadMessageFormat(), requested),
    useT: () => (useContext(TranslatorContext) as Translator<M> | null) ?? make(requireMessageFormat()),
  };
}
