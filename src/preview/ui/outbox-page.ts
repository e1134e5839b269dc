import { html } from 'hono/html';
import { MESSAGE_STATES, type MessageState } from '../../store/schema.js';
import { priorityFromRank } from '../../store/priority-rank.js';
import type { OutboxRow } from '../outbox.js';
import { layout, shortList, when, type Chrome, type Html } from './layout.js';

export interface OutboxPageOptions {
  chrome: Chrome;
  rows: OutboxRow[];
  total: number;
  counts: Record<MessageState, number>;
  state?: MessageState;
  search: string;
  /** Only this mail view's messages. */
  view?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
  page: number;
  pageSize: number;
  notice?: string;
}

const messageUrl = (id: number) => `outbox/${id}`;

export function stateBadge(state: MessageState): Html {
  return html`<span class="state state-${state}">${state}</span>`;
}

/** `outbox?state=…&q=…&view=…&page=N`: links keep the others when one changes. */
function outboxUrl(params: { state?: MessageState | undefined; q?: string; view?: string | undefined; page?: number; after?: string | undefined; before?: string | undefined }): string {
  const query = new URLSearchParams();
  if (params.state) query.set('state', params.state);
  if (params.q) query.set('q', params.q);
  if (params.view) query.set('view', params.view);
  if (params.after) query.set('after', params.after);
  if (params.before) query.set('before', params.before);
  if (params.page && params.page > 1) query.set('page', String(params.page));
  const text = query.toString();
  return text ? `outbox?${text}` : 'outbox';
}

/** The queue, newest first: filter by state, search recipients and subjects, page through. */
export function outboxPage(o: OutboxPageOptions): Html {
  // Every link of this page keeps the date range.
  const link = (params: Parameters<typeof outboxUrl>[0]) => outboxUrl({ ...params, after: o.after, before: o.before });
  const pages = Math.max(1, Math.ceil(o.total / o.pageSize));
  const all = Object.values(o.counts).reduce((a, b) => a + b, 0);
  const stateLink = (state: MessageState | undefined, label: string, n: number) =>
    html`<a href="${link({ state, q: o.search, view: o.view })}" aria-current="${o.state === state ? 'true' : 'false'}">${label} <span class="count">${n}</span></a>`;
  const body = html`
<h1>Outbox</h1>
<p class="muted">Every message in the queue, newest first: what was sent, and what will be.</p>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
<form class="search" method="get" action="outbox" role="search">
  ${o.state ? html`<input type="hidden" name="state" value="${o.state}">` : ''}
  ${o.view ? html`<input type="hidden" name="view" value="${o.view}">` : ''}
  <input type="search" name="q" value="${o.search}" placeholder="Recipient or subject" aria-label="Search recipients and subjects">
  <label>from <input type="date" name="after" id="after" value="${o.after ?? ''}"></label>
  <label>to <input type="date" name="before" id="before" value="${o.before ?? ''}"></label>
  <button type="submit">Search</button>
  ${o.search ? html`<a href="${link({ state: o.state, view: o.view })}">clear</a>` : ''}
  ${o.view ? html`<span class="view-filter">view <strong>${o.view}</strong> <a href="${link({ state: o.state, q: o.search })}">all views</a></span>` : ''}
</form>
<nav class="states" aria-label="Filter by state">
  ${stateLink(undefined, 'all', all)}
  ${MESSAGE_STATES.map((s) => stateLink(s, s, o.counts[s]))}
</nav>
${
  o.chrome.readOnly || !o.rows.length
    ? ''
    : html`<form method="post" action="outbox/bulk" id="bulk" class="actions">
  <input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
  ${filterFields(o)}
  <button type="submit" name="action" value="retry">Retry all these…</button>
  <button type="submit" name="action" value="delete" class="danger">Delete all these…</button>
  <span class="muted">every message the filters select, not only this page: you confirm the count first</span>
</form>`
}
${
  o.rows.length
    ? html`<table id="outbox">
<thead><tr><th class="num">#</th><th>State</th><th>Priority</th><th>View</th><th>Subject</th><th>To</th><th>Created</th><th class="num">Attempts</th><th>Last error</th></tr></thead>
<tbody>
${o.rows.map(
  (m) => html`<tr data-id="${m.id}">
  <td class="num">${m.id}</td>
  <td>${stateBadge(m.state)}</td>
  <td>${priorityFromRank(m.priority)}</td>
  <td class="view">${m.view ? html`<a href="${link({ state: o.state, q: o.search, view: m.view })}">${m.view}</a>` : ''}</td>
  <td class="wrap"><a class="subject" href="${messageUrl(m.id)}">${m.subject || '(no subject)'}</a></td>
  <td class="wrap recipients">${shortList(m.recipients ?? [], m.recipientCount)}</td>
  <td class="nowrap">${when(m.createdAt)}</td>
  <td class="num">${m.attempts}</td>
  <td class="wrap muted">${m.lastError ? m.lastError.slice(0, 160) : ''}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="empty">${o.search || o.state || o.view ? 'No message matches.' : 'The queue is empty: messages appear here as soon as an app queues them.'}</p>`
}
<nav class="pager" aria-label="Pages">
  ${o.page > 1 ? html`<a rel="prev" href="${link({ state: o.state, q: o.search, view: o.view, page: o.page - 1 })}">← Newer</a>` : ''}
  <span class="page-info">Page ${o.page} of ${pages} · ${o.total} message${o.total === 1 ? '' : 's'}</span>
  ${o.page < pages ? html`<a rel="next" href="${link({ state: o.state, q: o.search, view: o.view, page: o.page + 1 })}">Older →</a>` : ''}
</nav>`;
  return layout({ chrome: o.chrome, title: 'Outbox', section: 'outbox', body });
}

/** The filters as hidden fields, so a form acts on exactly what the list shows. */
function filterFields(f: { state?: string | undefined; search?: string; view?: string | undefined; after?: string | undefined; before?: string | undefined }): Html {
  const fields = Object.entries({ state: f.state, q: f.search, view: f.view, after: f.after, before: f.before }).filter((e): e is [string, string] => Boolean(e[1]));
  return html`${fields.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;
}

/** "Retry 37 messages?": what a bulk action would change, before it does. */
export function bulkConfirmPage(o: {
  chrome: Chrome;
  action: 'retry' | 'delete';
  count: number;
  filter: { state?: string | undefined; search?: string; view?: string | undefined; after?: string | undefined; before?: string | undefined };
  back: string;
}): Html {
  const verb = o.action === 'retry' ? 'Retry' : 'Delete';
  const states = o.action === 'retry' ? 'deferred or failed' : 'queued or deferred';
  const body = html`<h1>${verb} ${o.count} message${o.count === 1 ? '' : 's'}?</h1>
<p id="bulk-summary">${o.count} ${states} message${o.count === 1 ? '' : 's'} match the filters${
    o.action === 'retry' ? ' and will be due now (failed ones with a fresh attempt budget)' : ' and will be removed from the queue for good'
  }. Others the filters select are left as they are.</p>
${
  o.count
    ? html`<form method="post" action="outbox/bulk" class="actions" id="bulk-confirm">
  <input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
  <input type="hidden" name="action" value="${o.action}">
  <input type="hidden" name="confirmed" value="1">
  ${filterFields(o.filter)}
  <button type="submit" class="${o.action === 'delete' ? 'danger' : 'primary'}">${verb} ${o.count}</button>
  <a href="${o.back}">Cancel</a>
</form>`
    : html`<p><a href="${o.back}">Back to the outbox</a></p>`
}`;
  return layout({ chrome: o.chrome, title: `${verb} messages`, section: 'outbox', body });
}
