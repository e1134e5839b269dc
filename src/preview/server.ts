import type { Server } from 'node:http';
import { relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { csrf } from 'hono/csrf';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { createAdaptorServer } from '@hono/node-server';
import type { Transporter } from 'nodemailer';
import { openDatabase, type Database, type Db } from '../store/database.js';
import { MESSAGE_STATES, type MessageState } from '../store/schema.js';
import { createSmtpTransport, type SmtpConfig } from '../drain/smtp.js';
import { ConfigError } from '../errors.js';
import {
  DOWNLOAD_CSP, EMAIL_CSP, PAGE_CSP, contentDisposition, csrfTokenMatches, hostAllowed, newCsrfToken, parseId,
} from './security.js';
import { EmailCatalog, previewTemplate, previewView, type EmailPreview } from './templates.js';
import { LiveReload } from './live-reload.js';
import { parseMessage } from './message.js';
import * as outbox from './outbox.js';
import { SCRIPT, STYLE } from './ui/assets.js';
import { errorBox, layout, type Html } from './ui/layout.js';
import { homePage, templateUrl, viewUrl } from './ui/home.js';
import { emailPage } from './ui/email-page.js';
import { outboxPage } from './ui/outbox-page.js';
import { messagePage } from './ui/message-page.js';

export interface PreviewServerOptions {
  /** The queue the outbox shows: an open Database, a Drizzle db, or a URL (opened here, closed on close()). */
  database?: string | Database | Db;
  /** The app's emails folder: templates (react-email conventions) and `views/index.ts`. */
  emailsDir?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything else exposes the outbox to the network: mind who can reach it. */
  host?: string;
  /** With an SMTP server, "Send now" delivers at once; without, it makes the message due for the next drain. */
  smtp?: SmtpConfig;
  /** Outbox messages per page (25). */
  pageSize?: number;
  /** Watch the emails folder and reload open pages on change (default true). */
  watch?: boolean;
  /** Unexpected errors (a failing query); default: printed to stderr. Template errors show on their page instead. */
  onError?: (error: unknown) => void;
}

export interface PreviewServer {
  /** `http://127.0.0.1:3000` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Re-import the templates and reload open pages, as a file change does. */
  reload(): void;
  close(): Promise<void>;
}

type Width = 'desktop' | 'mobile';

const NOTICES: Record<string, { text: string; bad?: boolean }> = {
  retried: { text: 'Due now: the next drain sends it.' },
  due: { text: 'Due now: the next `mailroom send` takes it first in its priority.' },
  sent: { text: 'Sent.' },
  deferred: { text: 'The SMTP server deferred it: see the attempts below. It will be retried.', bad: true },
  failed: { text: 'It could not be delivered: see the attempts below.', bad: true },
  unchanged: { text: 'Nothing done: the message is no longer in a state that allows that.', bad: true },
};

function isDatabase(value: unknown): value is Database {
  return typeof value === 'object' && value !== null && 'db' in value && 'kind' in value;
}

interface AppContext {
  db: Db | undefined;
  catalog: EmailCatalog | undefined;
  live: LiveReload;
  smtp: (() => Transporter) | undefined;
  csrfToken: string;
  host: string;
  pageSize: number;
  onError: (error: unknown) => void;
}

/** The routes. Every handler is short: read and validate the request, ask templates.ts or outbox.ts, render a ui/ page. */
function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  const previews = new Map<string, Promise<EmailPreview>>();
  const width = (c: Context): Width => (c.req.query('width') === 'mobile' ? 'mobile' : 'desktop');
  const notFound = (c: Context, what = 'Not found') =>
    c.html(layout({ title: 'Not found', body: html`<h1>${what}</h1><p><a href="/">Templates</a> · <a href="/outbox">Outbox</a></p>` }), 404);

  // A loopback server answers loopback names only (DNS rebinding).
  app.use('*', async (c, next) => {
    if (!hostAllowed(c.req.header('host'), ctx.host)) return c.text('Misdirected request: unknown Host header.', 421);
    await next();
  });
  // Every response: a strict CSP unless the route set its own, no sniffing, no referrer, not embeddable elsewhere.
  app.use('*', async (c, next) => {
    await next();
    const headers = c.res.headers;
    if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', PAGE_CSP);
    if (!headers.has('X-Frame-Options')) headers.set('X-Frame-Options', 'DENY');
    if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('Referrer-Policy', 'no-referrer');
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  });
  // Cross-site POSTs: Sec-Fetch-Site or Origin must say same-origin; the form's token is checked in the handler too.
  app.use('*', csrf());
  // The only bodies are the action forms: a token and nothing else.
  app.use('*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('Request body too large.', 413) }));

  app.get('/assets/preview.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/assets/preview.js', (c) => c.body(SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/events', (c) => ctx.live.handle(c));

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

  /** Finds a template or view by the name in the URL (only ever a key into the catalog, never a path). */
  async function find(kind: 'template' | 'view', name: string) {
    const loaded = await catalog();
    if (!loaded) return null;
    if (kind === 'template') {
      const entry = loaded.templates.find((t) => t.name === name);
      return entry ? { kind, loaded, entry, preview: () => cached(`t:${name}`, () => previewTemplate(entry)) } : null;
    }
    const entry = loaded.views.find((v) => v.name === name);
    return entry ? { kind, loaded, entry, preview: () => cached(`v:${name}`, () => (entry.error ? Promise.reject(entry.error) : previewView(entry.make()))) } : null;
  }

  app.get('/', async (c) => {
    const counts = ctx.db ? await outbox.stateCounts(ctx.db) : null;
    return c.html(homePage(await catalog(), counts, ctx.live.generation));
  });

  for (const kind of ['template', 'view'] as const) {
    const base = kind === 'template' ? '/templates' : '/views';
    const url = kind === 'template' ? templateUrl : viewUrl;

    app.get(`${base}/:name`, async (c) => {
      const name = c.req.param('name');
      const found = await find(kind, name);
      if (!found) return notFound(c, `No ${kind} named “${name}”`);
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
        frameSrc: `${url(name)}/html`,
        attachmentUrl: (i: number) => `${url(name)}/attachments/${i}`,
        width: width(c),
        generation: ctx.live.generation,
        context,
      };
      try {
        return c.html(emailPage({ ...options, preview: await found.preview() }));
      } catch (error) {
        return c.html(emailPage({ ...options, error }), 500);
      }
    });

    app.get(`${base}/:name/html`, async (c) => {
      const found = await find(kind, c.req.param('name'));
      if (!found) return notFound(c);
      try {
        const preview = await found.preview();
        return c.body(preview.html, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': EMAIL_CSP, 'X-Frame-Options': 'SAMEORIGIN' });
      } catch (error) {
        return c.body(`could not render: ${(error as Error)?.message ?? String(error)}`, 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      }
    });

    app.get(`${base}/:name/attachments/:index`, async (c) => {
      const found = await find(kind, c.req.param('name'));
      const index = Number.parseInt(c.req.param('index'), 10);
      if (!found || !/^\d+$/.test(c.req.param('index'))) return notFound(c);
      const attachment = (await found.preview()).attachments[index];
      return attachment ? download(attachment.content, attachment.contentType, attachment.filename) : notFound(c);
    });
  }

  // ---- outbox ----

  const needDb = (c: Context) =>
    c.html(layout({ title: 'Outbox', section: 'outbox', body: html`<h1>Outbox</h1><p class="empty">No database given: start the preview with --database (or DATABASE_URL).</p>` }), 404);

  app.get('/outbox', async (c) => {
    if (!ctx.db) return needDb(c);
    const stateParam = c.req.query('state');
    const state = (MESSAGE_STATES as readonly string[]).includes(stateParam ?? '') ? (stateParam as MessageState) : undefined;
    const search = (c.req.query('q') ?? '').slice(0, 200);
    const page = Math.min(parseId(c.req.query('page')) ?? 1, 1_000_000);
    const filter = { state, search, page, pageSize: ctx.pageSize };
    const [{ rows, total }, counts] = await Promise.all([outbox.listOutbox(ctx.db, filter), outbox.stateCounts(ctx.db)]);
    const deleted = parseId(c.req.query('deleted'));
    return c.html(outboxPage({ ...filter, rows, total, counts, notice: deleted ? `Message #${deleted} deleted.` : undefined }));
  });

  /** The message for `/outbox/:id…`, or null for a malformed or unknown id. */
  const message = async (c: Context) => {
    const id = parseId(c.req.param('id'));
    return id && ctx.db ? ((await outbox.getMessage(ctx.db, id)) ?? null) : null;
  };

  app.get('/outbox/:id', async (c) => {
    if (!ctx.db) return needDb(c);
    const row = await message(c);
    if (!row) return notFound(c, 'No such message');
    const [parsed, attempts] = await Promise.all([parseMessage(row.raw), outbox.attemptsOf(ctx.db, row.id)]);
    const done = c.req.query('done');
    return c.html(
      messagePage({
        row,
        parsed,
        attempts,
        width: width(c),
        csrfToken: ctx.csrfToken,
        notice: done ? NOTICES[done] : undefined,
        canDeliver: Boolean(ctx.smtp),
      }),
    );
  });

  app.get('/outbox/:id/html', async (c) => {
    const row = await message(c);
    if (!row) return notFound(c);
    const parsed = await parseMessage(row.raw);
    return c.body(parsed.html ?? '', 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': EMAIL_CSP, 'X-Frame-Options': 'SAMEORIGIN' });
  });

  app.get('/outbox/:id/raw', async (c) => {
    const row = await message(c);
    return row ? download(row.raw, 'message/rfc822', `message-${row.id}.eml`) : notFound(c);
  });

  app.get('/outbox/:id/attachments/:index', async (c) => {
    const row = await message(c);
    if (!row || !/^\d{1,6}$/.test(c.req.param('index'))) return notFound(c);
    const attachment = (await parseMessage(row.raw)).attachments[Number(c.req.param('index'))];
    return attachment ? download(attachment.content, attachment.contentType, attachment.filename) : notFound(c);
  });

  app.post('/outbox/:id/:action', async (c) => {
    const id = parseId(c.req.param('id'));
    const action = c.req.param('action');
    if (!ctx.db || !id || !Object.hasOwn(outbox.ACTIONS, action)) return notFound(c);
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
    const db = ctx.db;
    switch (action as outbox.Action) {
      case 'delete':
        return (await outbox.deleteMessage(db, id)) ? c.redirect(`/outbox?deleted=${id}`, 303) : c.redirect(`/outbox/${id}?done=unchanged`, 303);
      case 'retry':
        return c.redirect(`/outbox/${id}?done=${(await outbox.retryMessage(db, id)) ? 'retried' : 'unchanged'}`, 303);
      case 'send-now': {
        if (!ctx.smtp) return c.redirect(`/outbox/${id}?done=${(await outbox.makeDue(db, id)) ? 'due' : 'unchanged'}`, 303);
        const delivery = await outbox.deliverNow(db, id, ctx.smtp());
        return c.redirect(`/outbox/${id}?done=${delivery ? delivery.outcome : 'unchanged'}`, 303);
      }
    }
  });

  app.notFound((c) => notFound(c));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    ctx.onError(error);
    return c.html(layout({ title: 'Error', body: errorBox('Something went wrong', error) }), 500);
  });
  return app;
}

/** A file download: exact bytes, a content type that is only ever a type, the name encoded (never a path). */
function download(content: Buffer, contentType: string, filename: string): Response {
  return new Response(new Uint8Array(content.buffer, content.byteOffset, content.byteLength), {
    headers: {
      'Content-Type': contentType,
      'Content-Length': String(content.length),
      'Content-Disposition': contentDisposition(filename),
      'Content-Security-Policy': DOWNLOAD_CSP,
    },
  });
}

/**
 * Starts the preview server: the templates and views of `emailsDir` (live-reloaded)
 * and the outbox of `database`. Resolves once it listens; `close()` stops it and
 * whatever it opened itself (never a database it was given).
 */
export async function startPreviewServer(options: PreviewServerOptions = {}): Promise<PreviewServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`Port ${port} is not a port number: use 1-65535, or 0 for any free port.`);
  const pageSize = options.pageSize ?? 25;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ConfigError(`pageSize must be a whole number of 1 or more, not ${pageSize}.`);
  const emailsDir = options.emailsDir === undefined ? undefined : resolve(options.emailsDir);
  if (emailsDir !== undefined && !existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: pass --emails DIR (the folder with your templates).`);

  let ownDatabase: Database | undefined;
  let db: Db | undefined;
  if (typeof options.database === 'string') db = (ownDatabase = await openDatabase(options.database)).db;
  else if (isDatabase(options.database)) db = options.database.db;
  else db = options.database;

  let smtp: Transporter | undefined;
  const smtpConfig = options.smtp;
  const catalog = emailsDir ? new EmailCatalog(emailsDir) : undefined;
  const live = new LiveReload(() => catalog?.invalidate());
  if (emailsDir && options.watch !== false) live.watch(emailsDir);

  const app = createApp({
    db,
    catalog,
    live,
    smtp: smtpConfig ? () => (smtp ??= createSmtpTransport(smtpConfig, { concurrency: 1 })) : undefined,
    csrfToken: newCsrfToken(),
    host,
    pageSize,
    onError: options.onError ?? ((error) => process.stderr.write(`mailroom preview: ${(error as Error)?.stack ?? String(error)}\n`)),
  });
  // overrideGlobalObjects: false — an app embedding the preview keeps its own global Request/Response.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;

  const cleanup = async () => {
    live.close();
    await catalog?.close();
    smtp?.close();
    await ownDatabase?.close();
  };
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    await cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`Port ${port} on ${host} is in use: pass --port with another port (0 picks a free one).`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError(`Cannot listen on ${host}: it is not an address of this machine (see --host).`, { cause: error });
    if (code === 'EACCES') throw new ConfigError(`Not allowed to listen on port ${port}: use a port above 1023.`, { cause: error });
    throw error;
  }

  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${actualPort}`,
    host,
    port: actualPort,
    reload: () => live.changed(),
    close() {
      closing ??= (async () => {
        live.close(); // ends the event streams, so close() below is not kept waiting
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 500).unref();
        });
        await cleanup();
      })();
      return closing;
    },
  };
}
