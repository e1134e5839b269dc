import type { Context } from 'hono';
import { html } from 'hono/html';
import { TEST_SUBJECT_PREFIX, TEST_HEADER } from '../test-send.js';
import { layout, type Chrome, type Html } from './layout.js';
import { chrome, type AppContext } from '../routes/context.js';

export interface TestSendFormOptions {
  chrome: Chrome;
  /** Where the form posts, relative to the base. */
  action: string;
  /** What the page shows (locale, prop set, edited props), sent along so the test is that. */
  keep: Record<string, string>;
  /** An SMTP server is configured. */
  canSend: boolean;
  /** The outcome of the test just sent, from the redirect's query. */
  sent?: { state: string; id?: number };
}

const OUTCOMES: Record<string, string> = {
  sent: 'Test sent',
  deferred: 'The SMTP server did not take the test yet (it will be retried)',
  failed: 'The SMTP server refused the test',
  sending: 'The test is still being sent',
  queued: 'The test is queued',
};

/** "Send a test": one typed address; off (and saying why) without an SMTP server, hidden when read-only. */
export function testSendForm(o: TestSendFormOptions): Html {
  if (o.chrome.readOnly) return html``;
  const notice = o.sent
    ? html`<p class="notice${o.sent.state === 'sent' ? '' : ' bad'}" id="test-sent" role="status">${OUTCOMES[o.sent.state] ?? o.sent.state}${
        o.sent.id ? html`: <a href="outbox/${o.sent.id}">outbox message ${o.sent.id}</a>` : ''
      }.</p>`
    : '';
  return html`${notice}<form method="post" action="${o.action}" id="send-test" class="send-test">
<input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
${Object.entries(o.keep).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<label for="test-to"><strong>Send a test</strong> to</label>
<input type="email" name="to" id="test-to" required placeholder="you@example.com" autocomplete="email"${o.canSend ? '' : html` disabled`}>
<button type="submit"${o.canSend ? '' : html` disabled`}>Send a test</button>
<span class="muted">${
    o.canSend
      ? `through the app's SMTP server, subject prefixed “${TEST_SUBJECT_PREFIX.trim()}”, marked ${TEST_HEADER}, recorded in the outbox`
      : 'No SMTP server configured (--smtp URL, SMTP_URL or smtp in mailroom.config): test sends are off.'
  }</span>
</form>`;
}

/** The page the form was on (a same-origin Referer), else the index. */
function backTo(c: Context): string {
  const referer = c.req.header('referer');
  try {
    if (referer && new URL(referer).origin === new URL(c.req.url).origin) return referer;
  } catch {
    // not a URL: the index
  }
  return './';
}

/** Why a test was not sent, as a page with a way back. */
export function testSendRefused(c: Context, ctx: AppContext, status: 400 | 403 | 429 | 503, message: string, headers: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.html(
    layout({
      chrome: chrome(c, ctx),
      title: 'Test not sent',
      body: html`<div class="error" role="alert" id="test-refused"><h2>Test not sent</h2><p class="error-message">${message}</p></div><p><a href="${backTo(c)}" id="back">Back</a></p>`,
    }),
    status,
  );
}
