import { RenderError } from '../errors.js';
import { textDirection } from './locale.js';

/** A catalog: message key → ICU MessageFormat string, as one `locales/xx.json` holds it. */
export type Messages = Record<string, string>;
/** What an ICU argument may be: text, a number (plurals, `{n, number}`), a date (`{d, date, long}`). */
export type MessageValue = string | number | bigint | boolean | Date | null | undefined;

/**
 * The typed translation function a template and a view's `subject` get: keys are the
 * default catalog's, so a misspelt key does not compile. It also carries the message's
 * locale, its text direction and `Intl` formatters in that locale.
 */
export interface Translator<M extends Messages = Messages> {
  (key: keyof M & string, values?: Record<string, MessageValue>): string;
  /** The catalog's locale the message is written in: `lang` and `Content-Language`. */
  readonly locale: string;
  /** The locale asked for when it is more specific (`ca-ES` for the `ca` catalog): dates and numbers use it. */
  readonly formatLocale: string;
  readonly dir: 'ltr' | 'rtl';
  date(value: Date | number, options?: Intl.DateTimeFormatOptions): string;
  number(value: number | bigint, options?: Intl.NumberFormatOptions): string;
  currency(value: number | bigint, currency: string, options?: Intl.NumberFormatOptions): string;
  /** `locale:key` of every string that fell back to a later catalog (or was in none) so far. */
  readonly missing: ReadonlySet<string>;
}

/**
 * What mailroom uses of intl-messageformat's class, written out so mailroom's published
 * types do not name the package: an app that does not localize need not install it.
 */
export interface MessageFormatLike {
  format(values?: Record<string, unknown>): unknown;
  getAst(): unknown[];
}
export type MessageFormatClass = new (message: string, locales?: string | string[]) => MessageFormatLike;

/** intl-messageformat's parse errors are a bare code (`MALFORMED_ARGUMENT`): add where in the message. */
export function icuError(error: unknown): string {
  const e = error as { message?: string; location?: { start?: { column?: number } } };
  const column = e.location?.start?.column;
  return column ? `${e.message} at character ${column}` : String(e.message ?? error);
}

/** One locale's catalog as the translator sees it: where it came from, for errors. */
export interface LoadedCatalog {
  locale: string;
  file: string;
  messages: Messages;
}

/**
 * A translator over `chain` (most specific catalog first, the default last). A key missing
 * from the first catalog is taken from the next one and recorded in `missing`; a key in
 * none renders as the key itself, so a send never fails on a missing string, and the
 * preview and `mailroom check` show it.
 */
export function createTranslator(MessageFormat: MessageFormatClass, chain: LoadedCatalog[], formatLocale: string): Translator {
  const first = chain[0];
  if (!first) throw new RenderError('A translator needs at least the default catalog.');
  const missing = new Set<string>();
  const compiled = new Map<string, MessageFormatLike>();
  const t = ((key: string, values?: Record<string, MessageValue>) => {
    const found = chain.find((catalog) => typeof catalog.messages[key] === 'string');
    if (found !== first) missing.add(`${first.locale}:${key}`);
    if (!found) return key;
    let format = compiled.get(`${found.locale}\0${key}`);
    if (!format) {
      try {
        format = new MessageFormat(found.messages[key]!, found === first ? formatLocale : found.locale);
      } catch (error) {
        throw new RenderError(`${found.file}: "${key}" is not a valid ICU message (${icuError(error)}): fix its braces or plural/select syntax.`, { cause: error });
      }
      compiled.set(`${found.locale}\0${key}`, format);
    }
    try {
      return String(format.format(values));
    } catch (error) {
      throw new RenderError(`${found.file}: "${key}" could not be formatted: ${(error as Error).message}`, { cause: error });
    }
  }) as Translator & { missing: Set<string> };
  const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
  const cachedFormat = <F extends Intl.NumberFormat | Intl.DateTimeFormat>(kind: string, options: object | undefined, make: () => F): F => {
    const id = `${kind}:${JSON.stringify(options ?? {})}`;
    let format = formats.get(id) as F | undefined;
    if (!format) formats.set(id, (format = make()));
    return format;
  };
  return Object.assign(t, {
    locale: first.locale,
    formatLocale,
    dir: textDirection(first.locale),
    missing,
    date: (value: Date | number, options?: Intl.DateTimeFormatOptions) =>
      cachedFormat('date', options, () => new Intl.DateTimeFormat(formatLocale, options ?? { dateStyle: 'long' })).format(value),
    number: (value: number | bigint, options?: Intl.NumberFormatOptions) =>
      cachedFormat('number', options, () => new Intl.NumberFormat(formatLocale, options)).format(value),
    currency: (value: number | bigint, currency: string, options?: Intl.NumberFormatOptions) =>
      cachedFormat(`currency:${currency}`, options, () => new Intl.NumberFormat(formatLocale, { ...options, style: 'currency', currency })).format(value),
  });
}
