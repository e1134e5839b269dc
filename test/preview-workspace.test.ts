import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { launchBrowser } from './helpers/browser.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** A scratch emails folder: the repo's, plus a nested template with dark-mode rules and one that does not compile. */
function workspace(): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'preview-workspace-'));
  cpSync(join(REPO, 'emails'), dir, { recursive: true });
  cpSync(join(REPO, 'test', 'fixtures', 'preview-workspace'), dir, { recursive: true });
  writeFileSync(join(dir, 'broken.tsx'), 'import * as React from "react";\nexport default function Broken() {\n  return <div>oops</div\n}\n');
  // A view of the nested template, with a header of its own (appended to the app's registrations).
  appendFileSync(
    join(dir, '_views', 'index.ts'),
    `
import DarkPromo, { type DarkPromoProps } from '../marketing/dark-promo.js';
export class PromoMail extends AppMail<DarkPromoProps> {
  readonly template = DarkPromo;
  subject({ headline }: DarkPromoProps) {
    return \`Promo: \${headline}\`;
  }
  override headers({ headline }: DarkPromoProps) {
    return { 'X-Campaign': headline };
  }
}
views.push({ name: 'promo', view: () => new PromoMail(DarkPromo.PreviewProps) } as never);
`,
  );
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  return dir;
}

let browser: Browser;
let dir: string;
let server: PreviewServer;
beforeAll(async () => {
  browser = await launchBrowser();
  dir = workspace();
  server = await startPreviewServer({ emailsDir: dir, port: 0, watch: false });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withPage<T>(body: (page: Page) => Promise<T>, viewport = { width: 1280, height: 900 }): Promise<T> {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  context.setDefaultTimeout(90_000); // the machine may be loaded: the first render imports tsx, React and Prettier
  try {
    return await body(await context.newPage());
  } finally {
    await context.close();
  }
}

const frameOf = (page: Page) => page.frames().find((f) => f.url().includes('/html'))!;

describe('preview: working in a template', () => {
  it('has a sidebar of templates in their folders and of views, driven by the keyboard', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/invoice`);
      const entries = page.locator('#sidebar a[data-entry]');
      expect(await page.evaluate<string[]>(`[...document.querySelectorAll('#sidebar a[data-entry]')].map((a) => a.dataset.entry)`)).toEqual([
        'template:marketing/dark-promo',
        'template:broken',
        'template:invoice',
        'template:password-reset',
        'template:welcome',
        'view:welcome',
        'view:password-reset',
        'view:invoice',
        'view:promo',
      ]);
      expect(await page.locator('#sidebar li.folder summary').textContent()).toBe('marketing');
      expect(await page.locator('#sidebar a[aria-current="page"]').getAttribute('data-entry')).toBe('template:invoice');

      // j opens the next entry, k the previous one.
      await page.keyboard.press('j');
      await page.waitForURL(/\/templates\/password-reset$/);
      await page.keyboard.press('k');
      await page.waitForURL(/\/templates\/invoice$/);

      // Arrows move the focus through the list, Enter opens the focused entry.
      await page.locator('#sidebar a[aria-current="page"]').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate('document.activeElement.dataset.entry')).toBe('template:welcome');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/templates\/welcome$/);

      // / filters; Enter opens the first match.
      await page.keyboard.press('/');
      await page.keyboard.type('dark');
      expect(await page.locator('#sidebar a[data-entry]:visible').count()).toBe(1);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/templates\/marketing%2Fdark-promo$/);
      expect(await page.locator('h1').first().textContent()).toBe('marketing/dark-promo');
    });
  });

  it('sizes the frame to its email, at each width preset and a custom one', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/marketing%2Fdark-promo`);
      const iframe = page.locator('iframe');
      const fitted = async () => {
        await expect.poll(() => iframe.getAttribute('data-fitted')).not.toBeNull();
        const box = (await iframe.boundingBox())!;
        const content = await frameOf(page).evaluate<number>('Math.ceil(document.documentElement.getBoundingClientRect().height)');
        return { box, content };
      };
      const full = await fitted();
      expect(Math.abs(full.box.height - full.content)).toBeLessThanOrEqual(1);
      expect(full.box.height).toBeLessThan(640); // no fixed height with empty space below the email

      for (const width of ['600', '375', '320']) {
        await page.click(`#widths a[data-width="${width}"]`);
        await page.waitForURL(new RegExp(`width=${width}`));
        await expect.poll(async () => (await iframe.boundingBox())?.width).toBe(Number(width));
      }
      const narrow = await fitted();
      expect(Math.abs(narrow.box.height - narrow.content)).toBeLessThanOrEqual(1);
      expect(narrow.box.height).toBeGreaterThan(full.box.height); // the lines wrap at 320 px: taller

      await page.fill('#custom-width', '451');
      await page.press('#custom-width', 'Enter');
      await page.waitForURL(/width=451/);
      await expect.poll(async () => (await iframe.boundingBox())?.width).toBe(451);
      await page.click('#widths a[data-width="full"]');
      await page.waitForURL((url) => !url.searchParams.has('width'));
      expect((await iframe.boundingBox())!.width).toBeGreaterThan(700);
    });
  });

  it('renders the frame with prefers-color-scheme: dark in effect when dark mode is on', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/marketing%2Fdark-promo?width=600`);
      const style = () =>
        frameOf(page).evaluate(`(() => {
          const card = getComputedStyle(document.getElementById('card'));
          return { background: card.backgroundColor, color: card.color, lightOnly: getComputedStyle(document.getElementById('only-light')).display };
        })()`);
      expect(await style()).toEqual({ background: 'rgb(255, 255, 255)', color: 'rgb(17, 17, 17)', lightOnly: 'block' });
      expect(await page.locator('#dark-toggle').getAttribute('aria-checked')).toBe('false');
      await page.click('#dark-toggle');
      await page.waitForURL(/scheme=dark/);
      expect(new URL(page.url()).searchParams.get('width')).toBe('600'); // the width stays
      await page.locator('iframe[data-fitted]').waitFor();
      expect(await style()).toEqual({ background: 'rgb(16, 24, 40)', color: 'rgb(240, 240, 240)', lightOnly: 'none' });
      expect(await page.locator('#dark-toggle').getAttribute('aria-checked')).toBe('true');
      // The sidebar keeps the scheme when switching templates.
      expect(await page.locator('#sidebar a[data-entry="template:welcome"]').getAttribute('href')).toContain('scheme=dark');
    });
  });

  it('shows the HTML source pretty-printed and highlighted, with a copy button', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/welcome`);
      const source = (await page.locator('#source').textContent())!;
      expect(source).toMatch(/^<!DOCTYPE html/i);
      expect(source.split('\n').length).toBeGreaterThan(30); // one tag a line, not one long line as rendered
      expect(source).toMatch(/\n\s+<body/);
      expect(source).toContain('href="https://example.com/login"');
      expect(await page.locator('#source .hljs-tag').count()).toBeGreaterThan(20);
      expect(await page.evaluate(`getComputedStyle(document.querySelector('#source .hljs-attr')).color`)).not.toBe(
        await page.evaluate(`getComputedStyle(document.querySelector('#source')).color`),
      );
      await page.click('#copy-source');
      await expect.poll(() => page.locator('#copy-status').textContent()).toBe('Copied');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(source);
    });
  });

  it('puts the plain text beside the HTML on a wide screen, below it on a narrow one', async () => {
    const boxes = (page: Page) => Promise.all([page.locator('.render-html').boundingBox(), page.locator('#text').boundingBox()]);
    await withPage(
      async (page) => {
        await page.goto(`${server.url}/templates/welcome`);
        const [frame, text] = await boxes(page);
        expect(text!.x).toBeGreaterThanOrEqual(frame!.x + frame!.width);
        expect(text!.y).toBeLessThan(frame!.y + frame!.height);
      },
      { width: 1700, height: 1000 },
    );
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/welcome`);
      const [frame, text] = await boxes(page);
      expect(text!.y).toBeGreaterThanOrEqual(frame!.y + frame!.height);
    });
  });

  it('shows where a template does not compile: file, line and message, no bundler noise, no PreviewProps hint', async () => {
    await withPage(async (page) => {
      const response = await page.goto(`${server.url}/templates/broken`);
      expect(response!.status()).toBe(500);
      expect(await page.locator('#compile-error .error-file').textContent()).toBe('broken.tsx:4:1');
      expect(await page.locator('#compile-error .error-message').textContent()).toBe('Expected ">" but found "}"');
      const text = (await page.locator('main').textContent())!;
      expect(text).not.toContain('Transform failed');
      expect(text).not.toContain('ERROR:');
      expect(text).not.toContain(dir); // no absolute server paths
      expect(text).not.toContain('PreviewProps');
      expect(await page.locator('#sidebar a[data-entry="template:broken"] .state-failed').count()).toBe(1);
    });
  });
});

describe('preview: props', () => {
  it('shows a view’s props as JSON, re-renders as they are edited, and shows the view’s validation message', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/views/welcome`);
      const editor = page.locator('#props-editor');
      expect(JSON.parse(await editor.inputValue())).toEqual({ name: 'Núria Puigdomènech 🎉', loginUrl: 'https://example.com/login' });
      const email = page.frameLocator('iframe');
      const subject = () => page.locator('table.headers tr', { has: page.locator('th:text-is("Subject")') }).locator('td').textContent();

      await editor.fill(JSON.stringify({ name: 'Ada Lovelace', loginUrl: 'https://example.com/ada' }, null, 2));
      await expect.poll(() => email.locator('h1').textContent(), { timeout: 20_000 }).toBe('Welcome, Ada Lovelace!');
      expect(await subject()).toBe('Welcome, Ada Lovelace!');
      expect(await page.locator('#text').textContent()).toContain('https://example.com/ada');
      expect(await page.locator('#source').textContent()).toContain('href="https://example.com/ada"');
      expect(await page.locator('#props-status').getAttribute('data-state')).toBe('ok');
      // The edit is in the URL: reloading (or sharing the link) renders the same props on the server.
      expect(JSON.parse(new URL(page.url()).searchParams.get('props')!)).toEqual({ name: 'Ada Lovelace', loginUrl: 'https://example.com/ada' });
      await page.reload();
      expect(await email.locator('h1').textContent()).toBe('Welcome, Ada Lovelace!');
      expect(await page.locator('#props-edited').count()).toBe(1);

      // The view's own validate() refuses an empty name; the last good render stays.
      await editor.fill(JSON.stringify({ name: '  ', loginUrl: 'https://example.com/ada' }));
      await expect.poll(() => page.locator('#props-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('invalid');
      expect(await page.locator('#props-status').textContent()).toContain('name must not be empty');
      expect(await editor.getAttribute('aria-invalid')).toBe('true');
      expect(await email.locator('h1').textContent()).toBe('Welcome, Ada Lovelace!');

      await editor.fill('{ "name": ');
      await expect.poll(() => page.locator('#props-status').textContent()).toMatch(/^Not JSON/);

      // Opened with props that fail validation: the page says why, with the editor to fix them.
      const response = await page.goto(`${server.url}/views/welcome?props=${encodeURIComponent(JSON.stringify({ name: '', loginUrl: 'x' }))}`);
      expect(response!.status()).toBe(422);
      expect(await page.locator('.error').textContent()).toContain('name must not be empty');
      expect(await page.locator('#props-editor').count()).toBe(1);
    });
  });

  it('swaps the check findings when edited props change them: a localhost link appears in the list, and leaves it when fixed', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/views/welcome`);
      const editor = page.locator('#props-editor');
      const localhostFindings = () => page.locator('#check-findings li.finding[data-rule="urls"]', { hasText: 'https://localhost:3000/login' }).count();
      expect(await localhostFindings()).toBe(0);
      await editor.fill(JSON.stringify({ name: 'Ada', loginUrl: 'https://localhost:3000/login' }));
      await expect.poll(localhostFindings, { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await page.locator('#check-findings li.finding[data-rule="urls"]').first().textContent()).toContain('a local host name');
      // Edited values reach the list as text, never as markup.
      await editor.fill(JSON.stringify({ name: 'Ada', loginUrl: 'https://localhost:3000/<b id="injected">x</b>' }));
      await expect.poll(() => page.locator('#check-findings li.finding[data-rule="urls"]').first().textContent(), { timeout: 20_000 }).toContain('<b id="injected">');
      expect(await page.locator('#injected').count()).toBe(0);
      await editor.fill(JSON.stringify({ name: 'Ada', loginUrl: 'https://example.com/login' }));
      await expect.poll(() => page.locator('#check-findings li.finding[data-rule="urls"]').count(), { timeout: 20_000 }).toBe(0);
    });
  });

  it('offers each named prop set of a template at its own URL', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/marketing%2Fdark-promo`);
      expect(await page.locator('#prop-sets a').allTextContents()).toEqual(['PreviewProps', 'long headline', 'no lines']);
      expect(await page.locator('#prop-sets a[aria-current="true"]').textContent()).toBe('PreviewProps');
      await page.click('#prop-sets a:text-is("long headline")');
      await page.waitForURL(/set=long(\+|%20)headline/);
      const email = page.frameLocator('iframe');
      expect(await email.locator('h1').textContent()).toBe('The longest autumn sale headline we could write, to see where it wraps');
      expect(await email.locator('p').count()).toBe(2); // one line and the light-only note
      expect(JSON.parse(await page.locator('#props-editor').inputValue()).lines).toBe(1);
      expect(await page.locator('#prop-sets a[aria-current="true"]').textContent()).toBe('long headline');

      await page.goto(`${server.url}/templates/marketing%2Fdark-promo?set=no%20lines&width=375`);
      expect(await email.locator('h1').textContent()).toBe('Nothing below');
      expect(await page.locator('#widths a[data-width="320"]').getAttribute('href')).toContain('set=no+lines');
      expect((await page.goto(`${server.url}/templates/marketing%2Fdark-promo?set=nope`))!.status()).toBe(404);
    });
  });
});

describe('preview: through the sending path', () => {
  it('shows a view as toMessage() and the queue’s composer build it, and refuses what send() would refuse', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/views/promo`);
      const header = (name: string) => page.locator('table.headers tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td').textContent();
      expect(await header('From')).toBe('Mailroom Demo <hello@mailroom.test>');
      expect(await header('Subject')).toBe('Promo: Autumn sale');
      expect(await header('X-Campaign')).toBe('Autumn sale');
      expect(await header('X-Mail-Queue-Priority')).toBe('normal');
      const editor = page.locator('#props-editor');
      // Non-ASCII survives the composer's encoding and is shown decoded, as a reader sees it.
      await editor.fill(JSON.stringify({ headline: 'Rebaixes de tardor ☕ — Núria', lines: 1 }));
      await expect.poll(() => header('X-Campaign'), { timeout: 20_000 }).toBe('Rebaixes de tardor ☕ — Núria');
      // A header value with a line break could inject headers: the composer refuses it, here as in send().
      await editor.fill(JSON.stringify({ headline: 'Sale\r\nBcc: everyone@example.com', lines: 1 }));
      await expect.poll(() => page.locator('#props-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('invalid');
      expect(await page.locator('#props-status').textContent()).toContain('line break (CR/LF), which could inject headers');
    });
  });
});
