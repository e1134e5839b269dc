import { resolveDatabase, type Database, type DrizzleDb, type Db } from '../store/database.js';
import { suppress } from '../store/suppressions.js';
import { secretList, verifyToken, type TokenClaims, type TokenProblem } from './token.js';

/** What `unsubscribeHandler` needs. */
export interface UnsubscribeHandlerOptions {
  /** Where the suppression list is: a URL, an open Database, or a Drizzle db (required: an endpoint must not guess its database). */
  database: string | Database | DrizzleDb;
  /** The secrets the links were signed with (first signs, all verify). Default: MAILROOM_UNSUBSCRIBE_SECRET, comma-separated. */
  secrets?: string | string[];
  /** What the pages call the sender, e.g. "Example News". */
  sender?: string;
  /** The clock, for tests. */
  now?: () => number;
}

const PROBLEMS: Record<TokenProblem, { status: number; text: string }> = {
  malformed: { status: 400, text: 'This unsubscribe link is incomplete. Copy the whole link from the email, or use the unsubscribe link in a newer email.' },
  forged: { status: 403, text: 'This unsubscribe link is not valid. Use the unsubscribe link in the email you received.' },
  expired: { status: 410, text: 'This unsubscribe link has expired. Use the unsubscribe link in a newer email.' },
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-robots-tag': 'noindex',
      'x-content-type-options': 'nosniff',
      // No script at all; the form posts back to this same URL.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    },
  });
}

const MAX_BODY = 16 * 1024;

/** The one-click body (RFC 8058 §3.2: `List-Unsubscribe=One-Click`, form-encoded or multipart), read with a size bound. */
async function isOneClick(request: Request): Promise<boolean> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY) return false;
  const type = request.headers.get('content-type') ?? '';
  if (/^multipart\/form-data/i.test(type)) {
    const form = await request.formData().catch(() => undefined);
    return form?.get('List-Unsubscribe') === 'One-Click';
  }
  const text = (await request.text()).slice(0, MAX_BODY);
  return new URLSearchParams(text.trim()).get('List-Unsubscribe') === 'One-Click';
}

/**
 * The endpoint a List-Unsubscribe link points at: a standard `(Request) => Promise<Response>`
 * to mount in Express, Hono, a Next.js route or node:http (e.g. `getRequestListener` from
 * @hono/node-server).
 *
 * - POST with the body `List-Unsubscribe=One-Click` and a valid token suppresses the
 *   token's address for its topic (reason `unsubscribed`, source `one-click`), idempotently;
 *   no cookie or CSRF token is asked for, as RFC 8058 requires (the signed token is the proof).
 * - GET shows a page with a button that makes that POST. GET never unsubscribes: link
 *   scanners and prefetchers follow links.
 * - A malformed, forged or expired token gets a 4xx page and changes nothing.
 */
export function unsubscribeHandler(options: UnsubscribeHandlerOptions): (request: Request) => Promise<Response> {
  const secrets = secretList(options.secrets ?? process.env.MAILROOM_UNSUBSCRIBE_SECRET);
  const now = options.now ?? Date.now;
  const sender = options.sender ?? 'this sender';
  let opened: Promise<{ db: Db }> | undefined;
  const database = () => (opened ??= resolveDatabase(options.database));
  const what = (claims: TokenClaims) => (claims.topic ? `“${escapeHtml(claims.topic)}” emails from ${escapeHtml(sender)}` : `emails from ${escapeHtml(sender)}`);

  return async (request) => {
    const token = new URL(request.url).searchParams.get('token') ?? '';
    const verified = verifyToken(token, secrets, now());
    if ('problem' in verified) {
      const problem = PROBLEMS[verified.problem];
      return page(problem.status, 'Unsubscribe', `<p>${escapeHtml(problem.text)}</p>`);
    }
    const { claims } = verified;
    if (request.method === 'GET' || request.method === 'HEAD') {
      return page(
        200,
        'Unsubscribe',
        `<p>Stop sending ${what(claims)} to <strong>${escapeHtml(claims.address)}</strong>?</p>` +
          `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    }
    if (request.method !== 'POST') {
      const response = page(405, 'Unsubscribe', '<p>Use the link in the email.</p>');
      response.headers.set('allow', 'GET, HEAD, POST');
      return response;
    }
    if (!(await isOneClick(request))) {
      return page(400, 'Unsubscribe', '<p>The request did not say <code>List-Unsubscribe=One-Click</code>: nothing was changed.</p>');
    }
    const { db } = await database();
    await suppress(db, { address: claims.address, topic: claims.topic, reason: 'unsubscribed', source: 'one-click' });
    return page(200, 'Unsubscribed', `<p><strong>${escapeHtml(claims.address)}</strong> will get no more ${what(claims)}.</p>`);
  };
}
