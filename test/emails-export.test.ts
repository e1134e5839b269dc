// react-email's own `email export` (the react-email CLI, a devDependency) run on emails/, as a
// react-email user runs it: every template exports to HTML with no props, and nothing else in
// the folder (the views in _views/) is taken for a template. emails-folder.test.ts checks the
// same convention through react-email's listing rule and `render`; this is the tool itself.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EMAILS = join(REPO, 'emails');
const EMAIL_CLI = join(REPO, 'node_modules/.bin/email');

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder inside the repo, so templates copied there resolve React and react-email from it. */
function scratchDir(prefix: string): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', prefix));
  scratch.push(dir);
  return dir;
}

/** `email export --dir <emails> --outDir <out>`: its exit code and what it printed. */
function exportEmails(emails: string, out: string, cwd = REPO): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(EMAIL_CLI, ['export', '--dir', emails, '--outDir', out, '--silent'], { cwd, timeout: 170_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr });
    });
  });
}

/** The .tsx templates under `dir`, skipping `_` folders as react-email does, as `welcome`, `sub/name`. */
function templatesIn(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return entry.name.startsWith('_') ? [] : templatesIn(join(dir, entry.name), root);
    return entry.name.endsWith('.tsx') ? [relative(root, join(dir, entry.name)).replace(/\.tsx$/, '')] : [];
  });
}

/** Every file under `dir`, relative to it. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('react-email’s `email export` on emails/', () => {
  it('exports every template to HTML, with no props, and only the templates', async () => {
    const templates = templatesIn(EMAILS).sort();
    expect(templates.length).toBeGreaterThan(0);
    const out = scratchDir('email-export-');
    const result = await exportEmails(EMAILS, out);
    expect(result.code, result.output).toBe(0);
    expect(filesIn(out)).toEqual(templates.map((name) => `${name}.html`).sort());
    for (const name of templates) {
      const html = readFileSync(join(out, `${name}.html`), 'utf8');
      expect(html, name).toMatch(/^<!DOCTYPE html/);
      expect(html, name).toMatch(/<body[\s>][\s\S]*\S[\s\S]*<\/body>/);
    }
  });

  it('fails on a template that needs props, naming the error (what the check above relies on)', async () => {
    const emails = scratchDir('email-export-src-');
    cpSync(EMAILS, emails, { recursive: true });
    writeFileSync(
      join(emails, 'needs-props.tsx'),
      'export default function NeedsProps({ name }: { name: string }) {\n  return <p>{name.toUpperCase()}</p>;\n}\n',
    );
    const result = await exportEmails(emails, join(scratchDir('email-export-'), 'out'));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Cannot read properties of undefined \(reading 'toUpperCase'\)/);
  });

  it('exports a localized template whose catalogs are modules, from any working directory; a folder found by import.meta.url does not', async () => {
    const app = (folderForm: boolean) => {
      const emails = scratchDir('email-export-modules-');
      mkdirSync(join(emails, '_locales'));
      writeFileSync(join(emails, '_locales/en.json'), JSON.stringify({ hello: 'Hello, {name}!', items: '{n, plural, one {# item} other {# items}}' }));
      writeFileSync(join(emails, '_locales/ca.json'), JSON.stringify({ hello: 'Hola, {name}!' }));
      writeFileSync(
        join(emails, '_locales/i18n.ts'),
        folderForm
          ? "import { defineCatalogs } from 'mailroom';\nexport const i18n = defineCatalogs({ folder: new URL('./', import.meta.url), defaultLocale: 'en' });\n"
          : [
              "import { defineCatalogs } from 'mailroom';",
              "import en from './en.json' with { type: 'json' };",
              "export const i18n = defineCatalogs<typeof en>({ defaultLocale: 'en', catalogs: { en, ca: () => import('./ca.json', { with: { type: 'json' } }) } });",
              '',
            ].join('\n'),
      );
      writeFileSync(
        join(emails, 'hello.tsx'),
        [
          "import { Html, Text } from '@react-email/components';",
          "import { i18n } from './_locales/i18n.js';",
          'export default function Hello() {',
          '  const t = i18n.useT();',
          "  return <Html lang={t.locale}><Text>{t('hello', { name: 'Ona' })} {t('items', { n: 2 })}</Text></Html>;",
          '}',
          '',
        ].join('\n'),
      );
      return emails;
    };
    const elsewhere = scratchDir('email-export-cwd-'); // not the project's root: nothing found from the working directory
    const [modules, folder] = [app(false), app(true)];
    const [outModules, outFolder] = [join(scratchDir('email-export-'), 'out'), join(scratchDir('email-export-'), 'out')];
    const [exported, control] = await Promise.all([exportEmails(modules, outModules, elsewhere), exportEmails(folder, outFolder, elsewhere)]);
    expect(exported.code, exported.output).toBe(0);
    const html = readFileSync(join(outModules, 'hello.html'), 'utf8');
    expect(html.replace(/<!-- -->/g, '')).toContain('Hello, Ona! 2 items');
    expect(html).toMatch(/<html[^>]* lang="en"/);
    expect(control.code, control.output).not.toBe(0); // why the module form exists
  });
});
