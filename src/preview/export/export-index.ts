import { WIDTH_PRESETS } from '../frame-view.js';

/** One exported email: its files are `base` + `.html`, `.dark.html`, `.txt` and `.eml`. */
export interface ExportEntry {
  kind: 'template' | 'view';
  name: string;
  set?: string;
  /** The language it was rendered in, when the app is localized. */
  locale?: string;
  /** No view sends this template: its .eml is the template alone, with placeholder From and Subject. */
  templateOnly?: boolean;
  subject: string | null;
  base: string;
  eml: boolean;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The export's `index.html`: opened from disk, no server. A list of every email, the
 * preview's width presets and dark toggle (the dark file is the HTML with
 * prefers-color-scheme: dark in effect), links to the text and .eml. Its own inline
 * script and style: nothing is fetched.
 */
export function exportIndex(entries: ExportEntry[]): string {
  const item = (e: ExportEntry, i: number) =>
    `<li><a href="${escapeHtml(encodeURI(`${e.base}.html`))}" data-index="${i}" data-base="${escapeHtml(encodeURI(e.base))}" data-eml="${e.eml ? '1' : ''}">${escapeHtml(e.name)}${
      e.set === undefined ? '' : ` <span class="set">${escapeHtml(e.set)}</span>`
    }${e.locale === undefined ? '' : ` <span class="locale">${escapeHtml(e.locale)}</span>`}</a></li>`;
  const group = (kind: ExportEntry['kind'], title: string) =>
    `<h2>${title}</h2><ul id="${kind}s">${entries.map((e, i) => (e.kind === kind ? item(e, i) : '')).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mailroom export</title>
<style>
body { margin: 0; font: 14px/1.5 system-ui, sans-serif; color: #1d2330; background: #f7f8fa; display: grid; grid-template-columns: 260px minmax(0, 1fr); min-height: 100vh; }
nav { background: #fff; border-right: 1px solid #e4e7ec; padding: 12px; overflow: auto; }
nav h2 { font-size: 11px; text-transform: uppercase; color: #667085; margin: 16px 0 4px; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav a { display: block; padding: 3px 8px; border-radius: 4px; color: #1d2330; text-decoration: none; }
nav a[aria-current="page"] { background: #2754c5; color: #fff; }
.set, .locale { font-size: 11px; opacity: .75; }
.locale { font-family: ui-monospace, monospace; }
main { padding: 16px 24px; min-width: 0; }
.toolbar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
.toolbar button { font: inherit; padding: 3px 12px; border: 1px solid #d0d5dd; background: #fff; cursor: pointer; }
.toolbar button[aria-pressed="true"] { background: #2754c5; color: #fff; border-color: #2754c5; }
.frame { background: #e9ecf1; padding: 16px; display: flex; justify-content: center; overflow-x: auto; }
.frame.dark { background: #1f2430; }
iframe { border: 0; background: #fff; height: 900px; width: 100%; flex: none; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
</style>
</head>
<body>
<nav aria-label="Emails">
${group('template', 'Templates')}
${group('view', 'Views')}
</nav>
<main>
<h1 id="title">${entries.length ? '' : 'Nothing exported'}</h1>
<p id="subject"></p>
<div class="toolbar" id="widths" role="group" aria-label="Width">
<button type="button" data-width="full" aria-pressed="true">Full</button>${[...WIDTH_PRESETS]
    .reverse()
    .map((w) => `<button type="button" data-width="${w}" aria-pressed="false">${w}</button>`)
    .join('')}
<input type="number" id="custom-width" min="200" max="2400" placeholder="px" aria-label="Custom width in pixels">
<button type="button" id="dark-toggle" role="switch" aria-checked="false">Dark</button>
<a id="text-link" href="#">Plain text</a> <a id="eml-link" href="#">.eml</a>
<span id="eml-note" hidden>(the template alone: no view sends it, so From and Subject are placeholders)</span>
</div>
<div class="frame" id="frame"><iframe id="email" title="Rendered email" sandbox="allow-popups"></iframe></div>
</main>
<script>
'use strict';
const entries = ${JSON.stringify(entries).replace(/</g, '\\u003c')};
const frame = document.getElementById('email');
let current = 0, dark = false, width = 'full';
function show() {
  const e = entries[current];
  if (!e) return;
  const base = encodeURI(e.base);
  frame.src = base + (dark ? '.dark.html' : '.html');
  frame.style.width = width === 'full' ? '100%' : width + 'px';
  document.getElementById('frame').classList.toggle('dark', dark);
  document.getElementById('title').textContent = e.kind + ' ' + e.name + (e.set === undefined ? '' : ' · ' + e.set) + (e.locale === undefined ? '' : ' · ' + e.locale);
  document.getElementById('subject').textContent = e.subject === null ? 'No view renders this template: no subject.' : 'Subject: ' + e.subject;
  document.getElementById('eml-note').hidden = !e.templateOnly;
  document.getElementById('text-link').href = base + '.txt';
  const eml = document.getElementById('eml-link');
  eml.hidden = !e.eml;
  eml.href = base + '.eml';
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', Number(a.dataset.index) === current);
  for (const b of document.querySelectorAll('#widths [data-width]')) b.setAttribute('aria-pressed', String(b.dataset.width === String(width)));
  const toggle = document.getElementById('dark-toggle');
  toggle.setAttribute('aria-checked', String(dark));
  toggle.textContent = dark ? 'Dark' : 'Light';
  history.replaceState(null, '', '#' + current + (dark ? ',dark' : '') + (width === 'full' ? '' : ',' + width));
}
document.querySelector('nav').addEventListener('click', (event) => {
  const a = event.target.closest('a[data-index]');
  if (!a) return;
  event.preventDefault();
  current = Number(a.dataset.index);
  show();
});
for (const b of document.querySelectorAll('#widths [data-width]')) b.addEventListener('click', () => { width = b.dataset.width === 'full' ? 'full' : Number(b.dataset.width); show(); });
document.getElementById('custom-width').addEventListener('change', (event) => { const w = Number(event.target.value); if (w >= 200 && w <= 2400) { width = w; show(); } });
document.getElementById('dark-toggle').addEventListener('click', () => { dark = !dark; show(); });
const [at, ...flags] = location.hash.slice(1).split(',');
if (at && entries[Number(at)]) current = Number(at);
dark = flags.includes('dark');
const asked = flags.find((f) => /^[0-9]+$/.test(f));
if (asked) width = Number(asked);
show();
</script>
</body>
</html>
`;
}
