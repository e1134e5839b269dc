import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { enqueueMail, ConfigError, type Database } from 'mailroom';
import { attempts, messages } from 'mailroom/schema';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { InvoiceMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { invoicePdf } from '../emails/_views/invoice-pdf.js';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { launchBrowser } from './helpers/browser.js';
import { startRecorder, type Recorder } from './helpers/recorder.js';
import { waitFor } from './helpers/wait.js';
import { BIN, mailroom } from './helpers/cli.js';

const ALL = await backends();
const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * A scratch copy of emails/ inside the repo (so `react` and `mailroom` resolve from it);
 * tests edit only this. Its tsconfig extends the repo's and includes it, as an app's would.
 */
function copyEmails(): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'preview-emails-'));
  cpSync(join(REPO, 'emails'), dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  return dir;
}

/** A GET with any Host header (fetch cannot set one). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function withPage<T>(body: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ acceptDownloads: true });
  try {
    return await body(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

describe('preview: templates', () => {
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

  it('lists every template and every registered mail view, each at a stable URL', async () => {
    await withPage(async (page) => {
      await page.goto(server.url);
      const templates = page.locator('#templates tbody tr');
      await expect.poll(() => templates.count()).toBe(3);
      expect(await page.locator('#templates tbody td:first-child a').allTextContents()).toEqual(['invoice', 'password-reset', 'welcome']);
      expect(await page.locator('#views tbody td:first-child a').allTextContents()).toEqual(['welcome', 'password-reset', 'invoice']);
      expect(await page.locator('#views tbody tr', { hasText: 'InvoiceMail' }).textContent()).toContain('low');
      await page.click('#templates >> text=welcome');
      expect(new URL(page.url()).pathname).toBe('/templates/welcome');
      await page.goto(server.url);
      await page.click('#views >> text=invoice');
      expect(new URL(page.url()).pathname).toBe('/views/invoice');
    });
  });

  it('shows a template rendered from its PreviewProps: iframe, text, source, subject and headers, desktop and mobile', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/welcome`);
      const email = page.frameLocator('iframe');
      await expect.poll(() => email.locator('h1').textContent()).toBe('Welcome, Núria Puigdomènech 🎉!');
      const iframe = page.locator('iframe');
      expect(await iframe.getAttribute('sandbox')).not.toContain('allow-scripts');
      // The app's own template shares the origin so the page can size its frame; no script may run in it.
      const frameCsp = (await fetch(`${server.url}/templates/welcome/html`)).headers.get('content-security-policy')!;
      expect(frameCsp).toMatch(/^sandbox allow-popups allow-popups-to-escape-sandbox allow-same-origin; default-src 'none';/);
      expect(frameCsp).not.toMatch(/allow-scripts|script-src/);
      const header = (name: string) => page.locator('table.headers tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td');
      expect(await header('Subject').textContent()).toBe('Welcome, Núria Puigdomènech 🎉!');
      expect(await header('From').textContent()).toBe('Mailroom Demo <hello@mailroom.test>');
      expect(await header('X-Mail-Queue-Priority').textContent()).toBe('normal');
      expect(await page.locator('#text').textContent()).toContain('Your account is ready. Sign in to finish setting it up.');
      const source = (await page.locator('#source').textContent())!;
      expect(source).toMatch(/^<!DOCTYPE html[\s\S]*<\/html>\s*$/i);
      expect(source).toContain('Núria Puigdomènech 🎉');
      expect(source).toContain('href="https://example.com/login"');
      const desktop = (await iframe.boundingBox())!.width;
      expect(desktop).toBeGreaterThan(600);

      await page.click('#widths a[data-width="375"]');
      expect(new URL(page.url()).search).toBe('?width=375');
      await expect.poll(async () => (await page.locator('iframe').boundingBox())?.width).toBe(375);
      expect(await page.frameLocator('iframe').locator('h1').textContent()).toBe('Welcome, Núria Puigdomènech 🎉!');

      await page.goto(`${server.url}/templates/password-reset`);
      expect(await header('X-Mail-Queue-Priority').textContent()).toBe('now');
      expect(await header('Subject').textContent()).toBe('Reset your password');
    });
  });

  it('shows a view with its attachment, downloadable byte for byte', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/invoice`);
      expect(await page.locator('table.headers td').allTextContents()).toContain('low');
      const link = page.locator('#attachments a');
      expect(await link.textContent()).toBe('factura-F-2026-0042.pdf');
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('factura-F-2026-0042.pdf');
      expect(readFileSync(await download.path()).equals(invoicePdf(Invoice.PreviewProps))).toBe(true);
      const response = await fetch(`${server.url}/views/invoice/attachments/0`);
      expect(response.headers.get('content-type')).toBe('application/pdf');
    });
  });

  it('reloads an open page when a template file changes, shows a throwing template’s error and keeps serving', async () => {
    const file = join(dir, 'welcome.tsx');
    const original = readFileSync(file, 'utf8');
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/welcome`);
      await page.waitForSelector('html[data-live="connected"]');
      const email = page.frameLocator('iframe');
      expect(await email.locator('body').textContent()).toContain('Your account is ready');

      // The body's sentence comes from the catalog now: replace the call with a literal.
      const edited = original.replace("{t('welcome.body')}", 'Edited while the page was open.');
      expect(edited).not.toBe(original);
      writeFileSync(file, edited);
      await expect.poll(() => email.locator('body').textContent(), { timeout: 60_000 }).toContain('Edited while the page was open.');
      expect(await page.locator('#text').textContent()).toContain('Edited while the page was open.');

      await page.waitForSelector('html[data-live="connected"]');
      writeFileSync(file, original.replace(/^export default function Welcome\(.*\) \{$/m, "$&\n  if (name) throw new Error('Template exploded on purpose');"));
      await page.waitForSelector('.error', { timeout: 60_000 });
      expect(await page.locator('.error').textContent()).toContain('Template exploded on purpose');
      expect(await page.locator('iframe').count()).toBe(0);

      // A file that does not even parse: listed as broken, the rest still works.
      writeFileSync(join(dir, 'broken.tsx'), 'export default function Broken( {\n');
      await waitFor(async () => (await (await fetch(server.url)).text()).includes('href="templates/broken"'), 'the broken template to be listed');
      const broken = await fetch(`${server.url}/templates/broken`);
      expect(broken.status).toBe(500);
      expect(await broken.text()).toContain('This template does not compile');

      await page.waitForSelector('html[data-live="connected"]');
      writeFileSync(file, original);
      await page.waitForSelector('iframe', { timeout: 15_000 });
      await expect.poll(() => page.frameLocator('iframe').locator('h1').textContent()).toBe('Welcome, Núria Puigdomènech 🎉!');
    });
    rmSync(join(dir, 'broken.tsx'));
    expect((await fetch(`${server.url}/templates/invoice`)).status).toBe(200);
  });

  it('answers only to loopback Host names, and sends a strict CSP on every page', async () => {
    expect(await getWithHost(server.url, 'evil.example')).toBe(421);
    expect(await getWithHost(server.url, `localhost:${server.port}`)).toBe(200);
    const page = await fetch(`${server.url}/templates/welcome`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const body = await fetch(`${server.url}/templates/welcome/html`);
    expect(body.headers.get('content-security-policy')).toMatch(/^sandbox allow-popups allow-popups-to-escape-sandbox allow-same-origin; default-src 'none'/);
    expect((await fetch(`${server.url}/templates/..%2F..%2Fpackage`)).status).toBe(404);
  });

  it('refuses a missing emails folder and a port in use with a ConfigError', async () => {
    await expect(startPreviewServer({ emailsDir: join(dir, 'nope'), port: 0 })).rejects.toThrow(ConfigError);
    await expect(startPreviewServer({ port: server.port })).rejects.toThrow(/Port \d+ on 127.0.0.1 is in use/);
  });
});

describe.each(ALL)('preview: outbox on $name', (backend) => {
  let created: Awaited<ReturnType<typeof backend.create>>;
  let database: Database;
  let smtp: TestSmtp;
  let recorder: Recorder;
  let server: PreviewServer;
  const ids: Record<string, number> = {};
  const ATTACHMENT = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const ATTACHMENT_NAME = 'résumé 日本語 🎈 «final».bin';
  const later = new Date(Date.now() + 86_400_000);

  const hostileHtml = (r: string) => `<!doctype html><html><head><title>hostile</title>
<meta http-equiv="refresh" content="0;url=${r}/meta-refresh">
<link rel="stylesheet" href="${r}/stylesheet">
</head><body>
<p id="hostile-body">Hostile body</p>
<script>
  window.pwned = true;
  document.body.setAttribute('data-pwned', 'script');
  fetch('${r}/script');
  try { parent.document.title = 'pwned'; } catch (e) {}
</script>
<img src="x" onerror="document.body.setAttribute('data-pwned', 'onerror'); fetch('${r}/onerror')">
<svg><image href="x" onerror="fetch('${r}/svg')"></image></svg>
<div style="background-image: url(${r}/css-image)">styled</div>
</body></html>`;

  const row = async (id: number) => (await database.db.select().from(messages).where(eq(messages.id, id)))[0];

  beforeAll(async () => {
    created = await backend.create();
    database = created.database;
    recorder = await startRecorder();
    smtp = await startSmtp({
      onRcpt: (address) => {
        if (address.startsWith('bounce@')) return smtpError(550, '5.1.1 bounce@example.com: mailbox unavailable');
        if (address.startsWith('later@')) return smtpError(451, '4.7.1 greylisted, try again later');
      },
    });
    const from = 'Shop <shop@example.com>';
    for (let i = 1; i <= 8; i++) {
      await enqueueMail(database, { from, to: `customer-${i}@example.com`, subject: `Order #${i} confirmed`, text: `order ${i}`, html: `<p>Order ${i}</p>` });
    }
    const invoice = await new InvoiceMail(Invoice.PreviewProps).toMessage({
      to: { name: 'Núria Puigdomènech', address: 'nuria@example.com' },
      cc: 'comptabilitat@example.com',
      attachments: [{ filename: ATTACHMENT_NAME, content: ATTACHMENT, contentType: 'application/octet-stream' }],
    });
    ids.invoice = (await enqueueMail(database, invoice)).id;
    ids.bounce = (await enqueueMail(database, { from, to: 'bounce@example.com', subject: 'Bounced report', text: 'x' })).id;
    ids.later = (await enqueueMail(database, { from, to: 'later@example.com', subject: 'Greylisted digest', text: 'x' })).id;
    // Drain what is due: 9 sent, one failed (550), one deferred (451).
    const transport = createSmtpTransport(smtp.url, { concurrency: 2 });
    await drain(database.db, { smtp: transport, concurrency: 2 });
    transport.close();
    ids.queued = (await enqueueMail(database, { from, to: 'reader@example.com', subject: 'Scheduled newsletter', text: 'x', sendAt: later })).id;
    ids.trash = (await enqueueMail(database, { from, to: 'trash@example.com', subject: 'Delete me', text: 'x', sendAt: later })).id;
    ids.now = (await enqueueMail(database, { from, to: 'now@example.com', subject: 'Send me now', text: 'x', sendAt: later })).id;
    ids.hostile = (
      await enqueueMail(database, {
        from,
        to: 'victim@example.com',
        subject: `<script>document.title='pwned'</script> Hostile <img src=x onerror="fetch('${recorder.url}/subject')">`,
        html: hostileHtml(recorder.url),
        text: 'hostile',
        sendAt: later,
      })
    ).id;
    server = await startPreviewServer({ database, smtp: smtp.url, port: 0, pageSize: 5 });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await recorder?.close();
    await created?.drop();
  });

  it('lists every message newest first, filters by state, searches recipients and subjects, and pages', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/outbox`);
      const rowIds = async () => (await page.locator('#outbox tbody td:first-child').allTextContents()).map(Number);
      expect(await rowIds()).toEqual([ids.hostile, ids.now, ids.trash, ids.queued, ids.later]);
      expect(await page.locator('.page-info').textContent()).toBe('Page 1 of 3 · 15 messages');
      expect(await page.locator('.states a[aria-current="true"]').textContent()).toBe('all 15');
      // The hostile subject is text, not markup.
      expect(await page.locator(`#outbox tr[data-id="${ids.hostile}"] a.subject`).textContent()).toContain("<script>document.title='pwned'</script> Hostile <img");
      expect(await page.title()).toBe('Outbox · mailroom');

      await page.click('a[rel="next"]');
      expect(await rowIds()).toEqual([ids.bounce, ids.invoice, 8, 7, 6]);
      await page.click('a[rel="next"]');
      expect(await rowIds()).toEqual([5, 4, 3, 2, 1]);
      expect(await page.locator('a[rel="next"]').count()).toBe(0);
      await page.click('a[rel="prev"]');
      expect(await page.locator('.page-info').textContent()).toBe('Page 2 of 3 · 15 messages');

      await page.click('.states >> text=failed');
      expect(await rowIds()).toEqual([ids.bounce]);
      await page.click('.states >> text=deferred');
      expect(await rowIds()).toEqual([ids.later]);
      expect(await page.locator('#outbox').textContent()).toContain('greylisted, try again later');
      await page.click('.states >> text=queued');
      expect(await rowIds()).toEqual([ids.hostile, ids.now, ids.trash, ids.queued]);
      await page.click('.states >> text=sent');
      expect(await page.locator('.page-info').textContent()).toBe('Page 1 of 2 · 9 messages');

      // Search within the state filter, then across all states.
      await page.fill('input[name=q]', 'customer-3@');
      await page.click('form.search button');
      expect(await rowIds()).toEqual([3]);
      expect(new URL(page.url()).searchParams.get('state')).toBe('sent');
      await page.goto(`${server.url}/outbox?q=${encodeURIComponent('ORDER #1')}`);
      expect(await rowIds()).toEqual([1]);
      await page.goto(`${server.url}/outbox?q=invoice`);
      expect(await rowIds()).toEqual([ids.invoice]);
      // Wildcards are literal characters.
      await page.goto(`${server.url}/outbox?q=${encodeURIComponent('%')}`);
      expect(await rowIds()).toEqual([]);
      expect(await page.locator('.empty').textContent()).toBe('No message matches.');
      // Rubbish in the query is ignored, not an error.
      expect((await fetch(`${server.url}/outbox?state=nope&page=-3`)).status).toBe(200);

      await page.goto(`${server.url}/outbox?q=nuria`);
      await page.click('a.subject');
      expect(new URL(page.url()).pathname).toBe(`/outbox/${ids.invoice}`);
    });
  });

  it('shows a message parsed from what was stored: HTML, text, headers, recipients, attempts, attachments and the raw .eml', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/outbox/${ids.invoice}`);
      expect(await page.locator('h1').textContent()).toBe('Invoice F-2026-0042');
      const meta = (name: string) => page.locator('#meta tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td').textContent();
      expect(await meta('From')).toBe('"Mailroom Demo" <hello@mailroom.test>');
      expect(await meta('To')).toBe('"Núria Puigdomènech" <nuria@example.com>');
      expect(await meta('Cc')).toBe('comptabilitat@example.com');
      expect(await meta('Priority')).toBe('low');
      expect(await meta('State')).toBe('sent');
      expect(await page.locator('#recipients tbody td:first-child').allTextContents()).toEqual(['nuria@example.com', 'comptabilitat@example.com']);
      expect(await page.frameLocator('iframe').locator('h1').textContent()).toBe('Invoice F-2026-0042');
      expect(await page.locator('#text').textContent()).toContain('Subscripció anual ☕');
      const headers = await page.locator('#headers').textContent();
      expect(headers).toMatch(/^Content-Type: multipart\/mixed;/m);
      expect(headers).toMatch(/^Message-ID: <[^>]+@mailroom\.test>$/m);
      expect(headers).not.toMatch(/X-Mail-Queue-Priority/i);
      expect(await page.locator('#attempts tbody tr').count()).toBe(1);
      expect(await page.locator('#attempts tbody td').nth(2).textContent()).toBe('250');
      expect(await page.locator('#attachments a').allTextContents()).toEqual(['factura-F-2026-0042.pdf', ATTACHMENT_NAME]);

      // Each attachment downloads as its own name, with its exact bytes and type.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#attachments a:text-is("${ATTACHMENT_NAME}")`)]);
      expect(download.suggestedFilename()).toBe(ATTACHMENT_NAME);
      expect(readFileSync(await download.path()).equals(ATTACHMENT)).toBe(true);
      const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#attachments a:text-is("factura-F-2026-0042.pdf")')]);
      expect(readFileSync(await pdf.path()).equals(invoicePdf(Invoice.PreviewProps))).toBe(true);
      const response = await fetch(`${server.url}/outbox/${ids.invoice}/attachments/1`);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="r_sum_ ___ _ _final_.bin"; filename*=UTF-8''${encodeURIComponent(ATTACHMENT_NAME)}`,
      );
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await fetch(`${server.url}/outbox/${ids.invoice}/attachments/0`)).headers.get('content-type')).toBe('application/pdf');

      const [eml] = await Promise.all([page.waitForEvent('download'), page.click('#raw')]);
      expect(eml.suggestedFilename()).toBe(`message-${ids.invoice}.eml`);
      expect(readFileSync(await eml.path()).equals((await row(ids.invoice!))!.raw)).toBe(true);

      // The failed message's attempt log keeps the SMTP reply.
      await page.goto(`${server.url}/outbox/${ids.bounce}`);
      expect(await page.locator('#attempts tbody td').nth(2).textContent()).toBe('550');
      expect(await page.locator('#attempts').textContent()).toContain('mailbox unavailable');
      expect(await page.locator('#recipients').textContent()).toContain('failed');
    });
  });

  it('validates ids and indexes: anything but a known integer is a 404', async () => {
    for (const path of ['/outbox/0', '/outbox/-1', '/outbox/1e3', '/outbox/99999999999999999999', '/outbox/abc', '/outbox/999999', `/outbox/${ids.invoice}/attachments/9`, `/outbox/${ids.invoice}/attachments/..%2F1`]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
  });

  it('never runs a stored message’s script, in the page or opened on its own', async () => {
    // The detector works: the same HTML in an ordinary page does run and call the recorder.
    await withPage(async (page) => {
      await page.setContent(hostileHtml(recorder.url).replace(/<meta[^>]*>/, ''));
      await waitFor(() => recorder.hits.includes('/script') && recorder.hits.includes('/onerror'), 'the unsandboxed control to call the recorder');
      // …and sets the very values the checks below read, in its own window and body.
      expect(await page.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).toBe(true);
      expect(await page.locator('body[data-pwned]').count()).toBe(1);
    });
    recorder.hits.length = 0;

    await withPage(async (page) => {
      // CSP-blocked loads (the stylesheet, the CSS image) may show as requests that fail; none may complete.
      const completed: string[] = [];
      page.on('requestfinished', (r) => completed.push(r.url()));
      await page.goto(`${server.url}/outbox/${ids.hostile}`);
      const email = page.frameLocator('iframe');
      expect(await email.locator('#hostile-body').textContent()).toBe('Hostile body');
      // A stored message keeps an opaque origin (only the app's own templates share the page's).
      expect(await page.locator('iframe').getAttribute('sandbox')).not.toContain('allow-same-origin');
      await page.waitForLoadState('networkidle');
      expect(recorder.hits).toEqual([]);
      expect(completed.filter((u) => u.startsWith(recorder.url))).toEqual([]);
      expect(await email.locator('body[data-pwned]').count()).toBe(0);
      expect(await page.title()).toMatch(/Hostile/);
      expect(await page.title()).not.toBe('pwned');
      // The script's own window is the iframe's (window.pwned = true there), not the page's.
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame).toBeDefined();
      expect(await frame!.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).toBeUndefined();
      expect(await page.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).toBeUndefined();
      expect(new URL(page.url()).pathname).toBe(`/outbox/${ids.hostile}`);

      // Opened directly, the HTML is still sandboxed by its own CSP.
      await page.goto(`${server.url}/outbox/${ids.hostile}/html`);
      expect(await page.locator('#hostile-body').textContent()).toBe('Hostile body');
      await page.waitForLoadState('networkidle');
      expect(recorder.hits).toEqual([]);
      expect(await page.locator('body[data-pwned]').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).toBeUndefined();
    });
    const direct = await fetch(`${server.url}/outbox/${ids.hostile}/html`);
    expect(direct.headers.get('content-security-policy')).toMatch(/^sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:;/);
  });

  it('rejects a cross-site POST, even one that carries the form token', async () => {
    const token = await withPage(async (page) => {
      await page.goto(`${server.url}/outbox/${ids.trash}`);
      return page.locator('form[action$="/delete"] input[name=_csrf]').inputValue();
    });
    expect(token.length).toBeGreaterThan(20);
    for (const [path, withToken] of [['/attack-plain', false], ['/attack-token', true]] as const) {
      recorder.page(
        path,
        `<form id="f" method="post" action="${server.url}/outbox/${ids.trash}/delete">${withToken ? `<input name="_csrf" value="${token}">` : ''}</form>
<script>document.getElementById('f').submit()</script>`,
      );
      await withPage(async (page) => {
        const response = page.waitForResponse((r) => r.url().endsWith(`/outbox/${ids.trash}/delete`));
        await page.goto(`http://attacker.test:${recorder.port}${path}`);
        expect((await response).status()).toBe(403);
      });
      expect(await row(ids.trash!)).toBeDefined();
    }
    // Same origin but no token (a stale form, or a forgery from another local tool): refused too.
    const noToken = await fetch(`${server.url}/outbox/${ids.trash}/delete`, {
      method: 'POST',
      headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=wrong',
    });
    expect(noToken.status).toBe(403);
    expect(await row(ids.trash!)).toBeDefined();
  });

  it('retries a failed message, deletes a queued one and sends one now', async () => {
    await withPage(async (page) => {
      // Retry: failed → queued, due now, with a fresh attempt budget.
      await page.goto(`${server.url}/outbox/${ids.bounce}`);
      expect(await page.locator('.actions button').allTextContents()).toEqual(['Retry']);
      await page.click('.actions button:text-is("Retry")');
      expect(await page.locator('.notice').textContent()).toBe('Due now: the next drain sends it.');
      expect(await row(ids.bounce!)).toMatchObject({ state: 'queued', attempts: 0 });
      expect(((await row(ids.bounce!))!.nextAttemptAt.getTime())).toBeLessThanOrEqual(Date.now() + 1000);

      // Retry a deferred one too.
      await page.goto(`${server.url}/outbox/${ids.later}`);
      expect(await page.locator('.actions button').allTextContents()).toEqual(['Retry', 'Send now', 'Delete']);
      await page.click('.actions button:text-is("Retry")');
      expect((await row(ids.later!))!.state).toBe('deferred');
      expect((await row(ids.later!))!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);

      // Delete: gone, with its attempts; a sent message offers no delete.
      await page.goto(`${server.url}/outbox/${ids.trash}`);
      await page.click('.actions button:text-is("Delete")');
      expect(new URL(page.url()).pathname).toBe('/outbox');
      expect(await page.locator('.notice').textContent()).toBe(`Message #${ids.trash} deleted.`);
      expect(await row(ids.trash!)).toBeUndefined();
      await page.goto(`${server.url}/outbox/${ids.invoice}`);
      expect(await page.locator('.actions').count()).toBe(0);

      // Send now: delivered over SMTP at once, with its attempt logged.
      const before = smtp.received.length;
      await page.goto(`${server.url}/outbox/${ids.now}`);
      await page.click('.actions button:text-is("Send now")');
      expect(await page.locator('.notice').textContent()).toBe('Sent.');
      expect(smtp.received.length).toBe(before + 1);
      expect(smtp.received.at(-1)!.parsed.subject).toBe('Send me now');
      expect(await row(ids.now!)).toMatchObject({ state: 'sent', attempts: 1 });
      expect(await page.locator('#attempts tbody tr').count()).toBe(1);
      const log = await database.db.select().from(attempts).where(eq(attempts.messageId, ids.now!));
      expect(log).toMatchObject([{ outcome: 'sent', smtpCode: 250 }]);

      expect(await page.locator('.actions').count()).toBe(0);

      // An action that no longer applies (it was sent meanwhile) changes nothing.
      await page.goto(`${server.url}/outbox/${ids.queued}`);
      const token = await page.locator('input[name=_csrf]').first().inputValue();
      const stale = await fetch(`${server.url}/outbox/${ids.now}/delete`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: token }).toString(),
      });
      expect(stale.status).toBe(303);
      expect(stale.headers.get('location')).toBe(`/outbox/${ids.now}?done=unchanged`);
      expect(await row(ids.now!)).toMatchObject({ state: 'sent' });
    });
  });

  it('without an SMTP server, "Send now" makes the message due for the next drain', async () => {
    const plain = await startPreviewServer({ database, port: 0 });
    try {
      await withPage(async (page) => {
        await page.goto(`${plain.url}/outbox/${ids.queued}`);
        await page.click('.actions button:text-is("Send now")');
        expect(await page.locator('.notice').textContent()).toContain('Due now');
      });
      const due = (await row(ids.queued!))!;
      expect(due.state).toBe('queued');
      expect(due.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    } finally {
      await plain.close();
    }
  });
});

describe('preview: the CLI and the main job', () => {
  /** Starts a process and resolves with the first preview URL it prints. */
  function startAndReadUrl(args: string[], env: Record<string, string>, cwd = REPO): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, SMTP_URL: undefined, DATABASE_URL: undefined, ...env } });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    return new Promise((resolve, reject) => {
      const check = () => {
        const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        if (url) resolve({ child, url, output: () => output });
      };
      child.stdout!.on('data', check);
      child.on('exit', (code) => reject(new Error(`exited ${code} before printing a URL:\n${output}`)));
    });
  }
  const stop = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });

  it('`mailroom preview --help` documents its flags; a missing --emails folder is one line and exit 1', async () => {
    const help = await mailroom(['preview', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--port', '--host', '--emails', '--database', '--smtp']) expect(help.stdout).toContain(flag);
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-preview-cli-'));
    try {
      const missing = await mailroom(['preview', '--port', '0', '--emails', join(dir, 'nope'), '--database', `file:${join(dir, 'db')}`]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`mailroom: No emails folder at ${join(dir, 'nope')}: pass --emails DIR (the folder with your templates).\n`);
      const port = await mailroom(['preview', '--port', 'eighty']);
      expect(port.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`mailroom preview` serves the templates and the outbox, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-preview-cli-'));
    try {
      const { child, url } = await startAndReadUrl([BIN, 'preview', '--port', '0', '--database', `file:${join(dir, 'db')}`], {});
      expect(await (await fetch(url)).text()).toContain('href="templates/welcome"');
      expect(await (await fetch(`${url}/outbox`)).text()).toContain('The queue is empty');
      expect(await stop(child)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`npm start` queues and delivers the demo, then ends in the preview server showing them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-preview-demo-'));
    try {
      // One process, which handles SIGTERM itself. Not the tsx CLI: it relays a signal to its
      // child and SIGKILLs it (exit 143) when the child does not answer within 30 ms, as
      // happens on a loaded machine.
      const start = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.start;
      expect(start).toBe('node --import tsx examples/demo.ts');
      // Run from an empty folder, as a new user would: the embedded database and the local
      // mailbox land in its .mailroom/ (tsx, the repo's, still compiles with the repo's tsconfig).
      const tsx = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;
      const { child, url, output } = await startAndReadUrl(
        ['--import', tsx, join(REPO, 'examples', 'demo.ts')],
        { MAILROOM_PREVIEW_PORT: '0', TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') },
        dir,
      );
      expect(output()).toMatch(/Preview: http:\/\/127\.0\.0\.1:\d+/);
      const list = await (await fetch(`${url}/outbox`)).text();
      // Each reader in their language: Catalan, Spanish and the default English.
      for (const subject of ['Factura F-2026-0042', 'Et donem la benvinguda, Núria 🎉!', '¡Te damos la bienvenida, Lucía!', 'Welcome, Sam!', 'Restableix la contrasenya']) {
        expect(list).toContain(subject);
      }
      expect(list).toContain('Page 1 of 1 · 5 messages');
      expect(await (await fetch(url)).text()).toContain('href="views/invoice"');
      expect(output()).toContain(`5 message(s) in ${join(dir, '.mailroom', 'inbox')}`);
      expect(await stop(child)).toBe(0);
      expect(existsSync(join(dir, '.mailroom', 'db.lock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
