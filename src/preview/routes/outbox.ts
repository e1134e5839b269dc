import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { MESSAGE_STATES, type MessageState } from '../../store/schema.js';
import { csrfTokenMatches, parseId } from '../security.js';
import { parseMessage } from '../message.js';
import * as outbox from '../outbox.js';
import { layout } from '../ui/layout.js';
import { outboxPage } from '../ui/outbox-page.js';
import { messagePage } from '../ui/message-page.js';
import { attachmentIndex, chrome, download, emailHtml, notFound, width, type AppContext } from './context.js';

const NOTICES: Record<string, { text: string; bad?: boolean }> = {
  retried: { text: 'Due now: the next drain sends it.' },
  due: { text: 'Due now: the next `mailroom send` takes it first in its priority.' },
  sent: { text: 'Sent.' },
  deferred: { text: 'The SMTP server deferred it: see the attempts below. It will be retried.', bad: true },
  failed: { text: 'It could not be delivered: see the attempts below.', bad: true },
  unchanged: { text: 'Nothing done: the message is no longer in a state that allows that.', bad: true },
};

/** The outbox: the list, one message (its HTML, raw source, attachments) and its actions. */
export function registerOutboxRoutes(app: Hono, ctx: AppContext): void {
  const needDb = (c: Context) =>
    c.html(layout({ chrome: chrome(c, ctx), title: 'Outbox', section: 'outbox', body: html`<h1>Outbox</h1><p class="empty">No database given: start the preview with --database (or DATABASE_URL).</p>` }), 404);

  app.get('/outbox', async (c) => {
    if (!ctx.db) return needDb(c);
    const stateParam = c.req.query('state');
    const state = (MESSAGE_STATES as readonly string[]).includes(stateParam ?? '') ? (stateParam as MessageState) : undefined;
    const search = (c.req.query('q') ?? '').slice(0, 200);
    const page = Math.min(parseId(c.req.query('page')) ?? 1, 1_000_000);
    const filter = { state, search, page, pageSize: ctx.pageSize };
    const { rows, total, counts } = await outbox.listOutbox(ctx.db, filter);
    const deleted = parseId(c.req.query('deleted'));
    return c.html(outboxPage({ chrome: chrome(c, ctx), ...filter, rows, total, counts, notice: deleted ? `Message #${deleted} deleted.` : undefined }));
  });

  /** The message for `/outbox/:id…`, or null for a malformed or unknown id. */
  const message = async (c: Context) => {
    const id = parseId(c.req.param('id'));
    return id && ctx.db ? ((await outbox.getMessage(ctx.db, id)) ?? null) : null;
  };

  app.get('/outbox/:id', async (c) => {
    if (!ctx.db) return needDb(c);
    const row = await message(c);
    if (!row) return notFound(c, ctx, 'No such message');
    const [parsed, attempts] = await Promise.all([parseMessage(row.raw), outbox.attemptsOf(ctx.db, row.id)]);
    const done = c.req.query('done');
    return c.html(
      messagePage({
        row,
        parsed,
        attempts,
        width: width(c),
        chrome: chrome(c, ctx),
        notice: done ? NOTICES[done] : undefined,
        canDeliver: Boolean(ctx.smtp),
      }),
    );
  });

  app.get('/outbox/:id/html', async (c) => {
    const row = await message(c);
    if (!row) return notFound(c, ctx);
    const parsed = await parseMessage(row.raw);
    return emailHtml(c, parsed.html ?? '');
  });

  app.get('/outbox/:id/raw', async (c) => {
    const row = await message(c);
    return row ? download(row.raw, 'message/rfc822', `message-${row.id}.eml`) : notFound(c, ctx);
  });

  app.get('/outbox/:id/attachments/:index', async (c) => {
    const row = await message(c);
    const index = attachmentIndex(c);
    if (!row || index === undefined) return notFound(c, ctx);
    const attachment = (await parseMessage(row.raw)).attachments[index];
    return attachment ? download(attachment.content, attachment.contentType, attachment.filename) : notFound(c, ctx);
  });

  app.post('/outbox/:id/:action', async (c) => {
    const id = parseId(c.req.param('id'));
    const action = c.req.param('action');
    if (!ctx.db || !id || !Object.hasOwn(outbox.ACTIONS, action)) return notFound(c, ctx);
    if (ctx.readOnly) return c.text('Forbidden: this preview is read-only (--read-only); retry, delete and send now are off.', 403);
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
    const db = ctx.db;
    switch (action as outbox.Action) {
      case 'delete':
        return (await outbox.deleteMessage(db, id)) ? c.redirect(`${ctx.base}/outbox?deleted=${id}`, 303) : c.redirect(`${ctx.base}/outbox/${id}?done=unchanged`, 303);
      case 'retry':
        return c.redirect(`${ctx.base}/outbox/${id}?done=${(await outbox.retryMessage(db, id)) ? 'retried' : 'unchanged'}`, 303);
      case 'send-now': {
        if (!ctx.smtp) return c.redirect(`${ctx.base}/outbox/${id}?done=${(await outbox.makeDue(db, id)) ? 'due' : 'unchanged'}`, 303);
        const delivery = await outbox.deliverNow(db, id, ctx.smtp());
        return c.redirect(`${ctx.base}/outbox/${id}?done=${delivery ? delivery.outcome : 'unchanged'}`, 303);
      }
    }
  });
}
