import { relative } from 'node:path';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { previewTemplate, previewView, type EmailPreview } from '../templates.js';
import { stateCounts } from '../../store/status.js';
import { oneLine, type Html } from '../ui/layout.js';
import { homePage, templateUrl, viewUrl } from '../ui/home.js';
import { emailPage } from '../ui/email-page.js';
import { attachmentIndex, chrome, download, emailHtml, notFound, frameViewOf, type AppContext } from './context.js';
import { frameQuery } from '../frame-view.js';
import { emulateDarkMode } from '../dark-mode.js';
import { sourceView, type SourceView } from '../source-view.js';
import { compileErrorOf } from '../compile-error.js';
import { sidebar } from '../ui/sidebar.js';
import { propsEditor } from '../ui/props-editor.js';
import { choiceKey, choiceQuery, propsChoiceFrom, propsChoiceOf, type PropsChoice } from '../prop-sets.js';
import { messageOf, viewWithProps, type PreviewableView } from '../templates.js';
import { InvalidMessageError } from '../../errors.js';
import { csrfTokenMatches } from '../security.js';
import { TEST_SENDS_PER_WINDOW, composeTest, sendTest, testRecipient } from '../test-send.js';
import { testSendForm, testSendRefused } from '../ui/test-send.js';
import { renderErrorOf } from '../../views/render-error.js';
import { errorBox, layout } from '../ui/layout.js';
import { pageCatalogs, previewLocales } from '../../i18n/preview-locales.js';
import type { Context } from 'hono';
import { contentProblems } from '../../check/content.js';
import { checkFindings } from '../ui/check-findings.js';

/** The sidebar's links keep the frame's width and scheme, so switching templates keeps the view. */
const sidebarQuery = (view: Parameters<typeof frameQuery>[0]) => {
  const query = new URLSearchParams(frameQuery(view)).toString();
  return query ? `?${query}` : '';
};

/** After a test send: its outcome and the outbox message it was recorded as (`?test=sent&message=12`). */
const testSentNotice = (c: Context) => {
  const state = c.req.query('test');
  if (!state || !/^[a-z]{1,16}$/.test(state)) return undefined;
  const id = c.req.query('message');
  return { state, id: id && /^[0-9]{1,16}$/.test(id) ? Number(id) : undefined };
};

/** A URL with the prop choice added to its query. */
const withChoice = (url: string, choice: PropsChoice) => {
  const extra = new URLSearchParams(choiceQuery(choice)).toString();
  return extra ? `${url}${url.includes('?') ? '&' : '?'}${extra}` : url;
};

/** The home page and the template and view previews (`/templates/…`, `/views/…`). */
export function registerTemplateRoutes(app: Hono, ctx: AppContext): void {
  // Per app, not per module: each server has its own catalog and generations.
  const previews = new Map<string, Promise<EmailPreview>>();
  const catalog = async () => (ctx.catalog ? ctx.catalog.load() : null);
  /** The formatted source of a render, made once per render (Prettier takes a while on a large email). */
  const sources = new WeakMap<EmailPreview, Promise<SourceView>>();
  const sourceOf = (preview: EmailPreview) => {
    let source = sources.get(preview);
    if (!source) sources.set(preview, (source = sourceView(preview.html)));
    return source;
  };

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
  async function find(kind: 'template' | 'view', name: string, choice: PropsChoice = { kind: 'default' }) {
    const loaded = await catalog();
    if (!loaded) return null;
    if (kind === 'template') {
      const entry = loaded.templates.find((t) => t.name === name);
      if (!entry) return null;
      if (choice.kind === 'set' && !Object.hasOwn(entry.propSets, choice.name)) return null;
      const props = choice.kind === 'set' ? entry.propSets[choice.name] : choice.kind === 'edited' ? choice.props : undefined;
      const i18n = pageCatalogs(entry, loaded.views);
      const preview = (locale?: string) => cached(`t:${name}:${locale ?? ''}:${choiceKey(choice)}`, () => previewTemplate(entry, { locale, i18n, props }));
      const sets = Object.keys(entry.propSets);
      const currentProps = () => props ?? entry.previewProps;
      /** What `send()` would hand a transporter: only through the view that renders this template (it has the From and subject). */
      const message = async (locale?: string) => {
        if (!entry.view) throw new InvalidMessageError(`No mail view renders template “${name}”, so it has no sender or subject: send a test from a view that uses it.`);
        return messageOf(viewWithProps(entry.view.make(), props ?? entry.previewProps), locale);
      };
      return { kind, loaded, entry, locales: previewLocales(i18n), preview, sets, currentProps, validatedBy: entry.view?.className, message };
    }
    const entry = loaded.views.find((v) => v.name === name);
    if (!entry) return null;
    const propSets = entry.template?.propSets ?? {};
    if (choice.kind === 'set' && !Object.hasOwn(propSets, choice.name)) return null;
    const props = choice.kind === 'set' ? propSets[choice.name] : choice.kind === 'edited' ? choice.props : undefined;
    /** The registered view, or the same class built with the chosen props (its constructor runs here, so a throwing one is a render error). */
    const make = () => (props === undefined ? entry.make() : viewWithProps(entry.make(), props));
    const preview = (locale?: string) =>
      cached(`v:${name}:${locale ?? ''}:${choiceKey(choice)}`, async () => {
        if (entry.error) throw entry.error;
        let view: PreviewableView;
        try {
          view = make();
        } catch (error) {
          throw renderErrorOf(entry.className ?? name, error);
        }
        return previewView(view, { locale });
      });
    const currentProps = () => props ?? (entry.error ? {} : entry.make().props);
    const message = async (locale?: string) => {
      if (entry.error) throw entry.error;
      return messageOf(make(), locale);
    };
    return { kind, loaded, entry, locales: previewLocales(pageCatalogs(entry, loaded.views)), preview, sets: Object.keys(propSets), currentProps, validatedBy: entry.className, message };
  }

  /** The props the page asked for, or a page saying why they cannot be used. */
  const choiceOr400 = (c: Context) => propsChoiceOf(c);
  const badProps = (c: Context, message: string) =>
    c.html(layout({ chrome: chrome(c, ctx), title: 'Bad props', body: errorBox('These props cannot be used', new Error(message)) }), 400);

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
      const choice = choiceOr400(c);
      if ('error' in choice) return badProps(c, choice.error);
      const found = await find(kind, name, choice);
      if (!found) return notFound(c, ctx, choice.kind === 'set' ? `No prop set “${choice.name}” for ${kind} “${name}”` : `No ${kind} named “${name}”`);
      const locale = localeOf(c, found.locales);
      const compare = localeOf(c, found.locales, 'compare');
      if (locale === null || compare === null) {
        return notFound(c, ctx, `No locale “${c.req.query(locale === null ? 'locale' : 'compare')}” for ${kind} “${name}”: it has ${found.locales.join(', ') || 'none'}`);
      }
      const view = frameViewOf(c);
      const frameParams = (l: string | undefined) =>
        new URLSearchParams({ ...(l ? { locale: l } : {}), ...(view.dark ? { scheme: 'dark' } : {}), ...choiceQuery(choice) }).toString();
      const inLocale = (path: string, l = locale) => (l ? `${path}?locale=${encodeURIComponent(l)}` : path);
      const framed = (path: string, l = locale) => (frameParams(l) ? `${path}?${frameParams(l)}` : path);
      const file = (path: string) => relative(process.cwd(), path) || path;
      let context: Html;
      if (found.kind === 'template') {
        const t = found.entry;
        context = html`Template ${file(t.file)} · ${
          t.view ? html`rendered by mail view <a href="${viewUrl(t.view.name)}">${t.view.className ?? t.view.name}</a>` : 'no mail view renders it'
        }${t.hasPreviewProps || t.error ? '' : ' · no PreviewProps: rendered with {}'}`;
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
        frameSrc: framed(`${url(name)}/html`),
        attachmentUrl: (i: number) => withChoice(inLocale(`${url(name)}/attachments/${i}`), choice),
        view,
        sidebar: sidebar(found.loaded, { kind, name }, sidebarQuery(view)),
        keep: choiceQuery(choice),
        generation: ctx.live.generation,
        context,
        locales: { available: found.locales, current: locale, compare },
      };
      const editorQuery = { ...(locale ? { locale } : {}), ...(view.dark ? { scheme: 'dark' } : {}), ...frameQuery(view) };
      const editor = () =>
        propsEditor({ path: url(name), choice, sets: found.sets, props: found.currentProps(), query: editorQuery, validatedBy: found.validatedBy });
      if (found.kind === 'template' && found.entry.error && ctx.catalog) {
        // The file does not compile: where and why, not the render error wrapped around it.
        return c.html(emailPage({ ...options, compileError: compileErrorOf(found.entry.error, found.entry.file, ctx.catalog.dir) }), 500);
      }
      try {
        const preview = await found.preview(locale);
        const side = compare ? { locale: compare, frameSrc: framed(`${url(name)}/html`, compare), preview: await found.preview(compare) } : undefined;
        const testForm = testSendForm({ chrome: options.chrome, action: `${url(name)}/send-test`, keep: { ...(locale ? { locale } : {}), ...choiceQuery(choice) }, canSend: Boolean(ctx.smtp), sent: testSentNotice(c) });
        const findings = checkFindings(await contentProblems(name, preview));
        return c.html(emailPage({ ...options, extra: editor(), afterHeaders: testForm, findings, preview, source: await sourceOf(preview), compareWith: side }));
      } catch (error) {
        if (choice.kind !== 'edited') ctx.onError(error); // edited props the view refuses are the editor's business, not the log's
        // Edited props that fail validation: the editor stays, with the view's message.
        return c.html(emailPage({ ...options, extra: editor(), error }), choice.kind === 'edited' ? 422 : 500);
      }
    });

    /** The props editor's re-render: the view's validation message, or what the page shows of the new render. */
    app.get(`${base}/:name/render.json`, async (c) => {
      const choice = choiceOr400(c);
      if ('error' in choice) return c.json({ ok: false, error: choice.error }, 400);
      const found = await find(kind, c.req.param('name'), choice);
      const locale = found ? localeOf(c, found.locales) : null;
      if (!found || locale === null) return c.json({ ok: false, error: 'Not found' }, 404);
      try {
        const preview = await found.preview(locale);
        const source = await sourceOf(preview);
        // The findings as the page shows them (escaped by Hono's html), so edited props update the list too.
        const findings = String(await checkFindings(await contentProblems(c.req.param('name'), preview)));
        return c.json({ ok: true, subject: preview.subject, headers: preview.headers, text: preview.text, source: source.highlighted, findings });
      } catch (error) {
        return c.json({ ok: false, error: oneLine(error) }, 422);
      }
    });

    /** "Send a test": this email, as shown, to one typed address through the app's own SMTP server. */
    app.post(`${base}/:name/send-test`, async (c) => {
      const name = c.req.param('name');
      if (ctx.readOnly) return testSendRefused(c, ctx, 403, 'This preview is read-only (--read-only): test sends are off.');
      const form = await c.req.parseBody();
      if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
      if (!ctx.smtp) return testSendRefused(c, ctx, 503, 'No SMTP server is configured, so a test cannot be sent: start the preview with --smtp URL (or SMTP_URL, or smtp in mailroom.config).');
      const field = (key: string) => (typeof form[key] === 'string' ? (form[key] as string) : undefined);
      const choice: PropsChoice | { error: string } = field('props')
        ? propsChoiceFrom(field('props')!)
        : field('set') ? { kind: 'set', name: field('set')! } : { kind: 'default' };
      if ('error' in choice) return testSendRefused(c, ctx, 400, choice.error);
      const found = await find(kind, name, choice);
      const locale = found ? (field('locale') && found.locales.includes(field('locale')!) ? field('locale') : undefined) : undefined;
      if (!found) return notFound(c, ctx, `No ${kind} named “${name}”`);
      const wait = ctx.testSends.take();
      if (wait) return testSendRefused(c, ctx, 429, `Too many test sends: at most ${TEST_SENDS_PER_WINDOW} a minute. Try again in ${wait} s.`, { 'Retry-After': String(wait) });
      let result;
      try {
        const to = testRecipient(form.to);
        const composed = await composeTest(await found.message(locale), to, `${kind} ${name}${choice.kind === 'set' ? ` (${choice.name})` : choice.kind === 'edited' ? ' (edited props)' : ''}`);
        result = await sendTest(ctx.db, ctx.smtp(), composed);
      } catch (error) {
        return testSendRefused(c, ctx, 400, `The test was not sent: ${oneLine(error)}`);
      }
      const back = new URLSearchParams({ ...(locale ? { locale } : {}), ...choiceQuery(choice), test: result.state, ...(result.id ? { message: String(result.id) } : {}) });
      return c.redirect(`${ctx.base}/${url(name)}?${back}`, 303);
    });

    app.get(`${base}/:name/html`, async (c) => {
      const choice = choiceOr400(c);
      const found = 'error' in choice ? null : await find(kind, c.req.param('name'), choice);
      const locale = found ? localeOf(c, found.locales) : null;
      if (!found || locale === null) return notFound(c, ctx);
      try {
        const preview = await found.preview(locale);
        const body = c.req.query('scheme') === 'dark' ? emulateDarkMode(preview.html) : preview.html;
        return emailHtml(c, body, true, true); // the app's own template: its images are the designer's, its frame may be measured
      } catch (error) {
        return c.body(`could not render: ${oneLine(error)}`, 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      }
    });

    app.get(`${base}/:name/attachments/:index`, async (c) => {
      const choice = choiceOr400(c);
      const found = 'error' in choice ? null : await find(kind, c.req.param('name'), choice);
      const index = attachmentIndex(c);
      const locale = found ? localeOf(c, found.locales) : null;
      if (!found || index === undefined || locale === null) return notFound(c, ctx);
      const attachment = (await found.preview(locale)).attachments[index];
      return attachment ? download(attachment.content, attachment.contentType, attachment.filename) : notFound(c, ctx);
    });
  }
}
