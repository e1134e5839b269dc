/**
 * CSS that Gmail ignores (it drops the declaration, or the whole <style> rule), with the other
 * major clients that also lack it. A short list on purpose: the properties an email is likely to
 * use and lose. Taken from caniemail.com's data (its feature pages, `data/caniemail.json` of the
 * `caniemail` npm package, 1.0.5, data of 2025-09-09), latest test of each client: Gmail
 * (desktop webmail), Outlook.com, Yahoo (desktop webmail), Outlook for Windows (Word engine).
 * Not the package itself: it installs 24 MB in 46 packages (a Prettier plugin among its
 * runtime dependencies), too much for one lookup table. Only entries Gmail lacks are here:
 * Outlook for Windows lacks nearly everything, so listing what only it lacks would flag every
 * email. Refresh by re-reading those pages; docs/checks.md#css-support says the same.
 */
export interface CssFeature {
  /** The property as written in a declaration. */
  property: string;
  /** When only one value is unsupported (`display: grid`): the value, lower case. */
  value?: string;
  /** caniemail.com's page: `https://www.caniemail.com/features/<slug>/`. */
  slug: string;
  /** Major clients that ignore it (Gmail always). */
  clients: readonly string[];
}

const ALL = ['Gmail', 'Outlook.com', 'Yahoo', 'Outlook for Windows'] as const;
const NOT_OUTLOOK_COM = ['Gmail', 'Yahoo', 'Outlook for Windows'] as const;
const GMAIL_OUTLOOK = ['Gmail', 'Outlook for Windows'] as const;

const f = (slug: string, clients: readonly string[], ...properties: string[]): CssFeature[] =>
  properties.map((p) => {
    const [property, value] = p.split(':').map((s) => s.trim());
    return { property: property!, ...(value ? { value } : {}), slug, clients };
  });

export const CSS_UNSUPPORTED: readonly CssFeature[] = [
  ...f('css-accent-color', ALL, 'accent-color'),
  ...f('css-align-items', NOT_OUTLOOK_COM, 'align-items'),
  ...f('css-animation', ALL, 'animation', 'animation-name'),
  ...f('css-aspect-ratio', ALL, 'aspect-ratio'),
  ...f('css-backdrop-filter', ALL, 'backdrop-filter'),
  ...f('css-border-image', ALL, 'border-image'),
  ...f('css-box-shadow', NOT_OUTLOOK_COM, 'box-shadow'),
  ...f('css-clip-path', ALL, 'clip-path'),
  ...f('css-color-scheme', ALL, 'color-scheme'),
  ...f('css-display-grid', NOT_OUTLOOK_COM, 'display:grid', 'display:inline-grid'),
  ...f('css-filter', ALL, 'filter'),
  ...f('css-flex-direction', NOT_OUTLOOK_COM, 'flex-direction:column'),
  ...f('css-flex-wrap', NOT_OUTLOOK_COM, 'flex-wrap:wrap'),
  ...f('css-grid-template', ALL, 'grid-template', 'grid-template-areas', 'grid-template-columns', 'grid-template-rows'),
  ...f('css-hyphens', ALL, 'hyphens'),
  ...f('css-inset', ALL, 'inset', 'inset-block', 'inset-inline'),
  ...f('css-justify-content', NOT_OUTLOOK_COM, 'justify-content'),
  ...f('css-left-right-top-bottom', NOT_OUTLOOK_COM, 'left', 'right', 'top', 'bottom'),
  ...f('css-margin-inline-block', ALL, 'margin-inline', 'margin-block'),
  ...f('css-mask-image', ALL, 'mask-image'),
  ...f('css-outline-offset', ALL, 'outline-offset'),
  ...f('css-overflow-wrap', ALL, 'overflow-wrap'),
  ...f('css-padding-inline-block', ALL, 'padding-inline', 'padding-block'),
  ...f('css-position', GMAIL_OUTLOOK, 'position'),
  ...f('css-text-shadow', ['Gmail', 'Outlook.com', 'Outlook for Windows'], 'text-shadow'),
  ...f('css-text-underline-offset', ALL, 'text-underline-offset'),
  ...f('css-transform', ALL, 'transform'),
  ...f('css-transition', ['Gmail', 'Outlook.com', 'Outlook for Windows'], 'transition'),
  ...f('css-user-select', ALL, 'user-select'),
  ...f('css-visibility', GMAIL_OUTLOOK, 'visibility'),
  ...f('css-z-index', GMAIL_OUTLOOK, 'z-index'),
];

/** caniemail.com's page for a feature. */
export const caniemailUrl = (slug: string) => `https://www.caniemail.com/features/${slug}/`;

/**
 * Every declaration in the HTML's `style` attributes and `<style>` blocks that a listed client
 * ignores, once per feature. `-webkit-` and other prefixes count as the property.
 */
export function unsupportedCss(html: string): CssFeature[] {
  const css: string[] = [];
  for (const [, block] of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) css.push(block!.replace(/\/\*[\s\S]*?\*\//g, ''));
  for (const [, , double, single] of html.matchAll(/\sstyle\s*=\s*("([^"]*)"|'([^']*)')/gi)) {
    const style = double ?? single;
    if (style) css.push(style.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'"));
  }
  const found = new Map<string, CssFeature>();
  for (const text of css) {
    // `name: value` ending at `;` or `}` (or the attribute's end); a selector's `a:hover {` never ends so.
    for (const [, name, value] of text.matchAll(/(?:^|[;{\s])(-?[a-z][a-z-]*)\s*:\s*([^;{}]*)(?=;|}|$)/gi)) {
      const property = name!.toLowerCase().replace(/^-(webkit|moz|ms|o)-/, '');
      const v = value!.trim().toLowerCase().replace(/\s*!important$/, '');
      const feature = CSS_UNSUPPORTED.find((c) => c.property === property && (c.value === undefined || c.value === v));
      if (feature && !found.has(feature.slug)) found.set(feature.slug, feature);
    }
  }
  return [...found.values()];
}
