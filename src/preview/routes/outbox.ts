import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { MESSAGE_STATES, type MessageState } from '../../store/schema.js';
import { DOWNLOAD_CSP, contentDisposition, csrfTokenMatches, parseId } from '../security.js';
import { openAttachment, summarizeMessage, type StoredMessage } from '../stored-message.js';
import * as outbox from '../outbox.js';
import { layout } from '../ui/layout.js';
import { bulkConfirmPage, outboxPage } from '../ui/outbox-page.js';
import { messagePage, recipientsOnPage } from '../ui/message-page.js';
import { suppressedAmong, suppressionFor } from '../../store/suppressions.js';
import type { SuppressionRow } from '../../store/schema.js';
import { emulateDarkMode } from '../dark-mode.js';
import { randomUUID } from 'node:crypto';
import { TEST_SENDS_PER_WINDOW, TEST_SUBJECT_PREFIX, rawTestCopy, sendTest, testRecipient } from '../test-send.js';
import { testSendRefused } from '../ui/test-send.js';
import { oneLine } from '../ui/layout.js';
import { attachmentIndex, chrome, emailHtml, notFound, remoteImages, frameViewOf, type AppContext } from './context.js';

const NOTICES: Record<string, { text: string; bad?: boolean }> = {
  retried: { text: 'Due now: the next drain sends it.' },
  due: { text: 'Due now: the next `mailroom send` takes it first in its priority.' },
  sent: { text: 'Sent.' },
  deferred: { text: 'The SMTP server deferred it: see the attempts below. It will be retried.', bad: true },
  failed: { text: 'It could not be delivered: see the attempts below.', bad: true },
  unchanged: { text: 'Nothing done: the message is no longer in a state that allows that.', bad: true },
  'test-sent': { text: 'This is a test copy, sent to the address typed (the original’s recipients did not get it).' },
  'test-deferred': { text: 'This test copy was deferred by the SMTP server: see the attempts below.', bad: true },
  'test-failed': { text: 'This test copy could not be delivered: see the attempts below.', bad: true },
  'test-sending': { text: 'This test copy is still being sent.' },
};

/** The list's filters as a query string (empty ones left out). */
function outboxQuery(filter: { state?: string | undefined; search?: string; view?: string | undefined; after?: string | undefined; before?: string | undefined }): string {
  const pairs = Object.entries({ state: filter.state, q: filter.search, view: filter.view, after: filter.after, before: filter.before }).filter((e): e is [string, string] => Boolean(e[1]));
  return new URLSearchParams(pairs).toString();
}

/** The outbox: the list, one message (its HTML, raw source, attachments) and its actions. */
export function registerOutboxRoutes(app: Hono, ctx: AppContext): void {
  const needDb = (c: Context) =>
    c.html(layout({ chrome: chrome(c, ctx), title: 'Outbox', section: 'outbox', body: html`<h1>Outbox</h1><p class="empty">No database given: start the preview with --database (or DATABASE_URL).</p>` }), 404);

  app.get('/outbox', async (c) => {
    if (!ctx.db) return needDb(c);
    const stateParam = c.req.query('state');
    const state = (MESSAGE_STATES as readonly string[]).includes(stateParam ?? '') ? (stateParam as MessageState) : undefined;
    // Postgres text cannot hold a NUL: searched for, it failed the query (a 500).
    const search = (c.req.query('q') ?? '').replace(/\0/g, '').slice(0, 200);
    const page = Math.min(parseId(c.req.query('page')) ?? 1, 1_000_000);
    const view = (c.req.query('view') ?? '').slice(0, 255) || undefined;
    const after = outbox.dayOf(c.req.query('after'));
    const before = outbox.dayOf(c.req.query('before'));
    const filter = { state, search, view, after, before, page, pageSize: ctx.pageSize };
    const { rows, total, counts } = await outbox.listOutbox(ctx.db, filter);
    const deleted = parseId(c.req.query('deleted'));
    const bulk = c.req.query('bulk');
    const changed = Number(c.req.query('changed') ?? NaN);
    const notice = deleted
      ? `Message #${deleted} deleted.`
      : (bulk === 'retry' || bulk === 'delete') && Number.isSafeInteger(changed)
        ? `${changed} message${changed === 1 ? '' : 's'} ${bulk === 'retry' ? 'made due again' : 'deleted'}.`
        : undefined;
    return c.html(outboxPage({ chrome: chrome(c, ctx), ...filter, rows, total, counts, notice }));
  });

  /**
   * Retry or delete every message the list's filters select (in the states the action
   * allows). The first POST only counts and asks; the second, carrying `confirmed` and the
   * count it was shown, acts.
   */
  app.post('/outbox/bulk', async (c) => {
    if (!ctx.db) return needDb(c);
    if (ctx.readOnly) return c.text('Forbidden: this preview is read-only (--read-only); retry, delete and send now are off.', 403);
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
    const text = (key: string) => (typeof form[key] === 'string' ? (form[key] as string) : undefined);
    const action = text('action');
    if (action !== 'retry' && action !== 'delete') return c.text('Unknown bulk action: retry or delete.', 400);
    const stateText = text('state');
    const filter = {
      state: (MESSAGE_STATES as readonly string[]).includes(stateText ?? '') ? (stateText as MessageState) : undefined,
      search: (text('q') ?? '').replace(/\0/g, '').slice(0, 200),
      view: (text('view') ?? '').slice(0, 255) || undefined,
      after: outbox.dayOf(text('after')),
      before: outbox.dayOf(text('before')),
    };
    const query = outboxQuery(filter);
    if (text('confirmed') !== '1') {
      const n = await outbox.bulkCount(ctx.db, filter, action);
      return c.html(bulkConfirmPage({ chrome: chrome(c, ctx), action, count: n, filter, back: `outbox${query ? `?${query}` : ''}` }));
    }
    const changed = await outbox.bulkApply(ctx.db, filter, action);
    return c.redirect(`${ctx.base}/outbox?${new URLSearchParams([...new URLSearchParams(query)].concat([['bulk', action], ['changed', String(changed)]]))}`, 303);
  });

  /**
   * One parse per message while it is being looked at: its page, its iframe and
   * concurrent viewers share it. A few recent ones are kept (a stored message never
   * changes); the bytes are never kept, only what the page shows.
   */
  const summaries = new Map<number, Promise<StoredMessage>>();
  const summary = (db: NonNullable<AppContext['db']>, row: outbox.MessageSummaryRow) => {
    let parsed = summaries.get(row.id);
    if (parsed) {
      summaries.delete(row.id); // re-inserted below: the Map's order is the recency order
    } else {
      parsed = summarizeMessage(outbox.rawChunks(db, row.id, row.rawSize));
      parsed.catch(() => summaries.delete(row.id));
    }
    summaries.set(row.id, parsed);
    if (summaries.size > 16) summaries.delete(summaries.keys().next().value!);
    return parsed;
  };

  /** The message for `/outbox/:id…`, or null for a malformed or unknown id. */
  const message = async (c: Context) => {
    const id = parseId(c.req.param('id'));
    return id && ctx.db ? ((await outbox.getMessage(ctx.db, id)) ?? null) : null;
  };

  app.get('/outbox/:id', async (c) => {
    if (!ctx.db) return needDb(c);
    const row = await message(c);
    if (!row) return notFound(c, ctx, 'No such message');
    const recipientsPage = Math.min(parseId(c.req.query('recipients')) ?? 1, 1_000_000);
    const shown = recipientsOnPage(row.recipients, recipientsPage);
    const [parsed, attempts, among] = await Promise.all([summary(ctx.db, row), outbox.attemptsOf(ctx.db, row.id), suppressedAmong(ctx.db, shown)]);
    // Each shown recipient the list stops for this message's topic, linked to its entry.
    const suppressed = new Map<string, SuppressionRow>();
    for (const r of shown) {
      const hit = suppressionFor(among, r, row.topic);
      if (hit) suppressed.set(r, hit);
    }
    const done = c.req.query('done');
    return c.html(
      messagePage({
        row,
        parsed,
        attempts,
        view: frameViewOf(c),
        images: remoteImages(c),
        recipientsPage,
        suppressed,
        chrome: chrome(c, ctx),
        notice: done ? NOTICES[done] : undefined,
        canDeliver: Boolean(ctx.smtp),
        canSendTest: Boolean(ctx.smtp),
      }),
    );
  });

  app.get('/outbox/:id/html', async (c) => {
    const row = await message(c);
    if (!row || !ctx.db) return notFound(c, ctx);
    const parsed = await summary(ctx.db, row);
    return emailHtml(c, c.req.query('scheme') === 'dark' ? emulateDarkMode(parsed.html ?? '') : (parsed.html ?? ''), remoteImages(c));
  });

  app.get('/outbox/:id/raw', async (c) => {
    const row = await message(c);
    if (!row || !ctx.db) return notFound(c, ctx);
    return stream(outbox.rawChunks(ctx.db, row.id, row.rawSize), 'message/rfc822', `message-${row.id}.eml`, row.rawSize);
  });

  app.get('/outbox/:id/attachments/:index', async (c) => {
    const row = await message(c);
    const index = attachmentIndex(c);
    if (!row || index === undefined || !ctx.db) return notFound(c, ctx);
    if (!(await summary(ctx.db, row)).attachments[index]) return notFound(c, ctx);
    const attachment = await openAttachment(outbox.rawChunks(ctx.db, row.id, row.rawSize), index);
    return attachment ? streamed(attachment.body, attachment.contentType, attachment.filename) : notFound(c, ctx);
  });

  /** "Send a test" of a stored message: its exact bytes, marked, to one typed address. */
  app.post('/outbox/:id/send-test', async (c) => {
    const id = parseId(c.req.param('id'));
    if (!ctx.db || !id) return notFound(c, ctx);
    if (ctx.readOnly) return testSendRefused(c, ctx, 403, 'This preview is read-only (--read-only): test sends are off.');
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
    if (!ctx.smtp) return testSendRefused(c, ctx, 503, 'No SMTP server is configured, so a test cannot be sent: start the preview with --smtp URL (or SMTP_URL, or smtp in mailroom.config).');
    const row = await message(c);
    if (!row) return notFound(c, ctx, 'No such message');
    const wait = ctx.testSends.take();
    if (wait) return testSendRefused(c, ctx, 429, `Too many test sends: at most ${TEST_SENDS_PER_WINDOW} a minute. Try again in ${wait} s.`, { 'Retry-After': String(wait) });
    let result;
    try {
      const to = testRecipient(form.to);
      const chunks: Buffer[] = [];
      for await (const chunk of outbox.rawChunks(ctx.db, row.id, row.rawSize)) chunks.push(chunk);
      const messageId = `<test-${randomUUID()}@mailroom.invalid>`;
      const raw = rawTestCopy(Buffer.concat(chunks), `outbox message ${row.id}`, messageId);
      result = await sendTest(ctx.db, ctx.smtp(), {
        messageId,
        envelope: { from: row.envelopeFrom, to: [to] },
        raw,
        subject: `${TEST_SUBJECT_PREFIX}${row.subject}`,
        from: row.envelopeFrom,
        priority: 'normal',
        topic: null, // a copy for the person testing, not the list's mail
      });
    } catch (error) {
      return testSendRefused(c, ctx, 400, `The test was not sent: ${oneLine(error)}`);
    }
    return c.redirect(result.id ? `${ctx.base}/outbox/${result.id}?done=test-${result.state}` : `${ctx.base}/outbox/${id}`, 303);
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
        const delivery = await outbox.sendNow(db, id, ctx.smtp());
        return c.redirect(`${ctx.base}/outbox/${id}?done=${delivery ? delivery.outcome : 'unchanged'}`, 303);
      }
    }
  });
}

/** A download streamed as it is read: exact bytes, the type only ever a type, the name encoded. */
function streamed(body: ReadableStream<Uint8Array>, contentType: string, filename: string, length?: number): Response {
  return new Response(body, {
    headers: {
      'Content-Type': contentType,
      ...(length === undefined ? {} : { 'Content-Length': String(length) }),
      'Content-Disposition': contentDisposition(filename),
      'Content-Security-Policy': DOWNLOAD_CSP,
    },
  });
}

function stream(chunks: AsyncGenerator<Buffer>, contentType: string, filename: string, length: number): Response {
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return streamed(body, contentType, filename, length);
}
