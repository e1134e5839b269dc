import { html } from 'hono/html';
import { SUPPRESSION_REASONS, type SuppressionReason, type SuppressionRow } from '../../store/schema.js';
import { EVERY_MESSAGE } from '../suppressions.js';
import { errorBox, layout, when, type Chrome, type Html } from './layout.js';
import { visibleText } from './visible-text.js';

export interface SuppressionsPageOptions {
  chrome: Chrome;
  rows: SuppressionRow[];
  total: number;
  counts: Record<SuppressionReason, number>;
  /** Topics there are, for the scope filter. */
  topics: string[];
  reason?: SuppressionReason | undefined;
  scope?: string | undefined;
  search: string;
  page: number;
  pageSize: number;
  notice?: string | undefined;
  /** The add form's refusal, with what was typed (shown again). */
  addError?: { error: unknown; address: string; topic: string; note: string } | undefined;
}

interface Query {
  reason?: string | undefined;
  scope?: string | undefined;
  q?: string | undefined;
  page?: number | undefined;
}

/** `suppressions?reason=…&scope=…&q=…&page=N`: every filter lives in the URL, so a filtered view can be linked. */
export function suppressionsUrl(params: Query): string {
  const query = new URLSearchParams();
  if (params.reason) query.set('reason', params.reason);
  if (params.scope) query.set('scope', params.scope);
  if (params.q) query.set('q', params.q);
  if (params.page && params.page > 1) query.set('page', String(params.page));
  const text = query.toString();
  return text ? `suppressions?${text}` : 'suppressions';
}

/** The link to one entry: the list filtered to exactly it (the message page uses it too). */
export const suppressionEntryUrl = (row: Pick<SuppressionRow, 'address' | 'topic'>): string =>
  suppressionsUrl({ q: row.address, scope: row.topic || EVERY_MESSAGE });

const scopeLabel = (topic: string): Html => (topic ? html`topic <strong>${topic}</strong>` : html`<span class="muted">every message</span>`);

/** The filters as hidden fields, so a form keeps the view it was sent from. */
const keepFields = (o: SuppressionsPageOptions, without: keyof Query | '' = ''): Html =>
  html`${Object.entries({ reason: o.reason, scope: o.scope, q: o.search })
    .filter((e): e is [string, string] => Boolean(e[1]) && e[0] !== without)
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;

function addForm(o: SuppressionsPageOptions): Html {
  const typed = o.addError;
  return html`<form method="post" action="suppressions/add" id="add-suppression" class="suppress-add">
  <input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
  ${keepFields(o)}
  <label>Address <input type="text" name="address" required placeholder="someone@example.com" value="${typed?.address ?? ''}" autocomplete="off"></label>
  <label>Topic <input type="text" name="topic" placeholder="empty: every message" value="${typed?.topic ?? ''}" autocomplete="off"></label>
  <label class="grow">Note <input type="text" name="note" maxlength="1000" placeholder="why (kept with it, and on each message it stops)" value="${typed?.note ?? ''}"></label>
  <button type="submit" class="primary">Suppress</button>
</form>`;
}

/** The suppression list: newest first, filtered by reason, scope and address, paged; add and remove unless read-only. */
export function suppressionsPage(o: SuppressionsPageOptions): Html {
  const pages = Math.max(1, Math.ceil(o.total / o.pageSize));
  const all = Object.values(o.counts).reduce((a, b) => a + b, 0);
  const here = { reason: o.reason, scope: o.scope, q: o.search };
  const reasonLink = (reason: SuppressionReason | undefined, label: string, n: number) =>
    html`<a href="${suppressionsUrl({ ...here, reason })}" data-reason="${reason ?? ''}" aria-current="${o.reason === reason ? 'true' : 'false'}">${label} <span class="count">${n.toLocaleString('en')}</span></a>`;
  const filtered = Boolean(o.reason || o.scope || o.search);
  const body = html`
<h1>Suppressions</h1>
<p class="muted">Addresses not mailed, for every message or one topic, and why: unsubscribes, hard bounces, complaints and manual blocks. Newest first.</p>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.addError ? errorBox('Not suppressed', o.addError.error) : ''}
${o.chrome.readOnly ? '' : addForm(o)}
<form class="search" method="get" action="suppressions" role="search" id="suppression-filters">
  ${keepFields(o, 'scope')}
  <input type="search" name="q" value="${o.search}" placeholder="Address, or part of one" aria-label="Search addresses">
  <select name="scope" aria-label="Scope" id="scope">
    <option value=""${o.scope ? '' : html` selected`}>every scope</option>
    <option value="${EVERY_MESSAGE}"${o.scope === EVERY_MESSAGE ? html` selected` : ''}>every message</option>
    ${[...new Set([...o.topics, ...(o.scope && o.scope !== EVERY_MESSAGE ? [o.scope] : [])])].map(
      (t) => html`<option value="${t}"${o.scope === t ? html` selected` : ''}>topic ${t}</option>`,
    )}
  </select>
  <button type="submit">Filter</button>
  ${filtered ? html`<a href="suppressions" id="clear-filters">clear</a>` : ''}
</form>
<nav class="states" aria-label="Filter by reason" id="reasons">
  ${reasonLink(undefined, 'all', all)}
  ${SUPPRESSION_REASONS.map((r) => reasonLink(r, r, o.counts[r]))}
</nav>
${
  o.rows.length
    ? html`<table id="suppressions">
<thead><tr><th>Address</th><th>Scope</th><th>Reason</th><th>Source</th><th>Note</th><th>Added</th>${o.chrome.readOnly ? '' : html`<th></th>`}</tr></thead>
<tbody>
${o.rows.map(
  (r) => html`<tr data-address="${r.address}" data-topic="${r.topic}">
  <td class="wrap address">${visibleText(r.address)}</td>
  <td class="scope nowrap">${scopeLabel(r.topic)}</td>
  <td><span class="reason reason-${r.reason}">${r.reason}</span></td>
  <td class="muted source">${visibleText(r.source)}</td>
  <td class="wrap note">${visibleText(r.note)}</td>
  <td class="nowrap">${when(r.createdAt)}</td>
  ${
    o.chrome.readOnly
      ? ''
      : html`<td><form method="post" action="suppressions/remove" class="remove">
    <input type="hidden" name="_csrf" value="${o.chrome.csrfToken}">
    <input type="hidden" name="address" value="${r.address}">
    <input type="hidden" name="topic" value="${r.topic}">
    ${keepFields(o)}
    <button type="submit" class="danger" title="mail to this address is sent again${r.topic ? ` (topic ${r.topic})` : ''}">Remove</button>
  </form></td>`
  }
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="empty">${filtered ? 'No suppression matches.' : 'The suppression list is empty: unsubscribes, bounces, complaints and manual blocks appear here.'}</p>`
}
<nav class="pager" aria-label="Pages">
  ${o.page > 1 ? html`<a rel="prev" href="${suppressionsUrl({ ...here, page: o.page - 1 })}">← Newer</a>` : ''}
  <span class="page-info">Page ${o.page.toLocaleString('en')} of ${pages.toLocaleString('en')} · ${o.total.toLocaleString('en')} suppression${o.total === 1 ? '' : 's'}</span>
  ${o.page < pages ? html`<a rel="next" href="${suppressionsUrl({ ...here, page: o.page + 1 })}">Older →</a>` : ''}
</nav>`;
  return layout({ chrome: o.chrome, title: 'Suppressions', section: 'suppressions', body });
}
