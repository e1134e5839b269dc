import { html } from 'hono/html';
import type { Catalog } from '../templates.js';
import type { MessageState } from '../../store/schema.js';
import { errorBox, layout, type Chrome, type Html } from './layout.js';

/** Relative to the pages' `<base>`, like every link the pages make. */
export const templateUrl = (name: string) => `templates/${encodeURIComponent(name)}`;
export const viewUrl = (name: string) => `views/${encodeURIComponent(name)}`;

/** `/`: every template and every registered view, each linking to its page; the outbox's counts. */
export function homePage(chrome: Chrome, catalog: Catalog | null, counts: Record<MessageState, number> | null, generation: number): Html {
  const templates = catalog?.templates ?? [];
  const views = catalog?.views ?? [];
  const body = html`
<h1>Templates</h1>
<p class="muted">${catalog ? (catalog.exists ? `From ${catalog.dir}` : `No emails folder at ${catalog.dir}.`) : 'No emails folder given (--emails DIR).'}</p>
${
  templates.length
    ? html`<table id="templates">
<thead><tr><th>Template</th><th>Mail view</th><th>Subject</th><th>Priority</th><th>Preview props</th></tr></thead>
<tbody>
${templates.map(
  (t) => html`<tr>
  <td><a href="${templateUrl(t.name)}">${t.name}</a>${t.error ? html` <span class="state state-failed">does not load</span>` : ''}</td>
  <td>${t.view ? html`<a href="${viewUrl(t.view.name)}">${t.view.className ?? t.view.name}</a>` : html`<span class="muted">—</span>`}</td>
  <td class="wrap">${t.view?.subject ?? ''}</td>
  <td>${t.view?.priority ?? (t.view ? '' : 'normal')}</td>
  <td>${t.hasPreviewProps ? 'yes' : html`<span class="muted">none</span>`}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="empty">No templates: add a .tsx file to the emails folder whose default export is a React Email component with PreviewProps.</p>`
}
<h2>Mail views</h2>
${catalog?.viewsError ? errorBox(`${catalog.viewsFile} could not be loaded`, catalog.viewsError) : ''}
${
  views.length
    ? html`<table id="views">
<thead><tr><th>View</th><th>Class</th><th>Subject</th><th>Priority</th><th>Template</th></tr></thead>
<tbody>
${views.map(
  (v) => html`<tr>
  <td><a href="${viewUrl(v.name)}">${v.name}</a>${v.error ? html` <span class="state state-failed">error</span>` : ''}</td>
  <td>${v.className ?? ''}</td>
  <td class="wrap">${v.subject ?? ''}</td>
  <td>${v.priority ?? ''}</td>
  <td>${v.template ? html`<a href="${templateUrl(v.template.name)}">${v.template.name}</a>` : ''}</td>
</tr>`,
)}
</tbody>
</table>`
    : html`<p class="empty">No mail views registered: export <code>views</code> ([{ name, view: () =&gt; new MyMail(props) }]) from emails/_views/index.ts (a <code>_</code> folder, which react-email skips).</p>`
}
${
  counts
    ? html`<h2>Outbox</h2>
<p class="states">${Object.entries(counts).map(([state, n]) => html`<a href="outbox?state=${state}">${state} ${n}</a>`)}<a href="outbox">all messages →</a></p>`
    : ''
}`;
  return layout({ chrome, title: 'Templates', section: 'templates', generation, body });
}
