import { html } from 'hono/html';
import { IFRAME_SANDBOX, TEMPLATE_IFRAME_SANDBOX } from '../security.js';
import { WIDTH_PRESETS, MIN_WIDTH, MAX_WIDTH, frameQuery, type FrameView } from '../frame-view.js';

/** A fragment of escaped HTML: every `${value}` in `html\`…\`` is escaped unless it is itself a fragment. */
export type Html = ReturnType<typeof html>;

/**
 * What every page shows around its body: where the preview is mounted, who is
 * logged in (with the logout form's token), and whether actions are off.
 */
export interface Chrome {
  /** The path the preview is served under, without a trailing slash: '' or '/admin/mail'. */
  base: string;
  user?: string;
  csrfToken: string;
  readOnly: boolean;
}

export interface Page {
  chrome: Chrome;
  title: string;
  /** Which top link is the current section. */
  section?: 'templates' | 'outbox' | 'suppressions';
  /** Live-reload generation the page was rendered at; pages about templates set it. */
  generation?: number;
  /** The templates and views beside the page (template and view pages). */
  sidebar?: Html;
  body: Html;
}

/**
 * Links in the pages are relative to `<base href>`: mounted under a prefix
 * (`/admin/mail/`), every link, form, frame and the event stream follow it.
 */
export function layout({ chrome, title, section, generation, sidebar, body }: Page): Html {
  const current = (name: Page['section']) => (section === name ? html` aria-current="page"` : '');
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<base href="${chrome.base}/">
<title>${title} · mailroom</title>
<link rel="stylesheet" href="assets/preview.css">
<link rel="stylesheet" href="assets/highlight.css">
<script src="assets/preview.js" defer></script>
</head>
<body data-generation="${generation ?? ''}">
<header class="top">
  <a class="brand" href="./">mailroom preview</a>
  <nav>
    <a href="./"${current('templates')}>Templates</a>
    <a href="outbox"${current('outbox')}>Outbox</a>
    <a href="suppressions"${current('suppressions')}>Suppressions</a>
  </nav>
  ${chrome.readOnly ? html`<span class="badge" id="read-only">read-only</span>` : ''}
  ${
    chrome.user !== undefined
      ? html`<form class="logout" method="post" action="logout"><input type="hidden" name="_csrf" value="${chrome.csrfToken}"><span>${chrome.user}</span> <button type="submit">Log out</button></form>`
      : ''
  }
</header>
${sidebar ? html`<div class="with-sidebar">${sidebar}<main>${body}</main></div>` : html`<main>
${body}
</main>`}
</body>
</html>`;
}

/** `2026-01-31 09:05:00 UTC`: unambiguous whatever the viewer's locale. */
export function when(date: Date | null | undefined): string {
  if (!date) return '—';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `a@x, b@y and 19,998 more`: the first of a long list, and how many are left out. */
export function shortList(shown: readonly string[], total: number, max = shown.length): string {
  const first = shown.slice(0, max);
  const rest = total - first.length;
  return rest > 0 ? `${first.join(', ')} and ${rest.toLocaleString('en')} more` : first.join(', ');
}

/** A header line bounded for display (a To: of 20,000 addresses is 450 KB); the .eml has it whole. */
export function clipped(text: string, max = 2000): string {
  return text.length > max ? `${text.slice(0, max)}… (${(text.length - max).toLocaleString('en')} more characters: download the .eml for all)` : text;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * An email's HTML, framed: no scripts, the width the viewer picked. `fit`: the app's own
 * template, whose frame may share the preview's origin (still no script may run in it)
 * so the page can size the frame to its content; a stored message keeps an opaque origin.
 */
export function emailFrame(src: string, view: FrameView, fit = false): Html {
  const width = view.width === 'full' ? 'full' : String(view.width);
  return html`<div class="frame${view.dark ? ' dark' : ''}" data-width="${width}" data-scheme="${view.dark ? 'dark' : 'light'}">
  <iframe title="Rendered email" sandbox="${fit ? TEMPLATE_IFRAME_SANDBOX : IFRAME_SANDBOX}" referrerpolicy="no-referrer" src="${src}"${
    view.width === 'full' ? '' : html` width="${width}"`
  }${fit ? html` data-fit="content"` : ''}></iframe>
</div>`;
}

/**
 * Width presets (full, 600, 375, 320), a custom width and the dark-mode toggle: links and
 * a GET form, so the choice lives in the URL and reloads and shared links keep it.
 */
export function widthSwitch(path: string, view: FrameView, extra: Record<string, string> = {}): Html {
  const href = (v: FrameView) => {
    const query = new URLSearchParams({ ...extra, ...frameQuery(v) }).toString();
    return query ? `${path}?${query}` : path;
  };
  const link = (width: FrameView['width'], label: string) =>
    html`<a href="${href({ ...view, width })}" data-width="${String(width)}" aria-current="${width === view.width ? 'true' : 'false'}">${label}</a>`;
  const custom = view.width !== 'full' && !(WIDTH_PRESETS as readonly number[]).includes(view.width) ? view.width : undefined;
  const keep = { ...extra, ...(view.dark ? { scheme: 'dark' } : {}) };
  return html`<span class="switch" role="group" aria-label="Width" id="widths">${link('full', 'Full')}${WIDTH_PRESETS.slice()
    .reverse()
    .map((w) => link(w, String(w)))}</span>
<form class="custom-width" method="get" action="${path}" aria-label="Custom width">${Object.entries(keep).map(
    ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`,
  )}<input type="number" name="width" id="custom-width" min="${MIN_WIDTH}" max="${MAX_WIDTH}" step="1" placeholder="px" value="${custom ?? ''}" aria-label="Custom width in pixels"${
    custom ? html` aria-current="true"` : ''
  }><button type="submit">Set</button></form>
<span class="switch" role="group" aria-label="Colour scheme" id="scheme"><a href="${href({ ...view, dark: !view.dark })}" id="dark-toggle" role="switch" aria-checked="${
    view.dark ? 'true' : 'false'
  }">${view.dark ? '☾ Dark' : '☀ Light'}</a></span>`;
}

export function headersTable(headers: [string, string][]): Html {
  return html`<table class="meta headers" aria-label="Headers">
${headers.map(([name, value]) => html`<tr><th scope="row">${name}</th><td class="wrap">${value}</td></tr>`)}
</table>`;
}

/**
 * What failed, in one line: the error's message with its line breaks folded and its
 * length bounded. Never a stack (the server's log has it): a page may be seen by
 * people who should not learn the server's paths and code.
 */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 399)}…` : line;
}

export function errorBox(heading: string, error: unknown): Html {
  return html`<div class="error" role="alert">
  <h2>${heading}</h2>
  <p class="error-message">${oneLine(error)}</p>
</div>`;
}
