import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { ConfigError } from '../../errors.js';
import { csrfTokenMatches, parseId } from '../security.js';
import { addManualSuppression, listSuppressionPage, reasonOf, removeSuppression, scopeOf, searchOf } from '../suppressions.js';
import { layout } from '../ui/layout.js';
import { suppressionEntryUrl, suppressionsPage, suppressionsUrl, type SuppressionsPageOptions } from '../ui/suppressions-page.js';
import { chrome, type AppContext } from './context.js';

/** What an action did, by `?done=`: fixed sentences, so a link cannot make the page say anything else. */
const NOTICES: Record<string, string> = {
  added: 'Suppressed: the entry is below. Queued and future mail to it is not sent.',
  already: 'Already suppressed (the entry below): nothing changed.',
  removed: 'Suppression lifted: mail to that address is sent again.',
  absent: 'That suppression was already gone: nothing changed.',
};

const READ_ONLY = 'Forbidden: this preview is read-only (--read-only); adding and removing suppressions are off.';
const STALE_FORM = 'Forbidden: this form is out of date or came from another site. Reload the page.';

/** The Suppressions page and its add and remove actions (the same CSRF rules as the outbox's). */
export function registerSuppressionRoutes(app: Hono, ctx: AppContext): void {
  const needDb = (c: Context) =>
    c.html(
      layout({
        chrome: chrome(c, ctx),
        title: 'Suppressions',
        section: 'suppressions',
        body: html`<h1>Suppressions</h1><p class="empty">No database given: start the preview with --database (or DATABASE_URL).</p>`,
      }),
      404,
    );

  /** The list for these filters, rendered (with a notice or the add form's refusal). */
  const render = async (c: Context, filters: { reason?: string | undefined; scope?: string | undefined; q?: string | undefined; page?: string | undefined }, extra: Pick<SuppressionsPageOptions, 'notice' | 'addError'>) => {
    const filter = {
      reason: reasonOf(filters.reason),
      scope: scopeOf(filters.scope),
      search: searchOf(filters.q),
      page: Math.min(parseId(filters.page) ?? 1, 1_000_000),
      pageSize: ctx.pageSize,
    };
    const listed = await listSuppressionPage(ctx.db!, filter);
    return suppressionsPage({ chrome: chrome(c, ctx), ...filter, ...listed, ...extra });
  };

  app.get('/suppressions', async (c) => {
    if (!ctx.db) return needDb(c);
    const done = c.req.query('done');
    return c.html(await render(c, c.req.query(), { notice: done && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined }));
  });

  /** Parses an action's form after the read-only and CSRF checks; a Response when refused. */
  const actionForm = async (c: Context): Promise<Record<string, string> | Response> => {
    if (!ctx.db) return needDb(c);
    if (ctx.readOnly) return c.text(READ_ONLY, 403);
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text(STALE_FORM, 403);
    return Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'));
  };

  /** A manual suppression, checked as `mailroom suppress add` checks it; a refusal shows the page again with the error. */
  app.post('/suppressions/add', async (c) => {
    const form = await actionForm(c);
    if (form instanceof Response) return form;
    try {
      const entry = await addManualSuppression(ctx.db!, { address: form.address ?? '', topic: form.topic, note: form.note, user: chrome(c, ctx).user });
      return c.redirect(`${ctx.base}/${suppressionEntryUrl(entry)}&done=${entry.added ? 'added' : 'already'}`, 303);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const addError = { error, address: form.address ?? '', topic: form.topic ?? '', note: form.note ?? '' };
      return c.html(await render(c, form, { addError }), 400);
    }
  });

  /** Lifts one entry, named by its stored address and topic; back to the same filtered view. */
  app.post('/suppressions/remove', async (c) => {
    const form = await actionForm(c);
    if (form instanceof Response) return form;
    const address = form.address ?? '';
    const topic = form.topic ?? '';
    // Postgres text cannot hold a NUL: no stored entry has one, so nothing to lift.
    const removed = address && !address.includes('\0') && !topic.includes('\0') ? await removeSuppression(ctx.db!, address, topic) : false;
    const back = suppressionsUrl({ reason: form.reason, scope: form.scope, q: form.q });
    return c.redirect(`${ctx.base}/${back}${back.includes('?') ? '&' : '?'}done=${removed ? 'removed' : 'absent'}`, 303);
  });
}
