import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { enqueueMail } from 'mailroom';
import { messages } from 'mailroom/schema';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { pglite } from './helpers/databases.js';
import { launchBrowser } from './helpers/browser.js';

let browser: Browser;
let created: Awaited<ReturnType<typeof pglite.create>>;
let server: PreviewServer;
const ids: Record<string, number> = {};

beforeAll(async () => {
  browser = await launchBrowser();
  created = await pglite.create();
  const later = new Date(Date.now() + 86_400_000);
  const add = async (key: string, view: string) =>
    (ids[key] = (await enqueueMail(created.database, { from: 'a@example.com', to: `${key}@example.com`, subject: key, text: 'x', view, sendAt: later })).id);
  for (const key of ['w1', 'w2', 'wOld']) await add(key, 'welcome');
  await add('inv', 'invoice');
  await add('wQueued', 'welcome');
  const db = created.database.db;
  await db.update(messages).set({ state: 'failed' }).where(inArray(messages.id, [ids.w1!, ids.w2!, ids.wOld!, ids.inv!]));
  await db.update(messages).set({ createdAt: new Date('2026-01-01T10:00:00Z') }).where(inArray(messages.id, [ids.wOld!]));
  server = await startPreviewServer({ database: created.database, port: 0 });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await created?.drop();
  await browser?.close();
});

const states = async () =>
  Object.fromEntries((await created.database.db.select({ id: messages.id, state: messages.state }).from(messages)).map((r) => [Object.keys(ids).find((k) => ids[k] === r.id)!, r.state]));

describe('preview: outbox filters and bulk actions', () => {
  it('filters by view and date range, and retries or deletes the whole selection after a confirmation', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    try {
      const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      await page.goto(`${server.url}/outbox?view=welcome`);
      await page.fill('#after', since);
      await page.click('form.search button[type=submit]');
      await page.waitForURL(/after=/);
      const shown = async () => (await page.locator('#outbox tbody td.wrap a.subject').allTextContents()).sort();
      expect(await shown()).toEqual(['w1', 'w2', 'wQueued']);
      await page.goto(`${server.url}/outbox?view=welcome&before=2026-01-01`);
      expect(await shown()).toEqual(['wOld']);

      // Retry: the count of what it would change, then only that.
      await page.goto(`${server.url}/outbox?view=welcome&after=${since}`);
      await page.click('#bulk button[value=retry]');
      expect(await page.locator('h1').textContent()).toBe('Retry 2 messages?');
      expect(await states()).toMatchObject({ w1: 'failed', w2: 'failed' }); // nothing done before the confirmation
      await page.click('#bulk-confirm button[type=submit]');
      await page.waitForURL(/bulk=retry/);
      expect(await page.locator('.notice').textContent()).toBe('2 messages made due again.');
      expect(new URL(page.url()).searchParams.get('view')).toBe('welcome'); // back to the same selection
      expect(await states()).toEqual({ w1: 'queued', w2: 'queued', wOld: 'failed', inv: 'failed', wQueued: 'queued' });

      // Delete: cancel first, then confirm.
      await page.click('#bulk button[value=delete]');
      expect(await page.locator('h1').textContent()).toBe('Delete 3 messages?');
      await page.click('#bulk-confirm a:text-is("Cancel")');
      expect(Object.keys(await states())).toHaveLength(5);
      await page.click('#bulk button[value=delete]');
      await page.click('#bulk-confirm button[type=submit]');
      await page.waitForURL(/bulk=delete/);
      expect(await page.locator('.notice').textContent()).toBe('3 messages deleted.');
      expect(await states()).toEqual({ wOld: 'failed', inv: 'failed' });
    } finally {
      await page.close();
    }
  });
});
