import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { enqueueMail, type Database } from 'mailroom';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { backends } from './helpers/databases.js';
import { launchBrowser } from './helpers/browser.js';
import { startRecorder, type Recorder } from './helpers/recorder.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();
const MANY = 20_000;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function withPage<T>(body: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await body(await context.newPage());
  } finally {
    await context.close();
  }
}

describe.each(ALL)('preview: long recipient lists and remote images on $name', (backend) => {
  let created: Awaited<ReturnType<typeof backend.create>>;
  let database: Database;
  let server: PreviewServer;
  let recorder: Recorder;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    created = await backend.create();
    database = created.database;
    recorder = await startRecorder();
    const later = new Date(Date.now() + 86_400_000);
    const to = Array.from({ length: MANY }, (_, i) => `reader-${i}@example.com`);
    ids.many = (await enqueueMail(database, { from: 'news@example.com', to, subject: 'Newsletter to everyone', text: 'hello all', sendAt: later })).id;
    ids.pixel = (
      await enqueueMail(database, {
        from: 'news@example.com',
        to: 'one@example.com',
        subject: 'Tracked',
        html: `<h1 id="tracked">Tracked</h1><img src="${recorder.url}/pixel.gif" width="1" height="1"><div style="background-image: url(${recorder.url}/background.gif)">bg</div><img src="${recorder.url.replace('http:', 'https:')}/https-pixel.gif">`,
        text: 'tracked',
        sendAt: later,
      })
    ).id;
    server = await startPreviewServer({ database, port: 0 });
  }, 240_000); // 20,000 recipients on a busy machine
  afterAll(async () => {
    await server?.close();
    await recorder?.close();
    await created?.drop();
  });

  it('truncates a 20,000-recipient list in the list view and pages it on the message page', async () => {
    const list = await (await fetch(`${server.url}/outbox`)).text();
    expect(list.length).toBeLessThan(20_000);
    await withPage(async (page) => {
      await page.goto(`${server.url}/outbox`);
      expect(await page.locator(`#outbox tr[data-id="${ids.many}"] td.recipients`).textContent()).toBe(
        'reader-0@example.com, reader-1@example.com, reader-2@example.com and 19,997 more',
      );
      expect(await page.locator(`#outbox tr[data-id="${ids.pixel}"] td.recipients`).textContent()).toBe('one@example.com');

      const html = await (await fetch(`${server.url}/outbox/${ids.many}`)).text();
      expect(html.length).toBeLessThan(60_000);
      await page.goto(`${server.url}/outbox/${ids.many}`);
      const meta = (name: string) => page.locator('#meta tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td').textContent();
      expect(await meta('To')).toMatch(/^reader-0@example\.com, .*reader-9@example\.com and 19,990 more$/);
      expect(await meta('Envelope')).toContain('reader-2@example.com and 19,997 more');
      const rows = page.locator('#recipients tbody tr');
      expect(await rows.count()).toBe(100);
      expect(await page.locator('#recipients-pager .page-info').textContent()).toBe('Recipients 1–100 of 20,000');
      await page.click('#recipients-pager a[rel="next"]');
      expect(await rows.count()).toBe(100);
      expect(await rows.first().locator('td').first().textContent()).toBe('reader-100@example.com');
      await page.goto(`${server.url}/outbox/${ids.many}?recipients=200`);
      expect(await rows.count()).toBe(100);
      expect(await rows.last().locator('td').first().textContent()).toBe('reader-19999@example.com');
      expect(await page.locator('#recipients-pager a[rel="next"]').count()).toBe(0);
      // The raw header is clipped for display; the .eml keeps it whole.
      expect(await page.locator('#headers').textContent()).toContain('more characters: download the .eml for all');
    });
  });

  it('does not load a stored message’s remote images until asked, per view', async () => {
    await withPage(async (page) => {
      recorder.hits.length = 0;
      await page.goto(`${server.url}/outbox/${ids.pixel}`);
      expect(await page.frameLocator('iframe').locator('#tracked').textContent()).toBe('Tracked');
      await page.waitForLoadState('networkidle');
      expect(recorder.hits).toEqual([]);
      const csp = (await fetch(`${server.url}/outbox/${ids.pixel}/html`)).headers.get('content-security-policy')!;
      expect(csp).toContain('img-src data:;');

      await page.click('#images');
      expect(new URL(page.url()).searchParams.get('images')).toBe('1');
      await waitFor(() => recorder.hits.includes('/pixel.gif') && recorder.hits.includes('/background.gif'), 'the remote images to load once asked for');
      expect(await page.locator('#images').textContent()).toBe('Block remote images');

      // The choice is per view: the next message (and this one, reopened) blocks again.
      recorder.hits.length = 0;
      await page.goto(`${server.url}/outbox/${ids.pixel}?width=mobile`);
      expect(await page.frameLocator('iframe').locator('#tracked').textContent()).toBe('Tracked');
      await page.waitForLoadState('networkidle');
      expect(recorder.hits).toEqual([]);
    });
  });
});
