import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { simpleParser } from 'mailparser';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { mailroom } from './helpers/cli.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Every file under `dir`, by relative path, with its bytes. */
function tree(dir: string, root = dir): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [k, v] of tree(path, root)) files.set(k, v);
    else files.set(relative(root, path), readFileSync(path));
  }
  return files;
}

let dir: string;
let emails: string;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  dir = mkdtempSync(join(REPO, 'test-results', 'preview-export-'));
  emails = join(dir, 'emails');
  cpSync(join(REPO, 'emails'), emails, { recursive: true });
  cpSync(join(REPO, 'test', 'fixtures', 'preview-workspace'), emails, { recursive: true });
  writeFileSync(join(emails, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', include: ['.'] }));
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mailroom export', () => {
  it('exports a bulk view (one with a topic) as the preview shows it: no List-Unsubscribe, since it has no unsubscribe settings', async () => {
    const bulk = join(dir, 'bulk-emails');
    cpSync(join(REPO, 'emails'), bulk, { recursive: true });
    writeFileSync(join(bulk, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', include: ['.'] }));
    // A template of its own (the export names a view's files after its template), sent by a view with a topic.
    cpSync(join(bulk, 'welcome.tsx'), join(bulk, 'news.tsx'));
    const views = join(bulk, '_views', 'index.ts');
    writeFileSync(
      views,
      "import News from '../news.js';\n" +
        readFileSync(views, 'utf8') +
        "\nexport class NewsMail extends AppMail<WelcomeProps> {\n  readonly template = News;\n  override topic = 'news';\n  subject() {\n    return 'The news';\n  }\n}\nviews.push({ name: 'news', view: () => new NewsMail(News.PreviewProps) });\n",
    );
    const out = join(dir, 'bulk-out');
    const run = await mailroom(['export', '--out', out, '--emails', bulk]);
    expect(run.stderr + run.stdout).not.toMatch(/NewsMail.*(could not|fail|List-Unsubscribe)/i);
    expect(run.code).toBe(0);
    const emls = [...tree(out).entries()].filter(([path]) => /^views\/.*news/i.test(path) && path.endsWith('.eml'));
    expect(emls.length, [...tree(out).keys()].filter((p) => p.endsWith('.eml')).join(' ')).toBeGreaterThan(0);
    const parsed = await simpleParser(emls[0]![1]);
    expect(parsed.subject).toBe('The news');
    expect(parsed.headerLines.map((h) => h.key)).not.toContain('list-unsubscribe');
  }, 120_000);

  it('writes .html, .txt and .eml per template, view, prop set and locale, the same bytes every time, browsable offline', async () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    const a = await mailroom(['export', '--out', first, '--emails', emails]);
    expect(a.stderr + a.stdout).toContain('written to');
    expect(a.code).toBe(0);
    expect((await mailroom(['export', '--out', second, '--emails', emails])).code).toBe(0);

    const one = tree(first);
    const two = tree(second);
    expect([...one.keys()].sort()).toEqual([...two.keys()].sort());
    for (const [path, bytes] of one) expect(bytes.equals(two.get(path)!), path).toBe(true);
    for (const path of [
      'index.html',
      'templates/marketing/dark-promo.html',
      'templates/marketing/dark-promo.dark.html',
      'templates/marketing/dark-promo.txt',
      'templates/marketing/dark-promo--long-headline.html',
      'templates/marketing/dark-promo--no-lines.txt',
      'templates/welcome.eml',
      'views/invoice.eml',
      'views/invoice.html',
    ]) {
      expect(one.has(path), path).toBe(true);
    }
    // No view sends dark-promo: its .eml is the template alone, marked so, with placeholder From and Subject.
    const alone = await simpleParser(one.get('templates/marketing/dark-promo.eml')!);
    expect(alone.headers.get('x-mailroom-export')).toMatch(/^template only: no mail view sends it/);
    expect(alone.subject).toBe('[template only] marketing/dark-promo');
    expect(alone.from?.text).toBe('no-from@export.invalid');
    expect(alone.html).toContain('id="card"');
    expect(one.get('templates/marketing/dark-promo--no-lines@ca.eml')).toBeDefined();
    // Every locale of the app, not only the default: the first keeps the plain name, the others add @LOCALE.
    for (const locale of ['ar', 'ca', 'es', 'ja']) {
      for (const ext of ['html', 'dark.html', 'txt', 'eml']) expect(one.has(`views/invoice@${locale}.${ext}`), `views/invoice@${locale}.${ext}`).toBe(true);
    }
    const ca = await simpleParser(one.get('views/welcome@ca.eml')!);
    expect(ca.headers.get('content-language')).toBe('ca');
    expect(ca.subject).toMatch(/^Et donem la benvinguda/);
    expect(ca.messageId).toBe('<view.welcome.default.ca@export.mailroom.invalid>');
    expect((await simpleParser(one.get('views/welcome.eml')!)).headers.get('content-language')).toBe('en');
    expect(one.get('templates/welcome@ar.html')!.toString()).toMatch(/<html dir="rtl" lang="ar">/);
    // The .eml is the queue's message: From, Subject, the PDF, a fixed Date and Message-ID.
    const eml = await simpleParser(one.get('views/invoice.eml')!);
    expect(eml.from?.text).toContain('hello@mailroom.test');
    expect(eml.subject).toBe('Invoice F-2026-0042');
    expect(eml.date?.toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(eml.messageId).toBe('<view.invoice.default@export.mailroom.invalid>');
    expect(eml.attachments.map((x) => x.contentType)).toEqual(['application/pdf']);
    expect(one.get('templates/marketing/dark-promo--long-headline.html')!.toString()).toContain('The longest autumn sale headline');

    // Opened from disk: the list, the widths, the dark toggle.
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    try {
      await page.goto(pathToFileURL(join(first, 'index.html')).href);
      expect(await page.locator('#templates a').count()).toBe(6 * 5); // 6 templates and prop sets, 5 locales each
      expect(await page.locator('#views a .locale').allTextContents()).toEqual(Array(3).fill(['en', 'ar', 'ca', 'es', 'ja']).flat());
      await page.locator('#templates a:has-text("marketing/dark-promo")').first().click();
      const frame = () => page.frames().find((f) => f.url().includes('dark-promo'))!;
      await expect.poll(() => frame()?.url()).toMatch(/dark-promo\.html$/);
      const card = () => frame().evaluate(`getComputedStyle(document.getElementById('card')).backgroundColor`);
      await expect.poll(card).toBe('rgb(255, 255, 255)');
      await page.click('#dark-toggle');
      await expect.poll(() => frame()?.url()).toMatch(/dark-promo\.dark\.html$/);
      await expect.poll(card).toBe('rgb(16, 24, 40)');
      await page.click('#widths [data-width="320"]');
      await expect.poll(async () => (await page.locator('#email').boundingBox())?.width).toBe(320);
      expect(await page.locator('#subject').textContent()).toBe('No view renders this template: no subject.');
      expect(await page.locator('#eml-note').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('refuses to write into a folder that holds something else', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const result = await mailroom(['export', '--out', other, '--emails', emails]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not empty and holds no earlier export');
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });
});
