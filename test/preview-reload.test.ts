import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { waitFor } from './helpers/wait.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** A scratch copy of emails/ inside the repo (so `react` and `mailroom` resolve from it), as in preview.test.ts. */
function copyEmails(): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'preview-reload-'));
  cpSync(join(REPO, 'emails'), dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  return dir;
}

/** How `sed -i` and editors' safe write save: a temporary file renamed over the original (a new inode). */
function saveByRename(file: string, content: string): void {
  const temporary = join(dirname(file), `.${Date.now()}.tmp`);
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

describe('preview: live reload of files saved by rename', () => {
  let dir: string;
  let server: PreviewServer;

  beforeAll(async () => {
    dir = copyEmails();
    server = await startPreviewServer({ emailsDir: dir, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Each wait ends as soon as the server shows the edit; nothing but the file watcher tells it to re-read. */
  const shows = (path: string, text: string) =>
    waitFor(async () => (await (await fetch(`${server.url}${path}`)).text()).includes(text), `${path} to show “${text}”`);

  it('sees every later edit of a template saved by rename, in the folder and in _views/', async () => {
    const template = join(dir, 'welcome.tsx');
    const original = readFileSync(template, 'utf8');
    expect(await (await fetch(`${server.url}/templates/welcome/html`)).text()).toContain('Your account is ready.');

    // The template's own text (its strings live in _locales/en.json, the next step edits that).
    const body = "{t('welcome.body')}";
    expect(original).toContain(body);
    saveByRename(template, original.replace(body, 'First edit, saved by rename.'));
    await shows('/templates/welcome/html', 'First edit, saved by rename.');
    // The edit the old watcher missed: the file that was renamed in, written in place.
    writeFileSync(template, original.replace(body, 'Second edit, written in place.'));
    await shows('/templates/welcome/html', 'Second edit, written in place.');
    saveByRename(template, original.replace(body, 'Third edit, by rename again.'));
    await shows('/templates/welcome/html', 'Third edit, by rename again.');
    writeFileSync(template, original);

    // A catalog: a translator's edit shows at once, in its locale's URL.
    const catalog = join(dir, '_locales', 'ca.json');
    const catalan = readFileSync(catalog, 'utf8');
    expect(catalan).toContain('El teu compte ja està a punt.');
    saveByRename(catalog, catalan.replace('El teu compte ja està a punt.', 'Catàleg editat.'));
    await shows('/templates/welcome/html?locale=ca', 'Catàleg editat.');

    // The views file, one folder down.
    const views = join(dir, '_views', 'index.ts');
    const registered = readFileSync(views, 'utf8');
    const subject = "return t('welcome.subject', { name });";
    expect(registered).toContain(subject);
    saveByRename(views, registered.replace(subject, 'return `Hello by rename, ${name}!`;'));
    await shows('/views/welcome', 'Hello by rename, ');
    writeFileSync(views, registered.replace(subject, 'return `Hello in place, ${name}!`;'));
    await shows('/views/welcome', 'Hello in place, ');
  });

  it('watches a folder created after the server started', async () => {
    const folder = join(dir, 'billing');
    mkdirSync(folder);
    const receipt = (text: string) => `import { Html, Text } from '@react-email/components';\nexport default function Receipt() { return <Html><Text>${text}</Text></Html>; }\n`;
    writeFileSync(join(folder, 'receipt.tsx'), receipt('Receipt, first draft.'));
    await shows('/templates/billing%2Freceipt/html', 'Receipt, first draft.');
    saveByRename(join(folder, 'receipt.tsx'), receipt('Receipt, saved by rename.'));
    await shows('/templates/billing%2Freceipt/html', 'Receipt, saved by rename.');
    writeFileSync(join(folder, 'receipt.tsx'), receipt('Receipt, written in place.'));
    await shows('/templates/billing%2Freceipt/html', 'Receipt, written in place.');
  });
});
