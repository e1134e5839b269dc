import { html } from 'hono/html';
import type { Catalog, TemplateEntry } from '../templates.js';
import type { Html } from './layout.js';
import { templateUrl, viewUrl } from './home.js';

/** What the sidebar marks as the page being shown. */
export interface SidebarCurrent {
  kind: 'template' | 'view';
  name: string;
}

interface Folder {
  name: string;
  templates: TemplateEntry[];
  folders: Map<string, Folder>;
}

/** The templates as the emails folder nests them: `billing/invoice` under `billing`. */
function tree(templates: TemplateEntry[]): Folder {
  const root: Folder = { name: '', templates: [], folders: new Map() };
  for (const t of templates) {
    const parts = t.name.split('/');
    let folder = root;
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { name: part, templates: [], folders: new Map() }));
      folder = next;
    }
    folder.templates.push(t);
  }
  return root;
}

/**
 * Every template (in its folders) and every view, on every template and view page, so
 * switching needs no trip back to the index. Keyboard: ↑/↓ move between entries, `/`
 * filters, `j`/`k` open the next/previous one (assets.ts).
 */
export function sidebar(catalog: Catalog, current: SidebarCurrent | undefined, query = ''): Html {
  const link = (kind: 'template' | 'view', name: string, label: string, failed: boolean) => {
    const href = (kind === 'template' ? templateUrl(name) : viewUrl(name)) + query;
    const here = current?.kind === kind && current.name === name;
    return html`<li><a href="${href}" data-entry="${kind}:${name}"${here ? html` aria-current="page"` : ''}>${label}${
      failed ? html` <span class="state state-failed" title="does not load">!</span>` : ''
    }</a></li>`;
  };
  const folder = (f: Folder): Html => html`${[...f.folders.values()].map(
    (sub) => html`<li class="folder"><details open><summary>${sub.name}</summary><ul>${folder(sub)}</ul></details></li>`,
  )}${f.templates.map((t) => link('template', t.name, t.name.split('/').pop()!, Boolean(t.error)))}`;
  return html`<nav class="sidebar" id="sidebar" aria-label="Templates and views">
<input type="search" id="sidebar-filter" placeholder="Filter  ( / )" aria-label="Filter templates and views" autocomplete="off">
<h2>Templates</h2>
<ul id="sidebar-templates">${folder(tree(catalog.templates))}</ul>
<h2>Views</h2>
<ul id="sidebar-views">${catalog.views.map((v) => link('view', v.name, v.name, Boolean(v.error)))}</ul>
<p class="muted keys">↑ ↓ move · Enter opens · j / k next / previous · / filter</p>
</nav>`;
}
