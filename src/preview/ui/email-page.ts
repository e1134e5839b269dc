import { html, raw } from 'hono/html';
import type { EmailPreview } from '../templates.js';
import type { SourceView } from '../source-view.js';
import type { CompileError } from '../compile-error.js';
import type { FrameView } from '../frame-view.js';
import { bytes, emailFrame, errorBox, headersTable, layout, widthSwitch, type Chrome, type Html } from './layout.js';
import { localeSwitch, missingWarning, sideBySide, type PageLocales } from './locale-switch.js';

export interface EmailPageOptions {
  chrome: Chrome;
  kind: 'template' | 'view';
  name: string;
  /** This page's path (`templates/welcome`, relative to the base), for the width links. */
  path: string;
  /** What the iframe loads: the email's HTML under the strict CSP. */
  frameSrc: string;
  /** Where attachment N downloads from. */
  attachmentUrl: (index: number) => string;
  view: FrameView;
  generation: number;
  /** A line under the title: the file, the view class, the template. */
  context: Html;
  /** Every template and view, beside the page. */
  sidebar?: Html;
  preview?: EmailPreview;
  /** The HTML source, formatted and highlighted. */
  source?: SourceView;
  error?: unknown;
  /** The template's file does not compile: where and why, instead of a render error. */
  compileError?: CompileError;
  /** The locales this email can be shown in (none when it is not localized). */
  locales?: PageLocales;
  /** Another locale of the same email, shown beside this one. */
  compareWith?: { locale: string; frameSrc: string; preview: EmailPreview };
  /** Query parameters the page keeps in its links besides the frame's (the locale, the prop set). */
  keep?: Record<string, string>;
  /** Extra sections above the email (the props editor). */
  extra?: Html;
  /** After the headers (the test send form). */
  afterHeaders?: Html;
  /** What `mailroom check` finds in this email, shown above it. */
  findings?: Html;
}

/** The page's locale choice, kept by the width links. */
function localeQuery(locales: PageLocales | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries({ locale: locales?.current, compare: locales?.compare }).filter((e): e is [string, string] => e[1] !== undefined));
}

function compileErrorBox(e: CompileError): Html {
  const where = `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ''}` : ''}`;
  return html`<div class="error" role="alert" id="compile-error">
  <h2>This template does not compile</h2>
  <p><code class="error-file">${where}</code></p>
  <pre class="error-message">${e.message}</pre>
</div>`;
}

/** A template's or a view's page: the email as sent, at the width and scheme picked, with its text, source and headers. */
export function emailPage(o: EmailPageOptions): Html {
  const p = o.preview;
  const keep = { ...(o.keep ?? {}), ...localeQuery(o.locales) };
  const body = html`
<h1>${o.name}</h1>
<p class="muted" id="context">${o.context}</p>
${o.locales ? localeSwitch(o.path, o.locales, o.view) : ''}
${o.extra ?? ''}
${
  o.compileError
    ? compileErrorBox(o.compileError)
    : o.error || !p
      ? errorBox(`This ${o.kind} could not be rendered`, o.error)
      : html`
${missingWarning(p)}
<div id="check-findings-slot">${o.findings ?? ''}</div>
<h2>Subject and headers</h2>
${headersTable(p.headers)}
${p.subject === null ? html`<p class="muted">No registered mail view renders this template, so it has no subject yet: a view gives it one.</p>` : ''}
${o.afterHeaders ?? ''}
<div class="toolbar"><strong>HTML</strong>${widthSwitch(o.path, o.view, keep)}</div>
<div class="render">
<div class="render-html">
${
  o.compareWith
    ? sideBySide({ locale: p.locale ?? o.locales?.current ?? '', frameSrc: o.frameSrc, preview: p }, o.compareWith, o.view)
    : emailFrame(o.frameSrc, o.view, true)
}
</div>
<section class="render-text" aria-labelledby="text-heading">
<h2 id="text-heading">Plain text</h2>
<pre id="text">${p.text}</pre>
</section>
</div>
${
  p.attachments.length
    ? html`<h2>Attachments</h2>
<ul class="files" id="attachments">${p.attachments.map(
        (a, i) => html`<li><a href="${o.attachmentUrl(i)}">${a.filename}</a> <span class="muted">${a.contentType}, ${bytes(a.size)}</span></li>`,
      )}</ul>`
    : ''
}
<div class="toolbar"><h2 id="source-heading">HTML source</h2><button type="button" id="copy-source" data-copy="source">Copy</button><span id="copy-status" class="muted" role="status"></span></div>
<pre id="source" class="hljs" aria-labelledby="source-heading"><code>${o.source ? raw(o.source.highlighted) : p.html}</code></pre>`
}`;
  return layout({ chrome: o.chrome, title: o.name, section: 'templates', generation: o.generation, sidebar: o.sidebar, body });
}

