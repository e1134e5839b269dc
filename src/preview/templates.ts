import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { ComponentType } from 'react';
import { nearestTsconfig } from './nearest-tsconfig.js';
import { renderTemplate } from '../views/mail-view.js';
import type { Attachment } from 'nodemailer';
import { renderErrorOf } from '../views/render-error.js';
import { DEFAULT_PRIORITY, PRIORITY_HEADER, type Priority } from '../views/priority.js';
import type { ViewMessage } from '../views/mail-view.js';
import { parseMessage, type MessageAttachment } from './message.js';
import { composeMail } from '../transport/compose.js';
import { localizeTemplate, type PreviewCatalogs } from '../i18n/preview-locales.js';

/**
 * What the preview needs of a mail view. Structural on purpose: the app's views are
 * loaded fresh on every change, so they are instances of a fresh copy of MailView,
 * never `instanceof` ours.
 */
export interface PreviewableView {
  readonly template: unknown;
  readonly props: unknown;
  readonly from?: unknown;
  readonly priority?: unknown;
  readonly viewName?: string;
  /** The view's message catalogs, when it is localized: the preview offers each of their locales. */
  readonly i18n?: PreviewCatalogs;
  render(options?: { locale?: string }): Promise<{ subject: string; html: string; text: string; headers: Record<string, string>; locale?: string; missingTranslations?: string[] }>;
  attachments(props: never): Attachment[] | Promise<Attachment[]>;
  /** MailView's: the message exactly as `send()` hands it to a transporter (absent from older copies of MailView). */
  toMessage?(options: object): Promise<ViewMessage>;
}

/** The message a view sends, built as `send()` builds it (`toMessage`), or from its parts for a view without one. */
export async function messageOf(view: PreviewableView, locale?: string): Promise<ViewMessage> {
  if (typeof view.toMessage === 'function') return view.toMessage(locale ? { locale } : {});
  const rendered = await (locale ? view.render({ locale }) : view.render());
  const { [PRIORITY_HEADER]: priority, ...headers } = rendered.headers;
  const attachments = await view.attachments(view.props as never);
  return { from: view.from as ViewMessage['from'], ...rendered, headers, attachments, queuePriority: priority as Priority };
}

/**
 * How an app registers its mail views with the preview: `emails/_views/index.ts` (or
 * .tsx, .mts, .js, .mjs) exports `views`, one entry per view, each with a stable name and a
 * factory returning the view with sample props:
 *
 *     export const views = [{ name: 'welcome', view: () => new WelcomeMail(Welcome.PreviewProps) }];
 *
 * `_views/` because react-email's `email dev` and `email export` skip folders starting
 * with `_`; `emails/views/index.ts`, the earlier place, is still read when there is no `_views/`.
 */
export interface PreviewViewRegistration {
  name: string;
  view: () => PreviewableView;
}

export interface TemplateEntry {
  /** Path under the emails folder without its extension, `/`-separated: `welcome`, `billing/invoice`. */
  name: string;
  file: string;
  component?: ComponentType<object>;
  previewProps: object;
  hasPreviewProps: boolean;
  /** Named sample props besides PreviewProps (`PreviewPropSets`), each its own URL (`?set=name`). */
  propSets: Record<string, object>;
  /** The file could not be imported (syntax error, throwing import). */
  error?: Error;
  /** The registered view that renders this template, if any. */
  view?: ViewEntry;
}

export interface ViewEntry {
  name: string;
  make: () => PreviewableView;
  className?: string;
  priority?: string;
  subject?: string;
  template?: TemplateEntry;
  error?: Error;
}

export interface Catalog {
  dir: string;
  exists: boolean;
  templates: TemplateEntry[];
  views: ViewEntry[];
  viewsFile?: string;
  viewsError?: Error;
}

/** One email as the preview shows it: what would be sent, from sample props. */
export interface EmailPreview {
  subject: string | null;
  /** In order: From, Subject, then the view's headers (priority included). */
  headers: [string, string][];
  html: string;
  text: string;
  attachments: MessageAttachment[];
  /** The class that rendered it, when a mail view did. */
  viewClass?: string;
  /** The language it is written in, when localized. */
  locale?: string;
  /** `locale:key` of strings missing from its catalog, shown from a fallback one. */
  missingTranslations?: string[];
  /** The whole message's size in bytes as the queue would store it (only through a view: a template alone is no message). */
  size?: number;
  /** Whether the view sets a From (undefined for a template no view renders). */
  hasFrom?: boolean;
}

/** Which locale to show (the page's `?locale=`); unset: the message's own. */
export interface PreviewOptions {
  locale?: string;
}

const TEMPLATE_FILE = /\.(tsx|jsx)$/;
const VIEWS_FILES = ['_views', 'views'].flatMap((folder) =>
  ['index.ts', 'index.tsx', 'index.mts', 'index.js', 'index.mjs'].map((f) => join(folder, f)),
);

/**
 * react-email's conventions (its CLI's get-emails-directory-metadata.ts): `_private` and
 * `static` folders are not searched; also skipped here: `_` files, dot files, node_modules.
 */
function templateFiles(dir: string, root = dir): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('_') || name.startsWith('.') || name === 'node_modules' || name === 'static') continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) files.push(...templateFiles(path, root));
    else if (stat?.isFile() && TEMPLATE_FILE.test(name)) files.push(path);
  }
  return files;
}

/**
 * A template's named prop sets: `PreviewPropSets` on the component (as react-email puts
 * `PreviewProps`) or exported beside it, `{ 'long name': {...}, 'empty cart': {...} }`.
 * Entries that are not objects are left out.
 */
function propSetsOf(component: unknown, module: Record<string, unknown>): Record<string, object> {
  const sets = (component as { PreviewPropSets?: unknown }).PreviewPropSets ?? module.PreviewPropSets;
  if (typeof sets !== 'object' || sets === null) return {};
  return Object.fromEntries(Object.entries(sets).filter((e): e is [string, object] => typeof e[1] === 'object' && e[1] !== null && e[0] !== ''));
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * The emails folder's templates and registered views. Loading imports every file
 * fresh (a new tsx namespace per load, so edited files and the files they import are
 * re-read) but once per namespace, so a view's `template` is the very component
 * found in its file. `invalidate()` after a change; the next `load()` re-imports.
 */
export class EmailCatalog {
  private current: Promise<Catalog> | undefined;
  private namespace: { unregister: () => Promise<void> } | undefined;

  constructor(readonly dir: string) {}

  invalidate(): void {
    this.current = undefined;
  }

  load(): Promise<Catalog> {
    this.current ??= this.read();
    return this.current;
  }

  async close(): Promise<void> {
    this.current = undefined;
    await this.namespace?.unregister().catch(() => {});
    this.namespace = undefined;
  }

  private async read(): Promise<Catalog> {
    const catalog: Catalog = { dir: this.dir, exists: existsSync(this.dir), templates: [], views: [] };
    if (!catalog.exists) return catalog;
    const previous = this.namespace;
    // Loaded on first use, so importing mailroom does not load tsx and esbuild.
    const { register } = await import('tsx/esm/api');
    const api = register({ namespace: randomUUID(), tsconfig: nearestTsconfig(this.dir) ?? false });
    this.namespace = api;
    await previous?.unregister().catch(() => {});
    const load = (file: string): Promise<Record<string, unknown>> => api.import(pathToFileURL(file).href, import.meta.url);

    const viewsFile = VIEWS_FILES.map((f) => join(this.dir, f)).find((f) => existsSync(f));
    let registrations: PreviewViewRegistration[] = [];
    if (viewsFile) {
      catalog.viewsFile = viewsFile;
      try {
        const module = await load(viewsFile);
        const views = module.views;
        if (views !== undefined && !Array.isArray(views)) throw new TypeError('its `views` export must be an array of { name, view: () => MailView }');
        registrations = (views ?? []) as PreviewViewRegistration[];
      } catch (error) {
        catalog.viewsError = asError(error);
      }
    }

    for (const file of templateFiles(this.dir)) {
      const name = relative(this.dir, file).replace(TEMPLATE_FILE, '').split(sep).join('/');
      try {
        const module = await load(file);
        const component = module.default;
        if (typeof component !== 'function') continue; // not a template: a helper or a component library
        const previewProps = (component as { PreviewProps?: unknown }).PreviewProps;
        catalog.templates.push({
          name,
          file,
          component: component as ComponentType<object>,
          previewProps: typeof previewProps === 'object' && previewProps !== null ? previewProps : {},
          hasPreviewProps: previewProps !== undefined,
          propSets: propSetsOf(component, module),
        });
      } catch (error) {
        catalog.templates.push({ name, file, previewProps: {}, hasPreviewProps: false, propSets: {}, error: asError(error) });
      }
    }

    for (const registration of registrations) {
      const entry: ViewEntry = { name: String(registration?.name ?? ''), make: () => registration.view() };
      try {
        if (!entry.name || typeof registration.view !== 'function') throw new TypeError('each entry of `views` needs a name and a view() factory');
        const view = registration.view();
        entry.className = view.viewName ?? view.constructor?.name;
        entry.priority = typeof view.priority === 'string' ? view.priority : undefined;
        const template = catalog.templates.find((t) => t.component !== undefined && t.component === view.template);
        if (template) {
          entry.template = template;
          template.view ??= entry;
        }
        const subject = (view as unknown as { subject?: (props: unknown, t: unknown) => unknown }).subject;
        // A localized view's subject takes `t`: the list shows it in the default locale.
        const t = view.i18n ? await view.i18n.translator() : undefined;
        if (typeof subject === 'function') entry.subject = String(subject.call(view, view.props, t));
      } catch (error) {
        entry.error = asError(error);
      }
      catalog.views.push(entry);
    }
    return catalog;
  }
}

/** Who a preview is addressed to: the composer needs a recipient, and the page shows none. */
const PREVIEW_RECIPIENT = 'recipient@preview.invalid';
/** The sender used when a view has none (each send must then give one; the page says so). */
const PREVIEW_SENDER = 'no-from@preview.invalid';
/** Headers of the built message the page does not list: MIME structure, and what differs per send. */
const NOT_SHOWN = new Set(['content-type', 'mime-version', 'content-transfer-encoding', 'message-id', 'date', 'to', 'from', 'subject']);

/**
 * Renders a view through the sending path: the message `toMessage()` builds (what `send()`
 * hands a transporter), composed by the queue transport's own composer (`composeMail`: the
 * same validation, priority handling and MIME building as a queued message), then parsed
 * back. So the page shows the bytes `send()` would store: From, Subject, the view's headers as
 * encoded and decoded, the text and HTML parts, the attachments; and a message `send()` would
 * refuse is refused here with the same error.
 */
export async function previewView(view: PreviewableView, options: PreviewOptions = {}): Promise<EmailPreview> {
  const what = view.viewName ?? view.constructor?.name ?? 'The view';
  let message: ViewMessage;
  try {
    message = await messageOf(view, options.locale);
  } catch (error) {
    throw renderErrorOf(what, error);
  }
  // The language it came out in and the strings that fell back: only a localized view has them.
  const localized = view.i18n ? await view.render(options.locale ? { locale: options.locale } : undefined).catch(() => undefined) : undefined;
  const hasFrom = message.from !== undefined && message.from !== null && message.from !== '';
  const { sendAt: _sendAt, idempotencyKey: _key, ...sendable } = message;
  // A send's own recipients and envelope are not the view's: the preview's placeholder stands in.
  // The app's unsubscribe settings live in its transport, which the preview does not have: a topic's page shows no List-Unsubscribe.
  const composed = await composeMail(
    { ...sendable, to: PREVIEW_RECIPIENT, cc: undefined, bcc: undefined, envelope: undefined, from: hasFrom ? message.from : PREVIEW_SENDER },
    { unsubscribe: false },
  );
  const parsed = await parseMessage(composed.raw);
  const values = parsed.headerValues ?? new Map<string, string>();
  const own = Object.keys((message.headers ?? {}) as Record<string, unknown>).map((k) => k.toLowerCase());
  const shown = [...new Set(own)].filter((k) => !NOT_SHOWN.has(k) && values.has(k));
  const names = new Map(parsed.headerLines.map((h) => [h.key, h.line.slice(0, h.line.indexOf(':'))]));
  return {
    subject: parsed.subject,
    headers: [
      ['From', hasFrom ? (values.get('from') ?? parsed.from) : '(none: this view sets no from, so each send must give one)'],
      ['Subject', parsed.subject],
      ...shown.map((k) => [names.get(k) ?? k, values.get(k)!] as [string, string]),
      [PRIORITY_HEADER, composed.priority],
    ],
    html: parsed.html ?? '',
    text: parsed.text,
    attachments: parsed.attachments,
    viewClass: what,
    locale: localized?.locale,
    missingTranslations: localized?.missingTranslations ?? [],
    size: composed.raw.length,
    hasFrom,
  };
}

/** The same view class built with other props (its constructor takes the props first, as MailView's does). */
export function viewWithProps(sample: PreviewableView, props: unknown): PreviewableView {
  const View = sample.constructor as new (props: unknown, options?: unknown) => PreviewableView;
  return new View(props, (sample as { options?: unknown }).options);
}

/**
 * A template with its PreviewProps (or the props given: a named set, or edited in the page). When a registered view renders this template, the
 * page shows that view built with these props (its subject, headers and attachments);
 * otherwise the template alone, with the default priority.
 */
export async function previewTemplate(entry: TemplateEntry, options: PreviewOptions & { i18n?: PreviewCatalogs; props?: object } = {}): Promise<EmailPreview> {
  if (entry.error) throw renderErrorOf(`Template ${entry.name}`, entry.error);
  const props = options.props ?? entry.previewProps;
  if (entry.view) {
    const sample = entry.view.make();
    let view = sample;
    try {
      view = viewWithProps(sample, props);
    } catch (error) {
      // a view whose constructor takes more than props: show it with its registered sample, unless props were asked for
      if (options.props) throw renderErrorOf(sample.viewName ?? 'The view', error);
    }
    return previewView(view, options);
  }
  try {
    // No view: the template alone, in the app's catalogs when it has some (its useT() reads them).
    const localized = await localizeTemplate(options.i18n, options.locale);
    const { html, text } = await renderTemplate(entry.component!, props as object, localized?.t);
    return {
      subject: null,
      headers: [...(localized ? [['Content-Language', localized.t.locale] as [string, string]] : []), [PRIORITY_HEADER, DEFAULT_PRIORITY]],
      html: localized ? localized.finish(html) : html,
      text,
      attachments: [],
      ...(localized ? { locale: localized.t.locale, missingTranslations: [...localized.t.missing] } : {}),
    };
  } catch (error) {
    throw renderErrorOf(`Template ${entry.name}`, error);
  }
}
