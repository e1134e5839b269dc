/**
 * Locale names and the fallback chain. Tags are BCP 47 (`ca`, `ca-ES`, `pt-BR`), compared
 * case-insensitively and written in their canonical case (`Intl.getCanonicalLocales`).
 */
import { InvalidMessageError } from '../errors.js';

/** `ca_es` or `CA-es` → `ca-ES`; anything `Intl` cannot read is an error naming the value. */
export function canonicalLocale(locale: string, where = 'locale'): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(locale.replace(/_/g, '-'));
    if (canonical) return canonical;
  } catch {
    // falls through to the error below
  }
  throw new InvalidMessageError(`${where} "${locale}" is not a BCP 47 language tag: use one like "ca", "ca-ES" or "ar".`);
}

/**
 * `ca-ES-valencia` → `ca-ES-valencia`, `ca-ES`, `ca`, then the default: the order catalogs
 * are searched in, most specific first, each once.
 */
export function fallbackChain(locale: string, defaultLocale: string): string[] {
  const chain: string[] = [];
  const parts = locale.split('-');
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  if (!chain.includes(defaultLocale)) chain.push(defaultLocale);
  return chain;
}

const RTL_LANGUAGES = new Set(['ar', 'he', 'iw', 'fa', 'ur', 'ps', 'yi', 'dv', 'ckb', 'sd', 'ug', 'syr']);
const RTL_SCRIPTS = new Set(['Arab', 'Hebr', 'Thaa', 'Syrc', 'Nkoo', 'Adlm', 'Rohg']);

/** `rtl` for Arabic, Hebrew, Persian, Urdu… (and any tag written in their scripts), else `ltr`. */
export function textDirection(locale: string): 'ltr' | 'rtl' {
  const tag = new Intl.Locale(locale);
  // V8 has `textInfo` (a getter); the proposal's final name is getTextInfo().
  const info = (tag as { getTextInfo?: () => { direction?: string }; textInfo?: { direction?: string } }).getTextInfo?.() ??
    (tag as { textInfo?: { direction?: string } }).textInfo;
  if (info?.direction === 'rtl' || info?.direction === 'ltr') return info.direction;
  if (tag.script) return RTL_SCRIPTS.has(tag.script) ? 'rtl' : 'ltr';
  return RTL_LANGUAGES.has(tag.language) ? 'rtl' : 'ltr';
}

/** A `Content-Language` value set by hand: comma-separated language tags (RFC 3282), each one `Intl` reads. */
export function assertContentLanguage(value: unknown): void {
  const tags = String(value).split(',').map((t) => t.trim());
  for (const tag of tags) {
    if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) {
      throw new InvalidMessageError(`Header "Content-Language" holds "${tag}", which is not a language tag: use tags like "ca" or "es, ca", comma-separated.`);
    }
    canonicalLocale(tag, 'Header "Content-Language"');
  }
}
