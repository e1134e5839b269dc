import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Transporter } from 'nodemailer';
import { resolveDatabase, type Database, type Db, type DrizzleDb } from '../store/database.js';
import { createSmtpTransport, type SmtpConfig } from '../drain/smtp.js';
import { ConfigError } from '../errors.js';
import { PAGE_CSP, newCsrfToken } from './security.js';
import { hostAllowed, normalizeAllowedHost, type HostPolicy } from './hosts.js';
import { EmailCatalog } from './templates.js';
import { LiveReload } from './live-reload.js';
import { SCRIPT, STYLE } from './ui/assets.js';
import { layout } from './ui/layout.js';
import { highlightTheme } from './source-view.js';
import { TestSendLimiter } from './test-send.js';
import { html } from 'hono/html';
import { chrome, notFound, type AppContext } from './routes/context.js';
import { registerTemplateRoutes } from './routes/templates.js';
import { registerOutboxRoutes } from './routes/outbox.js';
import { registerSuppressionRoutes } from './routes/suppressions.js';
import { Auth, registerAuth, type ClientAddress, type PreviewAuthOptions } from './auth/login.js';
import { forTerminal } from '../cli/terminal.js';
import { redact } from '../store/redact.js';

/** Options of `createPreviewHandler` (and, but for the mount and Host ones, of `startPreviewServer`). */
export interface PreviewHandlerOptions {
  /** The queue the outbox shows: an open Database, a Drizzle db, or a URL (opened here, closed on close()). */
  database?: string | Database | DrizzleDb;
  /** The app's emails folder: templates (react-email conventions) and `_views/index.ts`. */
  emailsDir?: string;
  /** With an SMTP server, "Send now" delivers at once; without, it makes the message due for the next drain. */
  smtp?: SmtpConfig;
  /** Outbox messages per page (25). */
  pageSize?: number;
  /** Watch the emails folder and reload open pages on change (default true). */
  watch?: boolean;
  /** Unexpected errors (a failing query), with their stack; default: printed to stderr. Pages only ever show one line. */
  onError?: (error: unknown) => void;
  /** The path the preview is mounted under (`/admin/mail`); requests arrive with it in their URL. Default: the root. */
  basePath?: string;
  /** No retry, delete or send now: the buttons are hidden and their POSTs refused. */
  readOnly?: boolean;
  /** The preview's own login (a password or users). Mounted in an app, leave it out and put the app's auth in front. */
  auth?: PreviewAuthOptions;
  /** The client a failed login is counted against; default: the socket's address (@hono/node-server), else one shared count. */
  clientAddress?: ClientAddress;
  /**
   * Host names the preview answers to besides loopback literals and `localhost`: exact
   * names, `*.example.com`, or IP addresses. Leave out to skip the check (the app's server does it).
   */
  allowedHosts?: readonly string[];
  /** The address a standalone server is bound to; as a literal it is an allowed Host too. */
  boundHost?: string;
}

/** A standard `Request → Response` function serving the whole preview, plus its lifecycle. */
export interface PreviewHandler {
  /** Serves one request (its URL keeps the base path); `env` is ignored, for runtimes that pass one. */
  (request: Request, env?: unknown): Promise<Response>;
  /** Resolves once the database is open (rejects with the reason it is not). */
  readonly ready: Promise<void>;
  /** Re-import the templates and reload open pages, as a file change does. */
  reload(): void;
  /** Ends the event streams and closes what the handler opened (never a database it was given). */
  close(): Promise<void>;
}

/**
 * The default for unexpected errors: the stack on stderr, each line made safe for a
 * terminal and its URLs' passwords hidden. A failed query's text quotes its parameters,
 * which come from the request (a search typed with escape sequences) or a stored row.
 */
function printError(error: unknown): void {
  const text = redact((error as Error)?.stack ?? String(error));
  process.stderr.write(`${text.split('\n').map((line, i) => (i === 0 ? `mailroom preview: ${forTerminal(line)}` : forTerminal(line))).join('\n')}\n`);
}

/** `/admin/mail/` → `/admin/mail`; a base must be a plain absolute path. */
function normalizeBase(basePath: string | undefined): string {
  const base = (basePath ?? '').replace(/\/+$/, '');
  if (base && !/^(\/[A-Za-z0-9._~-]+)+$/.test(base)) throw new ConfigError(`basePath "${basePath}" must be a path like /admin/mail (letters, digits, . _ ~ -).`);
  return base;
}

/** Assembles the app: the middleware every response passes through, then the routes/ modules in order. */
function createApp(ctx: AppContext, hosts: HostPolicy | undefined, ready: Promise<Db | undefined>, clientAddress: ClientAddress | undefined): Hono {
  const app = new Hono().basePath(ctx.base || '/');

  // DNS rebinding: only Host names that cannot be an attacker's (hosts.ts).
  if (hosts) {
    app.use('*', async (c, next) => {
      if (!hostAllowed(c.req.header('host'), hosts)) return c.text('Misdirected request: unknown Host header.', 421);
      await next();
    });
  }
  // Every response: a strict CSP unless the route set its own, no sniffing, no referrer, not embeddable elsewhere.
  app.use('*', async (c, next) => {
    await next();
    const headers = c.res.headers;
    if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', PAGE_CSP);
    if (!headers.has('X-Frame-Options')) headers.set('X-Frame-Options', 'DENY');
    if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
    headers.set('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a form, and on
    // plain http (no Sec-Fetch-Site) the CSRF check could not tell our own forms from another site's.
    if (!headers.has('Referrer-Policy')) headers.set('Referrer-Policy', 'same-origin');
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  });
  // Cross-site POSTs: Sec-Fetch-Site or Origin must say same-origin; the form's token is checked in the handler too.
  app.use('*', csrf());
  // The only bodies are the action and login forms.
  app.use('*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('Request body too large.', 413) }));
  app.use('*', async (_c, next) => {
    ctx.db = await ready;
    await next();
  });
  if (ctx.auth) registerAuth(app, ctx, ctx.auth, clientAddress);

  app.get('/assets/preview.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/assets/highlight.css', async (c) => c.body(await highlightTheme(), 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/assets/preview.js', (c) => c.body(SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/events', (c) => ctx.live.handle(c));

  registerTemplateRoutes(app, ctx);
  registerOutboxRoutes(app, ctx);
  registerSuppressionRoutes(app, ctx);

  app.notFound((c) => notFound(c, ctx));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    ctx.onError(error);
    // What failed, in one line; the stack went to the server's log, never to the client.
    return c.html(
      layout({
        chrome: chrome(c, ctx),
        title: 'Error',
        body: html`<div class="error" role="alert"><h2>Something went wrong</h2><p class="error-message">This page could not be served (${
          error instanceof Error ? error.name : 'error'
        }): the details are in the preview server's log.</p></div>`,
      }),
      500,
    );
  });
  return app;
}

/**
 * The preview as a `Request → Response` function, to mount in an app's own server
 * (Express, Hono, a Next.js route) behind its own auth:
 *
 *     const preview = createPreviewHandler({ database, basePath: '/admin/mail', readOnly: true });
 *     app.all('/admin/mail/*', requireAdmin, (c) => preview(c.req.raw));
 *
 * Requests keep the base path in their URL. The database, if a URL, opens in the background (`ready`).
 */
export function createPreviewHandler(options: PreviewHandlerOptions = {}): PreviewHandler {
  const pageSize = options.pageSize ?? 25;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ConfigError(`pageSize must be a whole number of 1 or more, not ${pageSize}.`);
  const emailsDir = options.emailsDir === undefined ? undefined : resolve(options.emailsDir);
  if (emailsDir !== undefined && !existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: pass --emails DIR (the folder with your templates).`);
  const base = normalizeBase(options.basePath);
  const hosts = options.allowedHosts === undefined ? undefined : { bound: options.boundHost, allowed: options.allowedHosts.map(normalizeAllowedHost) };
  const auth = options.auth ? new Auth(options.auth) : undefined;

  let database: Awaited<ReturnType<typeof resolveDatabase>> | undefined;
  const opening = options.database === undefined ? Promise.resolve(undefined) : resolveDatabase(options.database).then((d) => (database = d));
  const ready = opening.then((d) => d?.db);
  ready.catch(() => {}); // reported through `ready` and by each request, never as an unhandled rejection

  let smtp: Transporter | undefined;
  const smtpConfig = options.smtp;
  const catalog = emailsDir ? new EmailCatalog(emailsDir) : undefined;
  const live = new LiveReload(() => catalog?.invalidate());
  if (emailsDir && options.watch !== false) live.watch(emailsDir);

  const ctx: AppContext = {
    db: undefined,
    catalog,
    live,
    smtp: smtpConfig ? () => (smtp ??= createSmtpTransport(smtpConfig, { concurrency: 1 })) : undefined,
    csrfToken: newCsrfToken(),
    base,
    readOnly: options.readOnly ?? false,
    auth,
    pageSize,
    onError: options.onError ?? printError,
    testSends: new TestSendLimiter(),
  };
  const app = createApp(ctx, hosts, ready, options.clientAddress);

  let closing: Promise<void> | undefined;
  const handler = ((request: Request, env?: unknown) => app.fetch(request, env)) as PreviewHandler;
  return Object.assign(handler, {
    ready: ready.then(() => undefined),
    reload: () => live.changed(),
    close() {
      closing ??= (async () => {
        live.close();
        await catalog?.close();
        smtp?.close();
        await opening.catch(() => undefined);
        await database?.close?.(); // set only for a database opened here, from a URL
      })();
      return closing;
    },
  });
}
