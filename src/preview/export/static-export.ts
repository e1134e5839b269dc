import { mkdirSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EmailCatalog, messageOf, previewTemplate, previewView, viewWithProps, type PreviewableView, type TemplateEntry, type ViewEntry } from '../templates.js';
import { composeMail } from '../../transport/compose.js';
import { emulateDarkMode } from '../dark-mode.js';
import { ConfigError } from '../../errors.js';
import { exportIndex, type ExportEntry } from './export-index.js';

/** Export mode's fixed values: the same input gives the same bytes. */
export const EXPORT_DATE = new Date('2000-01-01T00:00:00.000Z');
const EXPORT_RECIPIENT = 'recipient@export.invalid';
const EXPORT_SENDER = 'no-from@export.invalid';

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
async function emlOf(view: PreviewableView, id: string): Promise<Buffer> {
  const message = await messageOf(view);
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
  } as never);
  return composed.raw;
}

/** Every template and view, default props and each prop set, as files: `.html`, `.dark.html`, `.txt`, `.eml`, and an offline `index.html`. */
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
    const add = async (kind: 'template' | 'view', name: string, set: string | undefined, render: () => Promise<{ html: string; text: string; subject: string | null }>, view: (() => PreviewableView) | undefined) => {
      const base = `${kind}s/${name}${set === undefined ? '' : `--${slug(set)}`}`;
      try {
        const preview = await render();
        const eml = view ? await emlOf(view(), `${kind}.${name}.${set ?? 'default'}`) : undefined;
        files.set(`${base}.html`, preview.html);
        files.set(`${base}.dark.html`, emulateDarkMode(preview.html));
        files.set(`${base}.txt`, preview.text);
        if (eml) files.set(`${base}.eml`, eml);
        entries.push({ kind, name, set, subject: preview.subject, base, eml: Boolean(eml) });
      } catch (error) {
        failed.push({ what: `${kind} ${name}${set === undefined ? '' : ` (${set})`}`, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
      }
    };
    for (const t of loaded.templates) {
      for (const set of [undefined, ...Object.keys(t.propSets)]) {
        const props = set === undefined ? undefined : t.propSets[set];
        await add('template', t.name, set, () => previewTemplate(t, { props }), t.view && !t.error ? () => viewWithProps(t.view!.make(), props ?? t.previewProps) : undefined);
      }
    }
    for (const v of loaded.views) {
      if (v.error) {
        failed.push({ what: `view ${v.name}`, error: v.error.message.split('\n')[0]! });
        continue;
      }
      const sets: Record<string, object> = v.template?.propSets ?? {};
      for (const set of [undefined, ...Object.keys(sets)]) {
        const make = () => (set === undefined ? v.make() : viewWithProps(v.make(), sets[set]));
        await add('view', v.name, set, () => previewView(make()), make);
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
  writeFileSync(join(outDir, 'index.html'), exportIndex(entries));
  return { entries, failed };
}

export type { TemplateEntry, ViewEntry };
