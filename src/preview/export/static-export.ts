import { mkdirSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EmailCatalog, messageOf, previewTemplate, previewView, viewWithProps, type EmailPreview, type PreviewableView, type TemplateEntry, type ViewEntry } from '../templates.js';
import { pageCatalogs, previewLocales } from '../../i18n/preview-locales.js';
import { composeMail } from '../../transport/compose.js';
import { emulateDarkMode } from '../dark-mode.js';
import { ConfigError } from '../../errors.js';
import { exportIndex, type ExportEntry } from './export-index.js';

/** Export mode's fixed values: the same input gives the same bytes. */
export const EXPORT_DATE = new Date('2000-01-01T00:00:00.000Z');
const EXPORT_RECIPIENT = 'recipient@export.invalid';
const EXPORT_SENDER = 'no-from@export.invalid';
/** Marks the .eml of a template no view sends: not what the queue would store, only the template in a message. */
export const TEMPLATE_ONLY_HEADER = 'X-Mailroom-Export';
export const TEMPLATE_ONLY_VALUE = 'template only: no mail view sends it; rendered from its preview props, From and Subject are placeholders';

export interface ExportOptions {
  emailsDir: string;
  outDir: string;
}

export interface ExportResult {
  entries: ExportEntry[];
  /** Templates or views that could not be rendered, each with its one-line reason (the export still writes the rest). */
  failed: { what: string; error: string }[];
}

/** `long name` → `long-name`: a prop set's name as part of a file name. */
const slug = (name: string) => name.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'set';

/** A name usable in a Message-ID and a MIME boundary. */
const token = (text: string) => text.replace(/[^A-Za-z0-9.-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'mail';

/**
 * The exact bytes the queue would store for this view (placeholders for the recipient and
 * a missing From), with a fixed Date, Message-ID and MIME boundary.
 */
async function emlOf(view: PreviewableView, id: string, locale: string | undefined): Promise<Buffer> {
  const message = await messageOf(view, locale);
  const { sendAt: _s, idempotencyKey: _k, ...rest } = message;
  const from = rest.from === undefined || rest.from === null || rest.from === '' ? EXPORT_SENDER : rest.from;
  const composed = await composeMail({
    ...rest,
    from,
    to: EXPORT_RECIPIENT,
    cc: undefined,
    bcc: undefined,
    envelope: undefined,
    date: EXPORT_DATE,
    messageId: `<${token(id)}@export.mailroom.invalid>`,
    baseBoundary: token(id),
  } as never, { unsubscribe: false }); // the export has no unsubscribe settings: a topic's message shows none, as in the preview
  return composed.raw;
}

/**
 * A template no view sends, as a message all the same (so a reviewer can open it in a mail
 * client): its render with placeholder From and Subject, marked by TEMPLATE_ONLY_HEADER.
 */
async function templateEmlOf(name: string, preview: EmailPreview, id: string): Promise<Buffer> {
  const language = preview.headers.find(([k]) => k.toLowerCase() === 'content-language')?.[1];
  const composed = await composeMail({
    from: EXPORT_SENDER,
    to: EXPORT_RECIPIENT,
    subject: `[template only] ${name}`,
    html: preview.html,
    text: preview.text,
    headers: { [TEMPLATE_ONLY_HEADER]: TEMPLATE_ONLY_VALUE, ...(language ? { 'Content-Language': language } : {}) },
    date: EXPORT_DATE,
    messageId: `<${token(id)}@export.mailroom.invalid>`,
    baseBoundary: token(id),
  } as never, { unsubscribe: false }); // the export has no unsubscribe settings: a topic's message shows none, as in the preview
  return composed.raw;
}

/**
 * Every template and view, default props and each prop set, in every locale the preview offers
 * it in, as files: `.html`, `.dark.html`, `.txt`, `.eml`, and an offline `index.html`. A
 * template no view sends gets an .eml too, marked as only the template (TEMPLATE_ONLY_HEADER).
 */
export async function exportEmails(options: ExportOptions): Promise<ExportResult> {
  const emailsDir = resolve(options.emailsDir);
  const outDir = resolve(options.outDir);
  if (!existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: pass --emails DIR (the folder with your templates).`);
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && !existsSync(join(outDir, 'index.html'))) {
    throw new ConfigError(`${outDir} is not empty and holds no earlier export: pass --out with a new or empty folder.`);
  }
  const catalog = new EmailCatalog(emailsDir);
  const entries: ExportEntry[] = [];
  const failed: ExportResult['failed'] = [];
  const files = new Map<string, Buffer | string>();
  try {
    const loaded = await catalog.load();
    /**
     * One email in one locale: `base` is `templates/NAME[--set]`, and each locale but the first
     * (the default) adds `@LOCALE`, so a single-language app's files keep their plain names.
     */
    const add = async (
      kind: 'template' | 'view',
      name: string,
      set: string | undefined,
      locale: string | undefined,
      suffixed: boolean,
      render: () => Promise<EmailPreview>,
      view: (() => PreviewableView) | undefined,
    ) => {
      const base = `${kind}s/${name}${set === undefined ? '' : `--${slug(set)}`}${suffixed ? `@${locale}` : ''}`;
      const id = `${kind}.${name}.${set ?? 'default'}${suffixed ? `.${locale}` : ''}`;
      const label = `${kind} ${name}${set === undefined ? '' : ` (${set})`}${suffixed ? ` [${locale}]` : ''}`;
      try {
        const preview = await render();
        const eml = view ? await emlOf(view(), id, suffixed ? locale : undefined) : await templateEmlOf(name, preview, id);
        files.set(`${base}.html`, preview.html);
        files.set(`${base}.dark.html`, emulateDarkMode(preview.html));
        files.set(`${base}.txt`, preview.text);
        files.set(`${base}.eml`, eml);
        const language = preview.locale ?? locale;
        entries.push({ kind, name, set, ...(language ? { locale: language } : {}), subject: preview.subject, base, eml: true, ...(view ? {} : { templateOnly: true }) });
      } catch (error) {
        failed.push({ what: label, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
      }
    };
    /** The locales the preview offers this email in (default first), or one pass without a locale. */
    const localesOf = (entry: Parameters<typeof pageCatalogs>[0]) => {
      const locales = previewLocales(pageCatalogs(entry, loaded.views));
      return locales.length ? locales : [undefined];
    };
    for (const t of loaded.templates) {
      const i18n = pageCatalogs(t, loaded.views);
      const locales = localesOf(t);
      for (const set of [undefined, ...Object.keys(t.propSets)]) {
        const props = set === undefined ? undefined : t.propSets[set];
        for (const [i, locale] of locales.entries()) {
          const view = t.view && !t.error ? () => viewWithProps(t.view!.make(), props ?? t.previewProps) : undefined;
          // The first is the page's own (no ?locale=): the message's locale, as the preview shows it by default.
          const asked = i > 0 ? locale : undefined;
          await add('template', t.name, set, locale, i > 0, () => previewTemplate(t, { props, locale: asked, i18n }), view);
        }
      }
    }
    for (const v of loaded.views) {
      if (v.error) {
        failed.push({ what: `view ${v.name}`, error: v.error.message.split('\n')[0]! });
        continue;
      }
      const sets: Record<string, object> = v.template?.propSets ?? {};
      const locales = localesOf(v);
      for (const set of [undefined, ...Object.keys(sets)]) {
        const make = () => (set === undefined ? v.make() : viewWithProps(v.make(), sets[set]));
        for (const [i, locale] of locales.entries()) await add('view', v.name, set, locale, i > 0, () => previewView(make(), { locale: i > 0 ? locale : undefined }), make);
      }
    }
  } finally {
    await catalog.close();
  }
  // Written only once everything rendered: a failed export leaves the previous one whole.
  for (const dir of ['templates', 'views']) rmSync(join(outDir, dir), { recursive: true, force: true });
  for (const [path, content] of files) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), content);
  }
  mkdirSync(outDir, { recursive: true }); // also when nothing rendered: the index says so
  writeFileSync(join(outDir, 'index.html'), exportIndex(entries));
  return { entries, failed };
}

export type { TemplateEntry, ViewEntry };
