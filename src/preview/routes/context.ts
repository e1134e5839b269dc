import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Transporter } from 'nodemailer';
import type { Db } from '../../store/database.js';
import { DOWNLOAD_CSP, contentDisposition, emailCsp } from '../security.js';
import type { EmailCatalog } from '../templates.js';
import type { LiveReload } from '../live-reload.js';
import { layout, type Chrome } from '../ui/layout.js';
import type { Auth } from '../auth/login.js';
import type { TestSendLimiter } from '../test-send.js';

/** What the route modules share: built once by createPreviewHandler, passed to each. */
export interface AppContext {
  /** Set once the database is open (before any route runs). */
  db: Db | undefined;
  catalog: EmailCatalog | undefined;
  live: LiveReload;
  smtp: (() => Transporter) | undefined;
  csrfToken: string;
  /** The path the preview is mounted under, no trailing slash: '' or '/admin/mail'. */
  base: string;
  readOnly: boolean;
  /** Logins, when the preview has its own. */
  auth: Auth | undefined;
  pageSize: number;
  onError: (error: unknown) => void;
  /** Test sends of this server, all pages together. */
  testSends: TestSendLimiter;
}

/** The page chrome for this request: base path, logged-in user, read-only badge. */
export const chrome = (c: Context, ctx: AppContext): Chrome => ({
  base: ctx.base,
  user: c.get('user' as never) as string | undefined,
  csrfToken: ctx.csrfToken,
  readOnly: ctx.readOnly,
});

export { frameViewOf } from '../frame-view.js';

export const notFound = (c: Context, ctx: AppContext, what = 'Not found') =>
  c.html(layout({ chrome: chrome(c, ctx), title: 'Not found', body: html`<h1>${what}</h1><p><a href="./">Templates</a> · <a href="outbox">Outbox</a></p>` }), 404);

/** Whether the viewer asked for this message's remote images (`?images=1`); off by default. */
export const remoteImages = (c: Context): boolean => c.req.query('images') === '1';

/** An email's own HTML, for the preview's sandboxed iframe; remote images only when asked for. */
export const emailHtml = (c: Context, body: string, remote: boolean, template = false) =>
  c.body(body, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': emailCsp(remote, template), 'X-Frame-Options': 'SAMEORIGIN', 'Referrer-Policy': 'no-referrer' });

/** The `:index` of an attachment URL, or undefined when it is not a plain number. */
export function attachmentIndex(c: Context): number | undefined {
  const index = c.req.param('index') ?? '';
  return /^\d{1,6}$/.test(index) ? Number(index) : undefined;
}

/** A file download: exact bytes, a content type that is only ever a type, the name encoded (never a path). */
export function download(content: Buffer, contentType: string, filename: string): Response {
  return new Response(new Uint8Array(content.buffer, content.byteOffset, content.byteLength), {
    headers: {
      'Content-Type': contentType,
      'Content-Length': String(content.length),
      'Content-Disposition': contentDisposition(filename),
      'Content-Security-Policy': DOWNLOAD_CSP,
    },
  });
}
