import type { Catalogs } from './catalogs.js';
import { markLanguage } from './localize.js';
import type { Translator } from './translator.js';

/**
 * What the preview needs of a view's catalogs. Structural, like PreviewableView: the app's
 * views are loaded afresh, so their catalogs come from a fresh copy of mailroom.
 */
export type PreviewCatalogs = Pick<Catalogs, 'defaultLocale' | 'locales' | 'translator'>;

const isCatalogs = (value: unknown): value is PreviewCatalogs =>
  typeof value === 'object' && value !== null && typeof (value as PreviewCatalogs).locales === 'function' && typeof (value as PreviewCatalogs).translator === 'function';

/** The catalogs of the first registered view that has some: a template without a view is shown in them. */
export function catalogsOf(views: { make: () => { i18n?: unknown } }[]): PreviewCatalogs | undefined {
  for (const entry of views) {
    try {
      const i18n = entry.make().i18n;
      if (isCatalogs(i18n)) return i18n;
    } catch {
      // a view that does not build shows its own error on its page
    }
  }
  return undefined;
}

/** The locales a page offers (default first), or none when neither the view nor the app is localized. */
export function previewLocales(i18n: unknown): string[] {
  if (!isCatalogs(i18n)) return [];
  try {
    return i18n.locales();
  } catch {
    return []; // a broken catalogs folder: the render shows the error
  }
}

/** A template rendered without a view, in `locale`: its translator and the lang/dir to stamp. */
export async function localizeTemplate(i18n: PreviewCatalogs | undefined, locale: string | undefined): Promise<{ t: Translator; finish: (html: string) => string } | undefined> {
  if (!i18n) return undefined;
  const t = (await i18n.translator(locale)) as Translator;
  return { t, finish: (html) => markLanguage(html, t.locale, t.dir) };
}

/** The catalogs a template's or view's page is shown in: its view's, else (a template alone) the app's. */
export function pageCatalogs(
  entry: { make?: () => { i18n?: unknown }; view?: { make: () => { i18n?: unknown } } },
  views: { make: () => { i18n?: unknown } }[],
): PreviewCatalogs | undefined {
  const owner = entry.make ? entry : entry.view;
  if (owner?.make) return catalogsOf([{ make: owner.make }]);
  return catalogsOf(views);
}
