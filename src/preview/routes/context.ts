import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Transporter } from 'nodemailer';
import type { Db } from '../../store/database.js';
import { DOWNLOAD_CSP, contentDisposition } from '../security.js';
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

export type Width = 'desktop' | 'mobile';

export const width = (c: Context): Width => (c.req.query('width') === 'mobile' ? 'mobile' : 'desktop');

export const notFound = (c: Context, what = 'Not found') =>
  c.html(layout({ title: 'Not found', body: html`<h1>${what}</h1><p><a href="/">Templates</a> · <a href="/outbox">Outbox</a></p>` }), 404);

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
