import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { enqueueMail, type Database } from 'mailroom';
import { suppressions } from 'mailroom/schema';
import { suppress } from 'mailroom/drain';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { backends, pglite } from './helpers/databases.js';
import { launchBrowser } from './helpers/browser.js';

const ALL = await backends();
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** What a stored note or address may hold: markup, both quotes, a right-to-left override, emoji. */
const HOSTILE_NOTE = `"quoted" 'single' <img src=x onerror="globalThis.pwned=1"> \u202Egnp.exe 😀 עברית`;
const HOSTILE_ADDRESS = `<script>pwned=1</script>@evil.test`;

/** The suppressions shown by the list, in order, and seeded ones dated so their order is known. */
async function seed(database: Database): Promise<void> {
  const rows = [
    { address: 'a@example.com', topic: 'newsletter', reason: 'unsubscribed', source: 'one-click', day: 1 },
    { address: 'b@example.com', topic: '', reason: 'hard-bounce', source: 'bounce', note: '5.1.1 user unknown', day: 2 },
    { address: 'c@example.com', topic: '', reason: 'complaint', source: 'complaint-report', day: 3 },
    { address: ' Mixed@Example.COM ', topic: '', reason: 'manual', source: 'cli', note: 'asked by phone', day: 4 },
    { address: HOSTILE_ADDRESS, topic: '', reason: 'manual', source: '<b>src</b>', note: HOSTILE_NOTE, day: 5 },
    { address: 'a@example.com', topic: 'digest', reason: 'unsubscribed', source: 'one-click', day: 6 },
  ] as const;
  for (const r of rows) {
    // The hostile row goes straight into the table: suppress() refuses what is not an address, but a row
    // written by an older mailroom, or by the app's own SQL, is shown all the same.
    if (r.address === HOSTILE_ADDRESS) {
      await database.db.insert(suppressions).values({ address: r.address.trim().toLowerCase(), topic: r.topic, reason: r.reason, source: r.source, note: r.note });
    } else await suppress(database.db, { address: r.address, topic: r.topic, reason: r.reason, source: r.source, note: 'note' in r ? r.note : '' });
    await database.db
      .update(suppressions)
      .set({ createdAt: new Date(`2026-01-0${r.day}T10:00:00Z`) })
      .where(and(eq(suppressions.address, r.address.trim().toLowerCase()), eq(suppressions.topic, r.topic)));
  }
}

/** Hono's html escapes & < > " '; this reads an attribute back. */
const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
/** Each listed row as `address|topic`, in order. */
const listed = (page: string) => [...page.matchAll(/<tr data-address="([^"]*)" data-topic="([^"]*)">/g)].map((m) => `${unescape(m[1]!)}|${unescape(m[2]!)}`);
const reasonCounts = (page: string) =>
  Object.fromEntries([...page.matchAll(/data-reason="([^"]*)"[^>]*>[^<]*<span class="count">([\d,]+)<\/span>/g)].map((m) => [m[1] || 'all', Number(m[2]!.replace(/,/g, ''))]));

describe.each(ALL)('preview: the suppression list on $name', (backend) => {
  let created: Awaited<ReturnType<typeof backend.create>>;
  let database: Database;
  let server: PreviewServer;
  let readOnly: PreviewServer;
  let token: string;

  const get = async (path: string, on = server) => {
    // A fresh connection each time: an in-process PGlite stalls the event loop for seconds, and a
    // kept-alive socket the server's idle timer closes meanwhile would reset the next request.
    const response = await fetch(`${on.url}${path}`, { headers: { connection: 'close' } });
    return { status: response.status, text: await response.text() };
  };
  const post = (path: string, fields: Record<string, string>, on = server, headers: Record<string, string> = { origin: on.url }) =>
    fetch(`${on.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
      body: new URLSearchParams(fields).toString(),
    });
  const stored = async () =>
    (await database.db.select().from(suppressions)).map((r) => `${r.address}|${r.topic}|${r.reason}|${r.source}|${r.note}`).sort();

  beforeAll(async () => {
    created = await backend.create();
    database = created.database;
    await seed(database);
    server = await startPreviewServer({ database, port: 0, pageSize: 4 });
    readOnly = await startPreviewServer({ database, port: 0, pageSize: 4, readOnly: true });
    token = /name="_csrf" value="([^"]+)"/.exec((await get('/suppressions')).text)![1]!;
  });
  afterAll(async () => {
    await server?.close();
    await readOnly?.close();
    await created?.drop();
  });

  it('lists the entries newest first, a page at a time, with the count per reason, beside the outbox', async () => {
    const first = await get('/suppressions');
    expect(first.status).toBe(200);
    expect(first.text).toContain('<a href="suppressions" aria-current="page">Suppressions</a>');
    expect((await get('/outbox')).text).toContain('<a href="suppressions">Suppressions</a>');
    expect(listed(first.text)).toEqual(['a@example.com|digest', `${HOSTILE_ADDRESS}|`, 'mixed@example.com|', 'c@example.com|']);
    expect(reasonCounts(first.text)).toEqual({ all: 6, unsubscribed: 2, 'hard-bounce': 1, complaint: 1, manual: 2 });
    expect(first.text).toContain('Page 1 of 2 · 6 suppressions');
    const second = await get('/suppressions?page=2');
    expect(listed(second.text)).toEqual(['b@example.com|', 'a@example.com|newsletter']);
    expect(second.text).toContain('rel="prev" href="suppressions"');
    // The columns: scope (every message or a topic), reason, source, note, time.
    const row = /<tr data-address="b@example.com"[\s\S]*?<\/tr>/.exec(second.text)![0];
    expect(row).toContain('every message');
    expect(row).toContain('hard-bounce');
    expect(row).toContain('>bounce<');
    expect(row).toContain('5.1.1 user unknown');
    expect(row).toContain('2026-01-02 10:00:00 UTC');
    expect(/<tr data-address="a@example.com" data-topic="newsletter"[\s\S]*?<\/tr>/.exec(second.text)![0]).toContain('topic <strong>newsletter</strong>');
  });

  it('filters by reason, scope and address (case-insensitive), each kept in the URL and its links', async () => {
    expect(listed((await get('/suppressions?reason=unsubscribed')).text)).toEqual(['a@example.com|digest', 'a@example.com|newsletter']);
    expect(listed((await get('/suppressions?scope=newsletter')).text)).toEqual(['a@example.com|newsletter']);
    expect(listed((await get('/suppressions?scope=*&reason=manual')).text)).toEqual([`${HOSTILE_ADDRESS}|`, 'mixed@example.com|']);
    // Stored lower-cased; searched in any case, and `_`/`%` are literal characters.
    expect(listed((await get('/suppressions?q=MIXED%40example')).text)).toEqual(['mixed@example.com|']);
    expect(listed((await get('/suppressions?q=%25')).text)).toEqual([]);
    const combined = await get('/suppressions?q=A%40EXAMPLE.com&reason=unsubscribed&scope=digest');
    expect(listed(combined.text)).toEqual(['a@example.com|digest']);
    // The counts follow the scope and address filters; every reason link keeps them.
    expect(reasonCounts(combined.text)).toEqual({ all: 1, unsubscribed: 1, 'hard-bounce': 0, complaint: 0, manual: 0 });
    expect(combined.text).toContain('href="suppressions?reason=manual&amp;scope=digest&amp;q=A%40EXAMPLE.com"');
    // Nonsense in the URL is no filter, never an error.
    const odd = await get('/suppressions?reason=nope&scope=%3Cx%3E&page=abc&q=%00');
    expect(odd.status).toBe(200);
    expect(listed(odd.text)).toHaveLength(4);
  });

  it('shows every stored value as text: markup, quotes, right-to-left override, emoji', async () => {
    const page = (await get('/suppressions?reason=manual')).text;
    expect(page).not.toContain('<script>pwned');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<b>src</b>');
    expect(page).toContain('&lt;script&gt;pwned=1&lt;/script&gt;@evil.test');
    // The right-to-left override is shown as its code point (it would make `gnp.exe` read `exe.png`); Hebrew stays Hebrew.
    expect(page).toContain(
      `<bdi>&quot;quoted&quot; &#39;single&#39; &lt;img src=x onerror=&quot;globalThis.pwned=1&quot;&gt; <span class="invisible-char" title="an invisible character that reorders or hides text">U+202E</span>gnp.exe 😀 עברית</bdi>`,
    );
    expect(page).not.toContain('\u202E');
    // The remove form names the entry by its stored value, intact.
    expect(page).toContain(`name="address" value="&lt;script&gt;pwned=1&lt;/script&gt;@evil.test"`);
  });

  it('adds a manual suppression with the CLI\'s checks and clear errors, and removes one', async () => {
    // What `mailroom suppress add` refuses, refused the same way, the typed values kept.
    const bad = await post('/suppressions/add', { _csrf: token, address: 'not-an-address', topic: '', note: 'x' });
    expect(bad.status).toBe(400);
    const badPage = await bad.text();
    expect(badPage).toContain('&quot;not-an-address&quot; is not an email address: use e.g. someone@example.com.');
    expect(badPage).toContain('value="not-an-address"');
    const badTopic = await post('/suppressions/add', { _csrf: token, address: 'd@example.com', topic: 'News Letter' });
    expect(badTopic.status).toBe(400);
    expect(await badTopic.text()).toContain('Topic &quot;News Letter&quot; is not a topic name: use 1 to 64 lower-case letters, digits, &quot;.&quot;, &quot;_&quot; or &quot;-&quot;, e.g. &quot;newsletter&quot;.');
    const nul = await post('/suppressions/add', { _csrf: token, address: 'd@example.com', note: 'a\0b' });
    expect(nul.status).toBe(400);
    expect(await nul.text()).toContain('The note holds a NUL character');
    expect(await stored()).toHaveLength(6);

    const added = await post('/suppressions/add', { _csrf: token, address: ' D@Example.com ', topic: 'newsletter', note: HOSTILE_NOTE, q: 'ignored' });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/suppressions?scope=newsletter&q=d%40example.com&done=added');
    expect(await stored()).toContain(`d@example.com|newsletter|manual|preview|${HOSTILE_NOTE}`);
    const shown = await get(added.headers.get('location')!);
    expect(listed(shown.text)).toEqual(['d@example.com|newsletter']);
    expect(shown.text).toContain('Suppressed: the entry is below.');
    const again = await post('/suppressions/add', { _csrf: token, address: 'd@example.com', topic: 'newsletter' });
    expect(again.headers.get('location')).toBe('/suppressions?scope=newsletter&q=d%40example.com&done=already');
    const everything = await post('/suppressions/add', { _csrf: token, address: 'd@example.com' });
    expect(everything.headers.get('location')).toBe('/suppressions?scope=*&q=d%40example.com&done=added');

    // Remove: exactly that entry, back to the same filtered view.
    const removed = await post('/suppressions/remove', { _csrf: token, address: 'd@example.com', topic: 'newsletter', q: 'd@', reason: 'manual' });
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toBe('/suppressions?reason=manual&q=d%40&done=removed');
    expect((await stored()).filter((r) => r.startsWith('d@example.com'))).toEqual(['d@example.com||manual|preview|']);
    expect((await get(removed.headers.get('location')!)).text).toContain('Suppression lifted');
    const gone = await post('/suppressions/remove', { _csrf: token, address: 'd@example.com', topic: 'newsletter' });
    expect(gone.headers.get('location')).toBe('/suppressions?done=absent');
    // A stored hostile address is removable by its stored value.
    await post('/suppressions/remove', { _csrf: token, address: HOSTILE_ADDRESS.toLowerCase(), topic: '' });
    await post('/suppressions/remove', { _csrf: token, address: 'd@example.com', topic: '' });
    expect((await stored()).some((r) => r.startsWith('<script>'))).toBe(false);
    await database.db.insert(suppressions).values({ address: HOSTILE_ADDRESS.toLowerCase(), topic: '', reason: 'manual', source: '<b>src</b>', note: HOSTILE_NOTE });
  });

  it('refuses adds and removes without the form token or from another site, as the outbox does', async () => {
    const before = await stored();
    for (const path of ['/suppressions/add', '/suppressions/remove']) {
      const fields = { address: 'c@example.com', topic: '' };
      expect((await post(path, { ...fields, _csrf: 'wrong' })).status).toBe(403);
      expect((await post(path, fields)).status).toBe(403);
      // The right token but another site's Origin: hono's csrf middleware, before the route.
      expect((await post(path, { ...fields, _csrf: token }, server, { origin: 'http://attacker.test' })).status).toBe(403);
    }
    expect(await stored()).toEqual(before);
  });

  it('read-only: shows the list, hides add and remove, and refuses both (403)', async () => {
    const page = await get('/suppressions', readOnly);
    expect(page.status).toBe(200);
    expect(listed(page.text)).toHaveLength(4);
    expect(page.text).not.toContain('suppressions/add');
    expect(page.text).not.toContain('suppressions/remove');
    const readOnlyToken = /name="_csrf" value="([^"]+)"/.exec((await get('/outbox', readOnly)).text)?.[1] ?? 'none';
    const before = await stored();
    const add = await post('/suppressions/add', { _csrf: readOnlyToken, address: 'e@example.com' }, readOnly);
    expect(add.status).toBe(403);
    expect(await add.text()).toContain('read-only');
    expect((await post('/suppressions/remove', { _csrf: readOnlyToken, address: 'c@example.com', topic: '' }, readOnly)).status).toBe(403);
    expect(await stored()).toEqual(before);
  });

  it('links a message\'s suppressed recipient to its entry', async () => {
    const { id } = await enqueueMail(database, { from: 'shop@example.com', to: ['ok@example.com', 'C@example.com'], subject: 'Receipt', text: 'thanks' }, { suppressed: 'store' });
    const page = (await get(`/outbox/${id}`)).text;
    // The recipients table's row of one address.
    const row = (address: string) => [...page.matchAll(/<tr><td>([^<]*)<\/td>([\s\S]*?)<\/tr>/g)].find((m) => m[1] === address)![2]!;
    expect(row('C@example.com')).toContain('<a class="suppression-link" href="suppressions?scope=*&amp;q=c%40example.com">complaint</a>');
    expect(row('ok@example.com')).not.toContain('suppression-link');
    // The link shows exactly that entry.
    expect(listed((await get('/suppressions?scope=*&q=c%40example.com')).text)).toEqual(['c@example.com|']);
    // A topic suppression stops (and links) only that topic's mail: a transactional message shows no link.
    const { id: receipt } = await enqueueMail(database, { from: 'shop@example.com', to: 'a@example.com', subject: 'Receipt 2', text: 'thanks' });
    expect((await get(`/outbox/${receipt}`)).text).not.toContain('suppression-link');
  });

  it('pages 100,000 entries in SQL: each page, filter and search answers quickly', async () => {
    await database.db.delete(suppressions);
    await database.db.execute(sql`
      insert into mailroom_suppressions (address, topic, reason, source, note, created_at)
      select 'user' || g || '@bulk.test', case when g % 10 = 0 then 'newsletter' else '' end,
             (array['unsubscribed', 'hard-bounce', 'complaint', 'manual'])[1 + g % 4], 'bulk', '', now() - g * interval '1 second'
      from generate_series(1, 100000) g`);
    const timings: Record<string, number> = {};
    const timed = async (path: string) => {
      const started = performance.now();
      const page = await get(path);
      timings[path] = Math.round(performance.now() - started);
      expect(page.status).toBe(200);
      return page.text;
    };
    const first = await timed('/suppressions');
    expect(listed(first)).toEqual(['user1@bulk.test|', 'user2@bulk.test|', 'user3@bulk.test|', 'user4@bulk.test|']);
    expect(first).toContain('Page 1 of 25,000 · 100,000 suppressions');
    expect(listed(await timed('/suppressions?page=20000'))).toEqual(['user79997@bulk.test|', 'user79998@bulk.test|', 'user79999@bulk.test|', 'user80000@bulk.test|newsletter']);
    expect(listed(await timed('/suppressions?q=USER99999%40'))).toEqual(['user99999@bulk.test|']);
    expect(reasonCounts(await timed('/suppressions?scope=newsletter'))).toEqual({ all: 10_000, unsubscribed: 5000, 'hard-bounce': 0, complaint: 5000, manual: 0 });
    await timed('/suppressions?reason=complaint&page=5000');
    console.log(`[suppressions on ${backend.name}] 100,000 rows, ms per page:`, timings);
    // Generous for a shared, loaded machine: loading the whole list into the page would take far longer.
    for (const ms of Object.values(timings)) expect(ms).toBeLessThan(15_000);
  });
});

describe('preview: the Suppressions page in Chromium', () => {
  let browser: Browser;
  let created: Awaited<ReturnType<typeof pglite.create>>;
  let server: PreviewServer;

  beforeAll(async () => {
    browser = await launchBrowser();
    created = await pglite.create();
    await seed(created.database);
    server = await startPreviewServer({ database: created.database, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await created?.drop();
    await browser?.close();
  });

  it('filters, adds and removes, showing hostile values as text', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(60_000);
    try {
      await page.goto(`${server.url}/outbox`);
      await page.click('header.top nav a:text-is("Suppressions")');
      await page.waitForURL(/\/suppressions$/);
      const addresses = () => page.locator('#suppressions tbody td.address').allTextContents();
      expect(await addresses()).toHaveLength(6);
      // Hostile values are text: nothing ran, the note reads as stored.
      expect(await page.locator(`#suppressions tr[data-address="${HOSTILE_ADDRESS.toLowerCase()}"] td.note`).textContent()).toBe(HOSTILE_NOTE.replace('\u202E', 'U+202E'));
      expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

      // Filter: address search and scope through the form, then a reason link; the URL holds them all.
      await page.fill('#suppression-filters input[name=q]', 'A@EXAMPLE');
      await page.selectOption('#scope', 'newsletter');
      await page.click('#suppression-filters button[type=submit]');
      await page.waitForURL(/scope=newsletter/);
      expect(await addresses()).toEqual(['a@example.com']);
      await page.click('#reasons a[data-reason="manual"]');
      await page.waitForURL(/reason=manual/);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ reason: 'manual', scope: 'newsletter', q: 'A@EXAMPLE' });
      expect(await page.locator('.empty').textContent()).toBe('No suppression matches.');
      await page.click('#clear-filters');

      // Add: a refusal says why and keeps what was typed; then a good one shows its entry.
      await page.fill('#add-suppression input[name=address]', 'nobody at example.com');
      await page.fill('#add-suppression input[name=note]', 'typed once');
      await page.click('#add-suppression button[type=submit]');
      expect(await page.locator('.error .error-message').textContent()).toBe('"nobody at example.com" is not an email address: use e.g. someone@example.com.');
      expect(await page.inputValue('#add-suppression input[name=note]')).toBe('typed once');
      await page.fill('#add-suppression input[name=address]', 'Nobody@Example.com');
      await page.fill('#add-suppression input[name=topic]', 'digest');
      await page.click('#add-suppression button[type=submit]');
      await page.waitForURL(/done=added/);
      expect(await page.locator('.notice').textContent()).toContain('Suppressed');
      expect(await addresses()).toEqual(['nobody@example.com']);
      expect(await page.locator('#suppressions td.source').textContent()).toBe('preview');

      // Remove it: gone from the list and the table.
      await page.click('#suppressions tr[data-address="nobody@example.com"] form.remove button');
      await page.waitForURL(/done=removed/);
      expect(await page.locator('.notice').textContent()).toContain('Suppression lifted');
      const left = await created.database.db.select().from(suppressions).where(eq(suppressions.address, 'nobody@example.com'));
      expect(left).toEqual([]);

      await page.goto(`${server.url}/suppressions`);
      mkdirSync(join(REPO, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(REPO, 'test-results', 'suppressions.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
