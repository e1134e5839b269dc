import { html } from 'hono/html';
import type { EmailPreview } from '../templates.js';
import { emailFrame, type Html } from './layout.js';
import { frameQuery, type FrameView } from '../frame-view.js';

/** The locales a page can show, which one it shows, and the one beside it (`?compare=`). */
export interface PageLocales {
  available: string[];
  current?: string;
  compare?: string;
}

/** The locale's own name in its language, for the switcher: `ca` → “català”. */
function nativeName(locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;
  } catch {
    return locale;
  }
}

/**
 * Links to this page in each locale (each its own URL, so it can be shared and reloads
 * keep it), and a second row that shows another locale side by side with this one.
 */
export function localeSwitch(path: string, locales: PageLocales, view: FrameView): Html {
  if (locales.available.length === 0) return html``;
  const current = locales.current ?? locales.available[0];
  const href = (query: Record<string, string | undefined>) => {
    const params = new URLSearchParams(Object.entries({ ...query, ...frameQuery(view) }).filter((e): e is [string, string] => e[1] !== undefined));
    return params.size ? `${path}?${params}` : path;
  };
  const link = (locale: string, query: Record<string, string | undefined>, selected: boolean) =>
    html`<a href="${href(query)}" hreflang="${locale}" lang="${locale}" aria-current="${selected ? 'true' : 'false'}" title="${locale}">${nativeName(locale)} <span class="code">${locale}</span></a>`;
  return html`<div class="toolbar locales">
<strong>Locale</strong>
<span class="switch" role="group" aria-label="Locale" id="locale-switch">${locales.available.map((l) => link(l, { locale: l, compare: locales.compare === l ? undefined : locales.compare }, l === current))}</span>
</div>
<div class="toolbar locales">
<strong>Side by side with</strong>
<span class="switch" role="group" aria-label="Compare with" id="compare-switch">${locales.available
    .filter((l) => l !== current)
    .map((l) => link(l, { locale: current, compare: l }, l === locales.compare))}${
    locales.compare ? html`<a href="${href({ locale: current })}" aria-current="false">none</a>` : ''
  }</span>
</div>`;
}

/** Strings the catalog lacks, shown from a fallback: a warning here, an error in `mailroom check`. */
export function missingWarning(preview: EmailPreview | undefined): Html {
  const missing = preview?.missingTranslations ?? [];
  if (missing.length === 0) return html``;
  const locale = missing[0]!.split(':')[0];
  return html`<div class="warning" role="status" data-missing="${missing.length}">
<strong>${missing.length} missing translation${missing.length === 1 ? '' : 's'} in ${locale}</strong>, shown from the fallback catalog
(<code>mailroom check</code> fails on these): ${missing.map((m, i) => html`${i ? ', ' : ''}<code>${m.slice(m.indexOf(':') + 1)}</code>`)}
</div>`;
}

/** Two locales of one email, each with its subject and any missing strings. */
export function sideBySide(
  left: { locale: string; frameSrc: string; preview: EmailPreview },
  right: { locale: string; frameSrc: string; preview: EmailPreview },
  view: FrameView,
): Html {
  const column = (side: typeof left, id: string) => html`<section class="side" id="${id}" data-locale="${side.locale}">
<h3 lang="${side.locale}" dir="auto"><span class="code">${side.locale}</span> ${side.preview.subject ?? ''}</h3>
${missingWarning(side.preview)}
${emailFrame(side.frameSrc, view, true)}
</section>`;
  return html`<div class="side-by-side">${column(left, 'side-a')}${column(right, 'side-b')}</div>`;
}
