import { html } from 'hono/html';
import type { AttemptRow, MessageRow, SuppressionRow } from '../../store/schema.js';
import { suppressionEntryUrl } from './suppressions-page.js';
import { priorityFromRank } from '../../store/priority-rank.js';
import { ACTIONS, type Action } from '../outbox.js';
import type { StoredMessage } from '../stored-message.js';
import { bytes, clipped, emailFrame, layout, shortList, when, widthSwitch, type Chrome, type Html } from './layout.js';
import { stateBadge } from './outbox-page.js';
import { frameQuery, type FrameView } from '../frame-view.js';
import { testSendForm } from './test-send.js';
import { TEST_HEADER } from '../test-send.js';

export interface MessagePageOptions {
  chrome: Chrome;
  row: Omit<MessageRow, 'raw'>;
  parsed: StoredMessage;
  attempts: AttemptRow[];
  view: FrameView;
  /** Which page of the recipients table (RECIPIENTS_PAGE each). */
  recipientsPage: number;
  /** Remote images load (the viewer asked); off by default, so tracking pixels do not fire. */
  images: boolean;
  notice?: { text: string; bad?: boolean };
  /** Whether "Send now" delivers at once (an SMTP server was given) or only makes it due. */
  canDeliver: boolean;
  /** Whether "Send a test" can send (an SMTP server was given). */
  canSendTest?: boolean;
  /** The suppressions that stop recipients on the shown page, by recipient: each links to its entry. */
  suppressed?: ReadonlyMap<string, SuppressionRow>;
}

const LABELS: Record<Action, string> = { retry: 'Retry', 'send-now': 'Send now', delete: 'Delete' };

function actionForms(o: MessagePageOptions): Html {
  const id = o.row.id;
  const available = (Object.keys(ACTIONS) as Action[]).filter((a) => (ACTIONS[a] as readonly string[]).includes(o.row.state));
  if (!available.length || o.chrome.readOnly) return html``;
  return html`<div class="actions">
${available.map(
  (a) => html`<form method="post" action="outbox/${id}/${a}">
  <input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
  <button type="submit" class="${a === 'delete' ? 'danger' : a === 'send-now' ? 'primary' : ''}" title="${
    a === 'send-now' ? (o.canDeliver ? 'deliver over SMTP now' : 'make it due now: the next drain sends it') : ''
  }">${LABELS[a]}</button>
</form>`,
)}
</div>`;
}

/** The frame's own query: remote images and the colour scheme, when asked for. */
function frameSrcQuery(o: MessagePageOptions): string {
  const query = new URLSearchParams({ ...(o.images ? { images: '1' } : {}), ...(o.view.dark ? { scheme: 'dark' } : {}) }).toString();
  return query ? `?${query}` : '';
}

/** What a test copy was a test of (its X-Mailroom-Test header), or undefined for a real message. */
function testOf(o: MessagePageOptions): string | undefined {
  const line = o.parsed.headerLines.find((h) => h.key === TEST_HEADER.toLowerCase())?.line;
  return line ? line.slice(line.indexOf(':') + 1).trim() : undefined;
}

/** Recipients per page of the message's table: a message to 20,000 people shows them 100 at a time. */
export const RECIPIENTS_PAGE = 100;

/** The recipients on one page of the table (the page number clamped to the last). */
export function recipientsOnPage(recipients: readonly string[], page: number): string[] {
  const last = Math.max(1, Math.ceil(recipients.length / RECIPIENTS_PAGE));
  const shown = Math.min(page, last);
  return recipients.slice((shown - 1) * RECIPIENTS_PAGE, shown * RECIPIENTS_PAGE);
}

function recipientsPager(o: MessagePageOptions, pages: number): Html {
  const page = Math.min(o.recipientsPage, pages);
  const link = (n: number) => {
    const query = new URLSearchParams({ ...frameQuery(o.view), ...(o.images ? { images: '1' } : {}), ...(n > 1 ? { recipients: String(n) } : {}) }).toString();
    return `outbox/${o.row.id}${query ? `?${query}` : ''}#recipients`;
  };
  return html`<nav class="pager" id="recipients-pager" aria-label="Recipient pages">
  ${page > 1 ? html`<a rel="prev" href="${link(page - 1)}">← Previous ${RECIPIENTS_PAGE}</a>` : ''}
  <span class="page-info">Recipients ${((page - 1) * RECIPIENTS_PAGE + 1).toLocaleString('en')}–${Math.min(page * RECIPIENTS_PAGE, o.row.recipients.length).toLocaleString('en')} of ${o.row.recipients.length.toLocaleString('en')}</span>
  ${page < pages ? html`<a rel="next" href="${link(page + 1)}">Next ${RECIPIENTS_PAGE} →</a>` : ''}
</nav>`;
}

/** "Load remote images" / "Block remote images": a link, so the choice is per view and lives in the URL. */
function imagesToggle(o: MessagePageOptions): Html {
  const query = new URLSearchParams({ ...frameQuery(o.view), ...(o.images ? {} : { images: '1' }) }).toString();
  const href = `outbox/${o.row.id}${query ? `?${query}` : ''}`;
  return o.images
    ? html`<a id="images" class="images-toggle" href="${href}">Block remote images</a>`
    : html`<a id="images" class="images-toggle" href="${href}">Load remote images</a> <span class="muted">(blocked: they could tell the sender it was opened)</span>`;
}

/** One message as stored: parsed from its raw bytes, with its state, recipients, attempts and attachments. */
export function messagePage(o: MessagePageOptions): Html {
  const { row, parsed } = o;
  const id = row.id;
  const recipientPages = Math.max(1, Math.ceil(row.recipients.length / RECIPIENTS_PAGE));
  const recipientsPage = Math.min(o.recipientsPage, recipientPages);
  const recipientsShown = recipientsOnPage(row.recipients, recipientsPage);
  const meta: [string, Html | string][] = [
    ['From', parsed.from],
    ['To', parsed.to],
    ...(parsed.cc ? [['Cc', parsed.cc] as [string, string]] : []),
    ...(parsed.replyTo ? [['Reply-To', parsed.replyTo] as [string, string]] : []),
    ['Subject', parsed.subject],
    ['Date', when(parsed.date)],
    ['Message-ID', parsed.messageId],
    // The mail view that built it (its class name), linked to the outbox filtered on it; none for plain nodemailer messages.
    ['View', row.view ? html`<a id="message-view" href="outbox?${new URLSearchParams({ view: row.view }).toString()}">${row.view}</a>` : html`<span class="muted" id="message-view">none: not sent through a mail view</span>`],
    ['Priority', priorityFromRank(row.priority)],
    ['State', stateBadge(row.state)],
    ['Envelope', html`from ${row.envelopeFrom || '<>'} to ${shortList(row.recipients, row.recipients.length, 3)}`],
    ['Created', when(row.createdAt)],
    ...(row.sendAt.getTime() - row.createdAt.getTime() > 1000 ? [['Not before', when(row.sendAt)] as [string, string]] : []),
    ...(row.state === 'queued' || row.state === 'deferred' ? [['Next attempt', when(row.nextAttemptAt)] as [string, string]] : []),
    ...(row.sentAt ? [['Sent', when(row.sentAt)] as [string, string]] : []),
    ['Attempts', String(row.attempts)],
    ['Size', bytes(row.size)],
    ...(row.lastError ? [['Last error', row.lastError] as [string, string]] : []),
  ];
  const body = html`
<h1>${parsed.subject || row.subject || '(no subject)'}</h1>
<p class="muted">Message #${id} ${stateBadge(row.state)} · <a href="outbox">back to the outbox</a></p>
${o.notice ? html`<p class="notice${o.notice.bad ? ' bad' : ''}" role="status">${o.notice.text}</p>` : ''}
${testOf(o) ? html`<p class="badge test-badge" id="test-badge">Test send: ${testOf(o)}</p>` : ''}
${actionForms(o)}
${testSendForm({ chrome: o.chrome, action: `outbox/${o.row.id}/send-test`, keep: {}, canSend: Boolean(o.canSendTest) })}
<table class="meta" id="meta">
${meta.map(([k, v]) => html`<tr><th scope="row">${k}</th><td class="wrap">${v}</td></tr>`)}
</table>

<h2>Attachments</h2>
${
  parsed.attachments.length
    ? html`<ul class="files" id="attachments">${parsed.attachments.map(
        (a, i) =>
          html`<li><a href="outbox/${id}/attachments/${i}">${a.filename}</a> <span class="muted">${a.contentType}, ${bytes(a.size)}${a.related ? ', inline' : ''}</span></li>`,
      )}</ul>`
    : html`<p class="muted">None.</p>`
}
<p><a id="raw" href="outbox/${id}/raw">Download the raw message (.eml)</a></p>

<div class="toolbar"><strong>HTML</strong>${widthSwitch(`outbox/${id}`, o.view, o.images ? { images: '1' } : {})}${imagesToggle(o)}</div>
${parsed.html !== null ? emailFrame(`outbox/${id}/html${frameSrcQuery(o)}`, o.view) : html`<p class="muted">This message has no HTML part.</p>`}

<h2>Plain text</h2>
<pre id="text">${parsed.text}</pre>

<h2>Recipients <span class="muted">${row.recipients.length.toLocaleString('en')}</span></h2>
<table id="recipients">
<thead><tr><th>Address</th><th>Status</th><th>Reply</th><th>Suppressed</th></tr></thead>
<tbody>
${recipientsShown.map((r) => {
  const status = row.recipientStatus[r];
  const suppression = o.suppressed?.get(r);
  return html`<tr><td>${r}</td><td>${status?.state ?? 'waiting'}</td><td class="wrap">${status?.reply ?? ''}</td><td>${
    suppression
      ? html`<a class="suppression-link" href="${suppressionEntryUrl(suppression)}">${suppression.reason}${suppression.topic ? ` (topic ${suppression.topic})` : ''}</a>`
      : ''
  }</td></tr>`;
})}
</tbody>
</table>
${recipientPages > 1 ? recipientsPager(o, recipientPages) : ''}

<h2>Attempts</h2>
${
  o.attempts.length
    ? html`<table id="attempts">
<thead><tr><th class="num">#</th><th>Outcome</th><th>SMTP</th><th>Reply</th><th>Recipients</th><th>Finished</th><th>Worker</th></tr></thead>
<tbody>
${o.attempts.map(
  (a) => html`<tr>
  <td class="num">${a.attempt}</td>
  <td>${stateBadge(a.outcome)}</td>
  <td>${a.smtpCode ?? ''}</td>
  <td class="wrap">${a.reply}</td>
  <td class="wrap">${shortList(a.recipients, a.recipients.length, 3)}</td>
  <td>${when(a.finishedAt)}</td>
  <td class="muted">${a.worker ?? ''}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="muted">Not tried yet.</p>`
}

<h2>Headers</h2>
<pre id="headers">${parsed.headerLines.map((h) => clipped(h.line)).join('\n')}</pre>`;
  return layout({ chrome: o.chrome, title: parsed.subject || `Message #${id}`, section: 'outbox', body });
}
