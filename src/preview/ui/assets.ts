/**
 * The preview's only script and stylesheet, served from /assets so the pages' CSP can
 * forbid inline script and style altogether.
 */

/** Live reload: a page rendered at generation N reloads when the server's generation moves on. */
/**
 * Live reload (a page rendered at generation N reloads when the server's generation moves
 * on), the frame sized to its email, the sidebar's keys and filter, the copy button.
 */
export const SCRIPT = `'use strict';
(() => {
  const generation = document.body.dataset.generation;
  if (!generation || typeof EventSource === 'undefined') return;
  const events = new EventSource('events');
  const check = (event) => {
    if (event.data === generation) return;
    events.close();
    location.reload();
  };
  events.addEventListener('hello', (event) => {
    document.documentElement.dataset.live = 'connected';
    check(event);
  });
  events.addEventListener('reload', check);
})();

// A template's frame shares this origin (no script runs in it): its height follows its content.
(() => {
  const fit = (frame) => {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    const height = Math.max(120, Math.ceil(doc.documentElement.getBoundingClientRect().height));
    frame.style.height = height + 'px';
    frame.dataset.fitted = String(height);
  };
  const watch = (frame) => {
    fit(frame);
    const doc = frame.contentDocument;
    if (doc && doc.documentElement && typeof ResizeObserver !== 'undefined') new ResizeObserver(() => fit(frame)).observe(doc.documentElement);
  };
  for (const frame of document.querySelectorAll('iframe[data-fit="content"]')) {
    frame.addEventListener('load', () => watch(frame));
    if (frame.contentDocument && frame.contentDocument.readyState === 'complete' && frame.contentDocument.URL !== 'about:blank') watch(frame);
  }
})();

// The sidebar: / filters, arrows move, j and k open the next and previous entry.
(() => {
  const bar = document.getElementById('sidebar');
  if (!bar) return;
  const filter = document.getElementById('sidebar-filter');
  const links = () => [...bar.querySelectorAll('a[data-entry]')].filter((a) => !a.closest('li').hidden);
  const typing = (el) => el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
  filter.addEventListener('input', () => {
    const words = filter.value.trim().toLowerCase();
    for (const a of bar.querySelectorAll('a[data-entry]')) a.closest('li').hidden = words !== '' && !a.dataset.entry.toLowerCase().includes(words);
    for (const folder of bar.querySelectorAll('li.folder')) folder.hidden = !folder.querySelector('li:not(.folder):not([hidden])');
  });
  const move = (step) => {
    const all = links();
    if (!all.length) return;
    const at = all.indexOf(document.activeElement);
    const next = at === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
    all[next].focus();
  };
  bar.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') { event.preventDefault(); move(1); }
    else if (event.key === 'ArrowUp') { event.preventDefault(); move(-1); }
    else if (event.key === 'Home' && document.activeElement !== filter) { event.preventDefault(); links()[0]?.focus(); }
    else if (event.key === 'End' && document.activeElement !== filter) { event.preventDefault(); links().at(-1)?.focus(); }
    else if (event.key === 'Enter' && document.activeElement === filter) { event.preventDefault(); links()[0]?.click(); }
    else if (event.key === 'Escape') { filter.value = ''; filter.dispatchEvent(new Event('input')); filter.blur(); }
  });
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (event.key === '/') { event.preventDefault(); filter.focus(); return; }
    if (event.key !== 'j' && event.key !== 'k') return;
    const all = links();
    const at = all.findIndex((a) => a.getAttribute('aria-current') === 'page');
    const next = all[at + (event.key === 'j' ? 1 : -1)] ?? (at === -1 ? all[0] : undefined);
    if (next) { event.preventDefault(); next.click(); }
  });
})();

// The props editor: each change is parsed, validated and rendered by the server (render.json), then shown.
(() => {
  const editor = document.getElementById('props-editor');
  const status = document.getElementById('props-status');
  if (!editor || !status) return;
  const frame = document.querySelector('iframe[data-fit]');
  const path = editor.dataset.path;
  const query = editor.dataset.query;
  const url = (suffix, props) => {
    const q = new URLSearchParams(query);
    q.set('props', props);
    return path + suffix + '?' + q;
  };
  const say = (text, state) => {
    status.textContent = text;
    status.dataset.state = state;
    editor.setAttribute('aria-invalid', state === 'invalid' ? 'true' : 'false');
  };
  const showHeaders = (headers) => {
    const table = document.querySelector('table.headers');
    if (!table) return;
    const body = table.tBodies[0] || table;
    body.replaceChildren(...headers.map(([name, value]) => {
      const row = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = name;
      const td = document.createElement('td');
      td.className = 'wrap';
      td.textContent = value;
      row.append(th, td);
      return row;
    }));
  };
  let sequence = 0;
  let timer;
  const render = async () => {
    const mine = ++sequence;
    let props;
    try {
      props = JSON.parse(editor.value);
    } catch (error) {
      say('Not JSON: ' + error.message, 'invalid');
      return;
    }
    if (typeof props !== 'object' || props === null || Array.isArray(props)) {
      say('The props must be a JSON object ({ … }).', 'invalid');
      return;
    }
    const json = JSON.stringify(props);
    say('Rendering…', 'busy');
    let answer;
    try {
      answer = await (await fetch(url('/render.json', json), { headers: { Accept: 'application/json' } })).json();
    } catch (error) {
      if (mine === sequence) say('Could not reach the preview server: ' + error.message, 'invalid');
      return;
    }
    if (mine !== sequence) return; // a newer edit is on its way
    if (!answer.ok) {
      say(answer.error, 'invalid');
      return;
    }
    if (frame) frame.src = url('/html', json);
    showHeaders(answer.headers);
    const text = document.getElementById('text');
    if (text) text.textContent = answer.text;
    const source = document.querySelector('#source code');
    if (source) source.innerHTML = answer.source; // highlight.js's markup: every character of the source escaped
    const findings = document.getElementById('check-findings-slot');
    if (findings) findings.innerHTML = answer.findings; // server-rendered with every value escaped
    history.replaceState(null, '', url('', json));
    say('Rendered', 'ok');
  };
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  });
})();

// Copy the HTML source as shown.
(() => {
  const button = document.getElementById('copy-source');
  const source = document.getElementById('source');
  const status = document.getElementById('copy-status');
  if (!button || !source) return;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.textContent);
      status.textContent = 'Copied';
    } catch {
      status.textContent = 'Could not copy: select the source and copy it by hand';
    }
  });
})();
`;

export const STYLE = `:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --accent: #2754c5; --bad: #b42318; --warn: #b54708; --good: #067647; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #111827; }
header.top a { color: #e5e7eb; }
header.top .brand { font-weight: 700; color: #fff; }
header.top nav { display: flex; gap: 16px; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
main { padding: 20px 24px 48px; max-width: 1200px; margin: 0 auto; }
.with-sidebar { display: grid; grid-template-columns: 240px minmax(0, 1fr); align-items: start; }
.with-sidebar main { max-width: none; margin: 0; min-width: 0; }
nav.sidebar { position: sticky; top: 0; max-height: 100vh; overflow: auto; padding: 16px 12px; border-right: 1px solid var(--line); background: #fff; min-height: calc(100vh - 44px); }
nav.sidebar h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 16px 0 4px; }
nav.sidebar ul { list-style: none; margin: 0; padding: 0; }
nav.sidebar ul ul { padding-left: 12px; }
nav.sidebar summary { cursor: pointer; color: var(--muted); padding: 2px 6px; }
nav.sidebar a { display: block; padding: 3px 8px; border-radius: 4px; color: var(--fg); word-break: break-word; }
nav.sidebar a:hover, nav.sidebar a:focus { background: #eef2ff; outline: none; text-decoration: none; }
nav.sidebar a:focus-visible { box-shadow: inset 0 0 0 2px var(--accent); }
nav.sidebar a[aria-current="page"] { background: var(--accent); color: #fff; }
nav.sidebar input[type=search] { width: 100%; padding: 5px 8px; border: 1px solid #d0d5dd; font: inherit; }
nav.sidebar .keys { font-size: 11px; margin-top: 16px; }
.render { display: grid; gap: 16px; grid-template-columns: minmax(0, 1fr); }
.render-text h2 { margin-top: 8px; }
@media (min-width: 1500px) {
  .render { grid-template-columns: minmax(0, 1fr) minmax(320px, 36%); align-items: start; }
  .render-text h2 { margin-top: 0; }
  .render-text pre { max-height: none; }
}
form.custom-width { display: inline-flex; gap: 4px; margin: 0; }
form.custom-width input { width: 80px; padding: 3px 6px; border: 1px solid #d0d5dd; font: inherit; }
form.custom-width input[aria-current="true"] { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.frame.dark { background: #1f2430; }
#source { max-height: 640px; }
form.send-test { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 12px 0; padding: 8px 12px; background: #fff; border: 1px solid var(--line); }
form.send-test input[type=email] { padding: 5px 8px; border: 1px solid #d0d5dd; font: inherit; min-width: 240px; }
#props-editor { width: 100%; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; padding: 8px; border: 1px solid #d0d5dd; background: #fff; resize: vertical; }
#props-editor[aria-invalid="true"] { border-color: var(--bad); box-shadow: 0 0 0 1px var(--bad); }
#props-status[data-state="invalid"] { color: var(--bad); }
#props-status[data-state="ok"] { color: var(--good); }
.toolbar h2 { margin: 0; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; font-size: 12px; color: #475467; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.meta th { width: 200px; background: #fff; font-size: 13px; }
td.wrap { word-break: break-word; }
td.nowrap { white-space: nowrap; }
pre { background: #fff; border: 1px solid var(--line); padding: 12px; overflow: auto; white-space: pre-wrap; word-break: break-word; max-height: 480px; margin: 0; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; }
.toolbar { display: flex; gap: 8px; align-items: center; margin: 16px 0 8px; flex-wrap: wrap; }
.switch a { display: inline-block; padding: 4px 12px; border: 1px solid var(--line); background: #fff; color: var(--fg); }
.switch a[aria-current="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.frame { background: #e9ecf1; border: 1px solid var(--line); padding: 16px; display: flex; justify-content: center; }
.frame iframe { background: #fff; border: 0; height: 640px; box-shadow: 0 1px 4px rgba(0,0,0,.12); flex: none; }
.frame iframe:not([width]) { width: 100%; }
.frame { overflow-x: auto; }
.frame.dark iframe { background: #121212; color-scheme: dark; }
.state { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef2f6; }
.state-sent { background: #dcfae6; color: var(--good); }
.state-failed { background: #fee4e2; color: var(--bad); }
.state-deferred { background: #fef0c7; color: var(--warn); }
.state-sending { background: #d1e9ff; color: #175cd3; }
.states { display: flex; gap: 6px; flex-wrap: wrap; margin: 12px 0; }
.states a { padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 12px; color: var(--fg); }
.states a[aria-current="true"] { background: var(--fg); color: #fff; }
form.search { display: flex; gap: 6px; margin-top: 12px; }
input[type=search] { flex: 1; max-width: 420px; padding: 6px 10px; border: 1px solid #d0d5dd; font: inherit; }
button { font: inherit; padding: 5px 14px; border: 1px solid #d0d5dd; background: #fff; cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { color: var(--bad); border-color: #fda29b; }
.actions { display: flex; gap: 8px; margin: 12px 0; }
.actions form { margin: 0; }
.pager { display: flex; gap: 16px; align-items: center; margin-top: 12px; }
.notice { padding: 8px 12px; background: #ecfdf3; border: 1px solid #abefc6; margin: 12px 0; }
.badge { padding: 0 8px; border-radius: 10px; font-size: 12px; background: #fef0c7; color: var(--warn); }
form.logout { margin-left: auto; display: flex; gap: 8px; align-items: center; color: #e5e7eb; }
form.login { display: grid; gap: 8px; max-width: 320px; background: #fff; border: 1px solid var(--line); padding: 16px; }
form.login input { padding: 6px 10px; border: 1px solid #d0d5dd; font: inherit; }
.notice.bad { background: #fef3f2; border-color: #fecdca; }
.error { border: 1px solid #fecdca; background: #fef3f2; padding: 12px 16px; margin: 16px 0; }
.error h2 { margin-top: 0; color: var(--bad); }
.error pre { max-height: none; }
ul.files { list-style: none; padding: 0; margin: 0; }
ul.files li { padding: 4px 0; }
.check-findings { padding: 8px 12px; background: #fffaeb; border: 1px solid #fedf89; margin: 12px 0; }
.check-findings.has-errors { background: #fef3f2; border-color: #fecdca; }
.check-findings ul { margin: 4px 0 0; padding-left: 20px; }
.finding-error > strong:first-child { color: #b42318; }
.finding-warning > strong:first-child { color: #93370d; }
.warning { padding: 8px 12px; background: #fffaeb; border: 1px solid #fedf89; color: #93370d; margin: 12px 0; }
.locales .code, .side .code { font: 11px ui-monospace, monospace; color: var(--muted); }
.switch a[aria-current="true"] .code { color: #dbe4ff; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.side-by-side h3 { font-size: 14px; margin: 0 0 8px; }
.side-by-side .frame { padding: 8px; }
form.suppress-add { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; background: #fff; border: 1px solid var(--line); padding: 12px; margin: 12px 0; }
form.suppress-add label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
form.suppress-add label.grow { flex: 1; min-width: 220px; }
form.suppress-add input, form.search select { padding: 6px 10px; border: 1px solid #d0d5dd; font: inherit; color: var(--fg); }
form.remove { margin: 0; }
#suppressions td.address { min-width: 15em; }
#suppressions td.source { white-space: nowrap; }
.invisible-char { font: 11px ui-monospace, monospace; color: var(--bad); border: 1px solid #fecdca; border-radius: 3px; padding: 0 2px; margin: 0 1px; }
.reason { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef2f6; }
.reason-hard-bounce, .reason-complaint { background: #fee4e2; color: var(--bad); }
.reason-unsubscribed { background: #fef0c7; color: var(--warn); }
.empty { padding: 24px; text-align: center; color: var(--muted); background: #fff; border: 1px solid var(--line); }
`;
