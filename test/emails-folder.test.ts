import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createElement, type ComponentType } from 'react';
import { render } from '@react-email/render';
import { EmailCatalog } from '../src/preview/templates.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EMAILS = join(REPO, 'emails');

/**
 * react-email's rule for which files are templates, as `email dev` and `email export`
 * collect them: resend/react-email, packages/react-email/src/cli/utils/get-emails-directory-metadata.ts
 * (react-email 6.9, commit ffe6058; `email dev`'s copy in packages/ui/src/utils/ also takes
 * `.html` files). Folders starting with `_` and folders named `static` are not searched; in
 * the others, a `.js`, `.tsx` or `.jsx` file is a template when its text has a default export.
 */
const SEARCHED_FOLDER = (name: string) => !name.startsWith('_') && name !== 'static';
const TEMPLATE_EXTENSIONS = ['.js', '.tsx', '.jsx', '.html'];
const hasDefaultExport = (text: string) =>
  /\bexport\s+default\b/.test(text) || /\bmodule\.exports\s*=/.test(text) || /\bexport\s+\{[^}]*\bdefault\b[^}]*\}/.test(text);

/** Every file react-email looks at (in the folders it searches), and those it takes for templates. */
function reactEmailView(dir: string, seen: string[] = [], templates: string[] = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SEARCHED_FOLDER(entry.name)) reactEmailView(path, seen, templates);
      continue;
    }
    seen.push(path);
    if (TEMPLATE_EXTENSIONS.includes(extname(entry.name)) && hasDefaultExport(readFileSync(path, 'utf8'))) templates.push(path);
  }
  return { seen: seen.sort(), templates: templates.sort() };
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A scratch copy of emails/ inside the repo (so `react` and `mailroom` resolve from it). */
function copyEmails(): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'emails-folder-'));
  scratch.push(dir);
  cpSync(EMAILS, dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  return dir;
}

describe('emails/: what react-email’s own tools see', () => {
  it('holds only templates where react-email looks: views and the demo live elsewhere', () => {
    const { seen, templates } = reactEmailView(EMAILS);
    expect(templates.length).toBeGreaterThan(0);
    expect(seen.map((f) => relative(EMAILS, f))).toEqual(templates.map((f) => relative(EMAILS, f)));
  });

  it('renders every template with no props, as `email export` does, exactly as with its PreviewProps', async () => {
    for (const file of reactEmailView(EMAILS).templates) {
      const Template = (await import(file)).default as ComponentType<object> & { PreviewProps?: object };
      const bare = await render(createElement(Template, {}));
      expect(bare, file).toMatch(/^<!DOCTYPE html/);
      expect(bare, file).toBe(await render(createElement(Template, Template.PreviewProps ?? {})));
    }
  });

  it('the preview lists the same templates as react-email, and finds the views in _views/', async () => {
    const catalog = new EmailCatalog(EMAILS);
    try {
      const loaded = await catalog.load();
      const names = reactEmailView(EMAILS).templates.map((f) => relative(EMAILS, f).replace(/\.\w+$/, '').split(sep).join('/'));
      expect(loaded.templates.map((t) => t.name)).toEqual(names);
      expect(loaded.templates.filter((t) => t.error)).toEqual([]);
      expect(loaded.viewsFile).toBe(join(EMAILS, '_views', 'index.ts'));
      expect(loaded.views.map((v) => v.name)).toEqual(['welcome', 'password-reset', 'invoice']);
      expect(loaded.views.every((v) => v.template && !v.error)).toBe(true);
    } finally {
      await catalog.close();
    }
  });

  it('still finds views where earlier apps put them, emails/views/; skips `_` and `static` folders as react-email does', async () => {
    const dir = copyEmails();
    renameSync(join(dir, '_views'), join(dir, 'views'));
    const component = `export default function Part() { return null; }\n`;
    for (const folder of ['static', '_components']) {
      mkdirSync(join(dir, folder));
      writeFileSync(join(dir, folder, 'part.tsx'), component);
    }
    expect(reactEmailView(dir).templates.map((f) => relative(dir, f))).toEqual(['invoice.tsx', 'password-reset.tsx', 'welcome.tsx']);
    const catalog = new EmailCatalog(dir);
    try {
      const loaded = await catalog.load();
      expect(loaded.viewsFile).toBe(join(dir, 'views', 'index.ts'));
      expect(loaded.views.map((v) => [v.name, v.template?.name])).toEqual([
        ['welcome', 'welcome'],
        ['password-reset', 'password-reset'],
        ['invoice', 'invoice'],
      ]);
      expect(loaded.templates.map((t) => t.name)).toEqual(['invoice', 'password-reset', 'welcome']);
    } finally {
      await catalog.close();
    }
  });
});
