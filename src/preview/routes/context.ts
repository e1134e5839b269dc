import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Transporter } from 'nodemailer';
import type { Db } from '../../store/database.js';
import { DOWNLOAD_CSP, EMAIL_CSP, contentDisposition } from '../security.js';
import type { EmailCatalog } from '../templates.js';
import type { LiveReload } from '../live-reload.js';
import { layout } from '../ui/layout.js';

/** What the route modules share: built once by startPreviewServer, passed to each. */
export interface AppContext {
  db: Db | undefined;
  catalog: EmailCatalog | undefined;
  live: LiveReload;
  smtp: (() => Transporter) | undefined;
  csrfToken: string;
  host: string;
  pageSize: number;
  onError: (error: unknown) => void;
}

type Width = 'desktop' | 'mobile';

export const width = (c: Context): Width => (c.req.query('width') === 'mobile' ? 'mobile' : 'desktop');

export const notFound = (c: Context, what = 'Not found') =>
  c.html(layout({ title: 'Not found', body: html`<h1>${what}</h1><p><a href="/">Templates</a> · <a href="/outbox">Outbox</a></p>` }), 404);

/** An email's own HTML, for the preview's sandboxed iframe. */
export const emailHtml = (c: Context, body: string) =>
  c.body(body, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': EMAIL_CSP, 'X-Frame-Options': 'SAMEORIGIN' });

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
