import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { createAdaptorServer } from '@hono/node-server';
import type { Transporter } from 'nodemailer';
import { resolveDatabase, type Database, type Db } from '../store/database.js';
import { createSmtpTransport, type SmtpConfig } from '../drain/smtp.js';
import { ConfigError } from '../errors.js';
import { PAGE_CSP, newCsrfToken } from './security.js';
import { hostAllowed, isLoopbackBind } from './hosts.js';
import { EmailCatalog } from './templates.js';
import { LiveReload } from './live-reload.js';
import { SCRIPT, STYLE } from './ui/assets.js';
import { errorBox, layout } from './ui/layout.js';
import { notFound, type AppContext } from './routes/context.js';
import { registerTemplateRoutes } from './routes/templates.js';
import { registerOutboxRoutes } from './routes/outbox.js';

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

/** Assembles the app: the middleware every response passes through, then the routes/ modules in order. */
function createApp(ctx: AppContext): Hono {
  const app = new Hono();

  // A loopback server answers loopback literals and localhost only (DNS rebinding: see hosts.ts).
  app.use('*', async (c, next) => {
    if (isLoopbackBind(ctx.host) && !hostAllowed(c.req.header('host'), { bound: ctx.host, allowed: [] })) {
      return c.text('Misdirected request: unknown Host header.', 421);
    }
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

  registerTemplateRoutes(app, ctx);
  registerOutboxRoutes(app, ctx);

  app.notFound((c) => notFound(c));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    ctx.onError(error);
    return c.html(layout({ title: 'Error', body: errorBox('Something went wrong', error) }), 500);
  });
  return app;
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

  const database = options.database === undefined ? undefined : await resolveDatabase(options.database);
  const db = database?.db;

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
    await database?.close?.();
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
