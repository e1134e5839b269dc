/**
 * The preview's only script and stylesheet, served from /assets so the pages' CSP can
 * forbid inline script and style altogether.
 */

/** Live reload: a page rendered at generation N reloads when the server's generation moves on. */
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
.frame iframe { background: #fff; border: 0; height: 640px; width: 100%; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
.frame.mobile iframe { width: 375px; }
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
.warning { padding: 8px 12px; background: #fffaeb; border: 1px solid #fedf89; color: #93370d; margin: 12px 0; }
.locales .code, .side .code { font: 11px ui-monospace, monospace; color: var(--muted); }
.switch a[aria-current="true"] .code { color: #dbe4ff; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.side-by-side h3 { font-size: 14px; margin: 0 0 8px; }
.side-by-side .frame { padding: 8px; }
.empty { padding: 24px; text-align: center; color: var(--muted); background: #fff; border: 1px solid var(--line); }
`;
