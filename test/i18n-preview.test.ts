// The preview in Chromium: every template and view page switches locale (each its own
// URL), shows two locales side by side, lays Arabic out right to left, and warns about
// strings a catalog lacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { launchBrowser } from './helpers/browser.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

describe('preview: locales', () => {
  let dir: string;
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'test-results', 'i18n-preview-'));
    cpSync(join(REPO, 'emails'), dir, { recursive: true });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
    // Spanish lacks one string: the preview shows it in English and says so.
    const es = JSON.parse(readFileSync(join(dir, '_locales', 'es.json'), 'utf8')) as Record<string, string>;
    delete es['welcome.body'];
    writeFileSync(join(dir, '_locales', 'es.json'), JSON.stringify(es, null, 2));
    server = await startPreviewServer({ emailsDir: dir, port: 0 });
    await fetch(`${server.url}/`); // loads (compiles) the emails folder once, within the hook's time
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(90_000); // a starved shared box renders slowly; waits end as soon as the page is there
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const email = () => page.frameLocator('iframe').first();

  it('switches a view between English, Catalan and Spanish, each at its own URL', async () => {
    await page.goto(`${server.url}/views/welcome`);
    expect(await email().locator('h1').textContent()).toBe('Welcome, Núria Puigdomènech 🎉!');
    await page.locator('#locale-switch a', { hasText: 'català' }).click();
    await page.waitForURL(/\?locale=ca$/); // a link: the locale is in the URL
    await expect.poll(() => email().locator('h1').textContent()).toBe('Et donem la benvinguda, Núria Puigdomènech 🎉!');
    expect(await email().locator('html').getAttribute('lang')).toBe('ca');
    expect(await page.locator('.headers tr', { hasText: 'Subject' }).locator('td').textContent()).toBe('Et donem la benvinguda, Núria Puigdomènech 🎉!');
    expect(await page.locator('.headers tr', { hasText: 'Content-Language' }).locator('td').textContent()).toBe('ca');
    await page.locator('#locale-switch a', { hasText: 'español' }).click();
    await page.waitForURL(/\?locale=es$/);
    await expect.poll(() => email().locator('h1').textContent()).toBe('¡Te damos la bienvenida, Núria Puigdomènech 🎉!');
    await page.reload(); // the URL alone says which locale
    expect(await email().locator('html').getAttribute('lang')).toBe('es');
  });

  it('warns about a missing string and shows it from the default catalog', async () => {
    await page.goto(`${server.url}/views/welcome?locale=es`);
    const warning = page.locator('.warning[role=status]');
    expect(await warning.textContent()).toMatch(/1 missing translation in es[\s\S]*welcome\.body/);
    expect(await email().locator('p').first().textContent()).toBe('Your account is ready. Sign in to finish setting it up.');
    await page.goto(`${server.url}/views/welcome?locale=ca`);
    expect(await page.locator('.warning').count()).toBe(0);
  });

  it('a template page has the switcher too, and shows two locales side by side', async () => {
    await page.goto(`${server.url}/templates/invoice`);
    await page.locator('#compare-switch a', { hasText: 'العربية' }).click();
    await page.waitForURL(/compare=ar/);
    const a = page.locator('#side-a iframe').contentFrame();
    const b = page.locator('#side-b iframe').contentFrame();
    expect(await a.locator('h1').textContent()).toBe('Invoice F-2026-0042');
    expect(await b.locator('h1').textContent()).toBe('الفاتورة F-2026-0042');
    expect(await b.locator('html').getAttribute('dir')).toBe('rtl');
    await page.screenshot({ path: join(REPO, 'test-results', 'i18n-preview-side-by-side.png'), fullPage: true });
  });

  it('lays Arabic out right to left: heading at the right, amounts at the line’s end (left)', async () => {
    await page.goto(`${server.url}/templates/invoice/html?locale=ar`);
    const box = async (selector: string) => (await page.locator(selector).first().boundingBox())!;
    const cell = async (text: RegExp) => (await page.locator('td', { hasText: text }).last().boundingBox())!; // the innermost
    const heading = await box('h1');
    const container = await box('table[dir="rtl"]');
    // Where the heading's text itself sits (the h1 box is full width either way).
    const headingText = (await page.evaluate(
      '(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector("h1")); const b = r.getBoundingClientRect(); return { left: b.left, right: b.right }; })()',
    )) as { left: number; right: number };
    expect(heading.x + heading.width).toBeGreaterThan(container.x + container.width - 40);
    expect(headingText.right - (container.x + container.width)).toBeGreaterThan(-40); // the text hugs the right edge
    expect(headingText.left - container.x).toBeGreaterThan(100); // and leaves the left side free
    const description = await cell(/^Subscripció anual ☕$/);
    const amount = await cell(/^\u200f?120\.00\s€$/);
    expect(amount.x).toBeLessThan(description.x);
    await page.goto(`${server.url}/templates/invoice/html?locale=ca`);
    const caDescription = await cell(/^Subscripció anual ☕$/);
    const caAmount = await cell(/^120,00\s€$/);
    expect(caAmount.x).toBeGreaterThan(caDescription.x); // the control: left to right
  });

  it('an unknown locale in the URL is a 404 naming the ones there are', async () => {
    const response = await fetch(`${server.url}/views/welcome?locale=fr`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('No locale “fr” for view “welcome”: it has en, ar, ca, es, ja');
  });
});
