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

/** One locale's strings: the JSON object, its module (`{ default }`), or a loader of either (`() => import('./ca.json')`). */
export type CatalogSource = Messages | { default: Messages } | (() => Messages | { default: Messages } | Promise<Messages | { default: Messages }>);

export type CatalogsOptions = FolderCatalogsOptions | ModuleCatalogsOptions;

/** The catalogs as files in a folder, read at run time. */
export interface FolderCatalogsOptions {
  /** The folder of `<locale>.json` files (flat `"key": "ICU message"`), e.g. `new URL('../locales/', import.meta.url)`. */
  folder: string | URL;
  /** The locale every other one falls back to; its catalog is the complete one. */
  defaultLocale: string;
}

/**
 * The catalogs as modules, by locale: static imports or loaders. Bundlers (react-email's
 * `email export`, a serverless build) bundle them like any import, with no files to find
 * at run time and no `import.meta.url`. Loaders load on the first translation (`load()`).
 */
export interface ModuleCatalogsOptions {
  catalogs: Record<string, CatalogSource>;
  defaultLocale: string;
  /**
   * Where the JSON files are, for the tools (optional): `mailroom check` names files in it,
   * `mailroom new` adds strings to its default catalog (default: beside the module that
   * exports the catalogs).
   */
  folder?: string | URL;
}

/** Where a view's strings come from: one folder of catalogs, one per locale. */
export interface Catalogs<M extends Messages = Messages> {
  /** The catalogs' folder; undefined for module catalogs given without one. */
  readonly folder: string | undefined;
  readonly defaultLocale: string;
  /** The locales with a catalog file, the default first, then alphabetical. */
  locales(): string[];
  /** Loads every catalog given as a loader (translator() and a view's render do it themselves). */
  load(): Promise<void>;
  /** One catalog as read from its file or module; undefined when there is none for that locale. */
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

/** A catalog's strings, checked: one flat object of ICU message strings. */
function checkedMessages(parsed: unknown, shown: string): Messages {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${shown} must hold one JSON object of "key": "message".`);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new ConfigError(`${shown}: "${k}" must be a string (an ICU message), not ${Array.isArray(v) ? 'an array' : typeof v}: catalogs are flat.`);
  }
  return parsed as Messages;
}

const shownPath = (file: string) => relative(process.cwd(), file) || file;
/** A JSON module's strings: `import en from './en.json'` gives them, `import('./en.json')` a module with them as `default`. */
const unwrap = (value: Messages | { default: Messages }): unknown => {
  const inner = (value as { default?: unknown }).default;
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : value;
};

/** Reads one locale's catalog; undefined when it has none. */
type Source = (locale: string) => LoadedCatalog | undefined;

/** `<locale>.json` files of a folder, listed on first use. */
function folderSource(folder: string, defaultLocale: string): { locales: () => string[]; read: Source } {
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
  return {
    locales: () => [...listFiles().keys()],
    read(locale) {
      const file = listFiles().get(locale);
      if (!file) return undefined;
      const shown = shownPath(file);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new ConfigError(`${shown} is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
      return { locale, file: shown, messages: checkedMessages(parsed, shown) };
    },
  };
}

/** Catalogs given as modules or loaders, by locale. */
function moduleSource(given: Record<string, CatalogSource>, defaultLocale: string, folder: string | undefined) {
  if (typeof given !== 'object' || given === null) throw new ConfigError('defineCatalogs({ catalogs }): catalogs maps each locale to its JSON (`{ en, ca: () => import(\'./ca.json\') }`).');
  const sources = new Map<string, CatalogSource>();
  for (const [tag, source] of Object.entries(given)) {
    if (typeof source !== 'function' && (typeof source !== 'object' || source === null)) {
      throw new ConfigError(`defineCatalogs({ catalogs }): "${tag}" is ${source === null ? 'null' : typeof source}, not its JSON or a loader of it (a missing import?).`);
    }
    sources.set(canonicalLocale(tag, `defineCatalogs({ catalogs }): the key "${tag}"`), source);
  }
  if (!sources.has(defaultLocale)) throw new ConfigError(`defineCatalogs({ catalogs }) has no "${defaultLocale}" catalog: the default locale needs one.`);
  const label = (locale: string) => (folder ? shownPath(join(folder, `${locale}.json`)) : `the ${locale} catalog`);
  const loaded = new Map<string, Messages | { default: Messages }>();
  const sorted = [...sources.keys()].sort();
  return {
    locales: () => sorted,
    async load() {
      await Promise.all(
        [...sources].map(async ([locale, source]) => {
          if (typeof source !== 'function' || loaded.has(locale)) return;
          try {
            loaded.set(locale, await source());
          } catch (error) {
            throw new ConfigError(`${label(locale)} could not be loaded: ${(error as Error).message}`, { cause: error });
          }
        }),
      );
    },
    read(locale: string): LoadedCatalog | undefined {
      const source = sources.get(locale);
      if (source === undefined) return undefined;
      const value = typeof source === 'function' ? loaded.get(locale) : source;
      if (value === undefined) {
        throw new ConfigError(`${label(locale)} is given as a loader and not loaded yet: \`await i18n.load()\` first, or import it statically.`);
      }
      return { locale, file: label(locale), messages: checkedMessages(unwrap(value), label(locale)) };
    },
  };
}

/**
 * The app's catalogs, from a folder of `<locale>.json` files or from modules. Read on first
 * use and kept: the preview loads the app's views afresh after a change, and with them a
 * fresh `defineCatalogs`.
 *
 *     import en from './en.json' with { type: 'json' };
 *     export const i18n = defineCatalogs<typeof en>({ defaultLocale: 'en', catalogs: { en, ca: () => import('./ca.json', { with: { type: 'json' } }) } });
 *     // or: defineCatalogs<typeof en>({ folder: new URL('./', import.meta.url), defaultLocale: 'en' })
 */
export function defineCatalogs<M extends Messages = Messages>(options: CatalogsOptions): Catalogs<M> {
  const folder = options.folder === undefined ? undefined : options.folder instanceof URL ? fileURLToPath(options.folder) : options.folder;
  const defaultLocale = canonicalLocale(options.defaultLocale, 'defaultLocale');
  const source =
    'catalogs' in options && options.catalogs !== undefined
      ? moduleSource(options.catalogs, defaultLocale, folder)
      : folder !== undefined
        ? { ...folderSource(folder, defaultLocale), load: async () => {} }
        : undefined;
  if (!source) throw new ConfigError('defineCatalogs needs its catalogs: `{ folder, defaultLocale }` (a folder of <locale>.json files) or `{ catalogs: { en, ca }, defaultLocale }` (their modules).');
  const cache = new Map<string, LoadedCatalog | undefined>();

  const catalog = (locale: string): LoadedCatalog | undefined => {
    const key = canonicalLocale(locale);
    if (cache.has(key)) return cache.get(key);
    const loaded = source.read(key);
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
      const all = source.locales();
      return [defaultLocale, ...all.filter((l) => l !== defaultLocale)];
    },
    load: () => source.load(),
    catalog,
    resolve,
    translator: async (requested) => {
      const [MF] = await Promise.all([loadMessageFormat(), source.load()]);
      return make(MF, requested);
    },
    useT: () => (useContext(TranslatorContext) as Translator<M> | null) ?? make(requireMessageFormat()),
  };
}

