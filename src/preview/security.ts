import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The preview's own pages: scripts and styles only from /assets, frames only from
 * this server, forms only to this server, never framed by anyone.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'self'", // the pages' <base href> (where the preview is mounted)
  "frame-ancestors 'none'",
].join('; ');

/** The iframe's sandbox, also the CSP's: links may open a new tab, nothing may run. */
export const IFRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

/**
 * The app's own template (never a stored message): same origin as the page, so the
 * page's script can read the rendered height and size the frame to it. Still no
 * allow-scripts and a CSP with no script source, so nothing in the frame can run: the
 * pair MDN warns about is allow-scripts with allow-same-origin, and this is one of them.
 */
export const TEMPLATE_IFRAME_SANDBOX = `${IFRAME_SANDBOX} allow-same-origin`;

/**
 * An email's HTML (a template's, or a stored message's, which may be hostile). The
 * `sandbox` directive (no allow-scripts, no allow-same-origin) holds even when the URL
 * is opened directly rather than in the page's sandboxed iframe; on top of it no
 * script, no fetch, no form, no plugin may load. Inline styles and data: images are
 * what an email needs to look right. Remote images and fonts only when asked for
 * (`remote`): as in a mail client, opening a message must not fire its tracking pixels.
 */
export function emailCsp(remote: boolean, template = false): string {
  const sources = remote ? 'data: https: http:' : 'data:';
  return [
    `sandbox ${template ? TEMPLATE_IFRAME_SANDBOX : IFRAME_SANDBOX}`,
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src ${sources}`,
    `font-src ${sources}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** Downloads (attachments, .eml): never rendered as a page, whatever their bytes. */
export const DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'";


/** A path segment that must be a message id: digits only, a safe integer above 0. */
export function parseId(text: string | undefined): number | null {
  if (!text || !/^[0-9]{1,16}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** A `type/subtype` taken from a stored message, or octet-stream when it is anything else. */
export function safeContentType(value: string | undefined): string {
  const type = (value ?? '').trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type) ? type : 'application/octet-stream';
}

/**
 * `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266 and
 * RFC 5987): the name is data, never part of a path, and cannot break out of the header.
 */
export function contentDisposition(filename: string): string {
  const name = filename.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim() || 'download';
  const ascii = name.replace(/[^\x20-\x7e]/gu, '_').replace(/["%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** A per-server secret that every form carries; a cross-site page cannot read it. */
export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

export function csrfTokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
