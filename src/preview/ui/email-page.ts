import { html } from 'hono/html';
import type { EmailPreview } from '../templates.js';
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
  width: 'desktop' | 'mobile';
  generation: number;
  /** A line under the title: the file, the view class, the template. */
  context: Html;
  preview?: EmailPreview;
  error?: unknown;
  /** The locales this email can be shown in (none when it is not localized). */
  locales?: PageLocales;
  /** Another locale of the same email, shown beside this one. */
  compareWith?: { locale: string; frameSrc: string; preview: EmailPreview };
}

/** The page's locale choice, kept by the width links. */
function localeQuery(locales: PageLocales | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries({ locale: locales?.current, compare: locales?.compare }).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A template's or a view's page: the email as sent, at desktop or mobile width, with its text, source and headers. */
export function emailPage(o: EmailPageOptions): Html {
  const p = o.preview;
  const body = html`
<h1>${o.name}</h1>
<p class="muted">${o.context}</p>
${o.locales ? localeSwitch(o.path, o.locales, o.width) : ''}
${
  o.error || !p
    ? errorBox(`This ${o.kind} could not be rendered`, o.error)
    : html`
${missingWarning(p)}
<h2>Subject and headers</h2>
${headersTable(p.headers)}
${p.subject === null ? html`<p class="muted">No registered mail view renders this template, so it has no subject yet: a view gives it one.</p>` : ''}
<div class="toolbar"><strong>HTML</strong>${widthSwitch(o.path, o.width, localeQuery(o.locales))}</div>
${
  o.compareWith
    ? sideBySide({ locale: p.locale ?? o.locales?.current ?? '', frameSrc: o.frameSrc, preview: p }, o.compareWith, o.width)
    : emailFrame(o.frameSrc, o.width)
}
${
  p.attachments.length
    ? html`<h2>Attachments</h2>
<ul class="files" id="attachments">${p.attachments.map(
        (a, i) => html`<li><a href="${o.attachmentUrl(i)}">${a.filename}</a> <span class="muted">${a.contentType}, ${bytes(a.size)}</span></li>`,
      )}</ul>`
    : ''
}
<h2>Plain text</h2>
<pre id="text">${p.text}</pre>
<h2>HTML source</h2>
<pre id="source">${p.html}</pre>`
}`;
  return layout({ chrome: o.chrome, title: o.name, section: 'templates', generation: o.generation, body });
}
