import { relative } from 'node:path';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { previewTemplate, previewView, type EmailPreview } from '../templates.js';
import { stateCounts } from '../../store/status.js';
import { oneLine, type Html } from '../ui/layout.js';
import { homePage, templateUrl, viewUrl } from '../ui/home.js';
import { emailPage } from '../ui/email-page.js';
import { attachmentIndex, chrome, download, emailHtml, notFound, width, type AppContext } from './context.js';
import { pageCatalogs, previewLocales } from '../../i18n/preview-locales.js';
import type { Context } from 'hono';

/** The home page and the template and view previews (`/templates/…`, `/views/…`). */
export function registerTemplateRoutes(app: Hono, ctx: AppContext): void {
  // Per app, not per module: each server has its own catalog and generations.
  const previews = new Map<string, Promise<EmailPreview>>();
  const catalog = async () => (ctx.catalog ? ctx.catalog.load() : null);

  /** One render per email per generation: the page, its iframe and its downloads show the same render. */
  const cached = (key: string, make: () => Promise<EmailPreview>) => {
    const full = `${ctx.live.generation}:${key}`;
    let preview = previews.get(full);
    if (!preview) {
      if (previews.size > 200) previews.clear();
      preview = make();
      previews.set(full, preview);
    }
    return preview;
  };

  /**
   * Finds a template or view by the name in the URL (only ever a key into the catalog, never
   * a path), with the locales it can be shown in; `preview(locale)` renders it in one of them.
   */
  async function find(kind: 'template' | 'view', name: string) {
    const loaded = await catalog();
    if (!loaded) return null;
    if (kind === 'template') {
      const entry = loaded.templates.find((t) => t.name === name);
      if (!entry) return null;
      const i18n = pageCatalogs(entry, loaded.views);
      const preview = (locale?: string) => cached(`t:${name}:${locale ?? ''}`, () => previewTemplate(entry, { locale, i18n }));
      return { kind, loaded, entry, locales: previewLocales(i18n), preview };
    }
    const entry = loaded.views.find((v) => v.name === name);
    if (!entry) return null;
    const preview = (locale?: string) => cached(`v:${name}:${locale ?? ''}`, () => (entry.error ? Promise.reject(entry.error) : previewView(entry.make(), { locale })));
    return { kind, loaded, entry, locales: previewLocales(pageCatalogs(entry, loaded.views)), preview };
  }

  /** `?locale=` (and `?compare=`) when the page has that locale; null when it names one it lacks. */
  const localeOf = (c: Context, locales: string[], param = 'locale'): string | undefined | null => {
    const asked = c.req.query(param);
    if (asked === undefined || asked === '') return undefined;
    return locales.includes(asked) ? asked : null;
  };

  app.get('/', async (c) => {
    const counts = ctx.db ? await stateCounts(ctx.db) : null;
    return c.html(homePage(chrome(c, ctx), await catalog(), counts, ctx.live.generation));
  });

  for (const kind of ['template', 'view'] as const) {
    const base = kind === 'template' ? '/templates' : '/views'; // routes are matched under the mount path
    const url = kind === 'template' ? templateUrl : viewUrl;

    app.get(`${base}/:name`, async (c) => {
      const name = c.req.param('name');
      const found = await find(kind, name);
      if (!found) return notFound(c, ctx, `No ${kind} named “${name}”`);
      const locale = localeOf(c, found.locales);
      const compare = localeOf(c, found.locales, 'compare');
      if (locale === null || compare === null) {
        return notFound(c, ctx, `No locale “${c.req.query(locale === null ? 'locale' : 'compare')}” for ${kind} “${name}”: it has ${found.locales.join(', ') || 'none'}`);
      }
      const inLocale = (path: string, l = locale) => (l ? `${path}?locale=${encodeURIComponent(l)}` : path);
      const file = (path: string) => relative(process.cwd(), path) || path;
      let context: Html;
      if (found.kind === 'template') {
        const t = found.entry;
        context = html`Template ${file(t.file)} · ${
          t.view ? html`rendered by mail view <a href="${viewUrl(t.view.name)}">${t.view.className ?? t.view.name}</a>` : 'no mail view renders it'
        }${t.hasPreviewProps ? '' : ' · no PreviewProps: rendered with {}'}`;
      } else {
        const v = found.entry;
        context = html`Mail view ${v.className ?? ''}${v.template ? html` · template <a href="${templateUrl(v.template.name)}">${v.template.name}</a>` : ''}${
          found.loaded.viewsFile ? ` · registered in ${file(found.loaded.viewsFile)}` : ''
        }`;
      }
      const options = {
        kind,
        name,
        path: url(name),
        chrome: chrome(c, ctx),
        frameSrc: inLocale(`${url(name)}/html`),
        attachmentUrl: (i: number) => inLocale(`${url(name)}/attachments/${i}`),
        width: width(c),
        generation: ctx.live.generation,
        context,
        locales: { available: found.locales, current: locale, compare },
      };
      try {
        const preview = await found.preview(locale);
        const side = compare ? { locale: compare, frameSrc: inLocale(`${url(name)}/html`, compare), preview: await found.preview(compare) } : undefined;
        return c.html(emailPage({ ...options, preview, compareWith: side }));
      } catch (error) {
        ctx.onError(error);
        return c.html(emailPage({ ...options, error }), 500);
      }
    });

    app.get(`${base}/:name/html`, async (c) => {
      const found = await find(kind, c.req.param('name'));
      const locale = found ? localeOf(c, found.locales) : null;
      if (!found || locale === null) return notFound(c, ctx);
      try {
        const preview = await found.preview(locale);
        return emailHtml(c, preview.html, true); // the app's own template: its images are the designer's
      } catch (error) {
        return c.body(`could not render: ${oneLine(error)}`, 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      }
    });

    app.get(`${base}/:name/attachments/:index`, async (c) => {
      const found = await find(kind, c.req.param('name'));
      const index = attachmentIndex(c);
      const locale = found ? localeOf(c, found.locales) : null;
      if (!found || index === undefined || locale === null) return notFound(c, ctx);
      const attachment = (await found.preview(locale)).attachments[index];
      return attachment ? download(attachment.content, attachment.contentType, attachment.filename) : notFound(c, ctx);
    });
  }
}
