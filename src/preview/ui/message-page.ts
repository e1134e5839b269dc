import { html } from 'hono/html';
import type { AttemptRow, MessageRow } from '../../store/schema.js';
import { priorityFromRank } from '../../views/priority.js';
import { ACTIONS, type Action } from '../outbox.js';
import type { StoredMessage } from '../stored-message.js';
import { bytes, emailFrame, layout, when, widthSwitch, type Chrome, type Html } from './layout.js';
import { stateBadge } from './outbox-page.js';

export interface MessagePageOptions {
  chrome: Chrome;
  row: Omit<MessageRow, 'raw'>;
  parsed: StoredMessage;
  attempts: AttemptRow[];
  width: 'desktop' | 'mobile';
  notice?: { text: string; bad?: boolean };
  /** Whether "Send now" delivers at once (an SMTP server was given) or only makes it due. */
  canDeliver: boolean;
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

/** One message as stored: parsed from its raw bytes, with its state, recipients, attempts and attachments. */
export function messagePage(o: MessagePageOptions): Html {
  const { row, parsed } = o;
  const id = row.id;
  const meta: [string, Html | string][] = [
    ['From', parsed.from],
    ['To', parsed.to],
    ...(parsed.cc ? [['Cc', parsed.cc] as [string, string]] : []),
    ...(parsed.replyTo ? [['Reply-To', parsed.replyTo] as [string, string]] : []),
    ['Subject', parsed.subject],
    ['Date', when(parsed.date)],
    ['Message-ID', parsed.messageId],
    ['Priority', priorityFromRank(row.priority)],
    ['State', stateBadge(row.state)],
    ['Envelope', html`from ${row.envelopeFrom || '<>'} to ${row.recipients.join(', ')}`],
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
${actionForms(o)}
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

<div class="toolbar"><strong>HTML</strong>${widthSwitch(`outbox/${id}`, o.width)}</div>
${parsed.html !== null ? emailFrame(`outbox/${id}/html`, o.width) : html`<p class="muted">This message has no HTML part.</p>`}

<h2>Plain text</h2>
<pre id="text">${parsed.text}</pre>

<h2>Recipients</h2>
<table id="recipients">
<thead><tr><th>Address</th><th>Status</th><th>Reply</th></tr></thead>
<tbody>
${row.recipients.map((r) => {
  const status = row.recipientStatus[r];
  return html`<tr><td>${r}</td><td>${status?.state ?? 'waiting'}</td><td class="wrap">${status?.reply ?? ''}</td></tr>`;
})}
</tbody>
</table>

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
  <td class="wrap">${a.recipients.join(', ')}</td>
  <td>${when(a.finishedAt)}</td>
  <td class="muted">${a.worker ?? ''}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="muted">Not tried yet.</p>`
}

<h2>Headers</h2>
<pre id="headers">${parsed.headerLines.map((h) => h.line).join('\n')}</pre>`;
  return layout({ chrome: o.chrome, title: parsed.subject || `Message #${id}`, section: 'outbox', body });
}
