import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { messages } from 'mailroom/schema';
import { enqueueMail } from 'mailroom';
import { pglite } from './helpers/databases.js';
import { launchBrowser } from './helpers/browser.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function emailsCopy(): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'preview-test-send-'));
  cpSync(join(REPO, 'emails'), dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  return dir;
}

let browser: Browser;
let dir: string;
let smtp: TestSmtp;
let created: Awaited<ReturnType<typeof pglite.create>>;
let server: PreviewServer;
let withoutSmtp: PreviewServer;
beforeAll(async () => {
  browser = await launchBrowser();
  dir = emailsCopy();
  smtp = await startSmtp();
  created = await pglite.create();
  server = await startPreviewServer({ emailsDir: dir, database: created.database, smtp: smtp.url, port: 0, watch: false });
  withoutSmtp = await startPreviewServer({ emailsDir: dir, port: 0, watch: false });
  // Warm both up: the first page imports the templates (tsx), React and Prettier.
  await Promise.all([fetch(`${server.url}/views/welcome`), fetch(`${withoutSmtp.url}/views/welcome`)]);
}, 240_000);
afterAll(async () => {
  await server?.close();
  await withoutSmtp?.close();
  await smtp?.close();
  await created?.drop();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withPage<T>(body: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  context.setDefaultTimeout(90_000); // the machine may be loaded: the first render imports tsx, React and Prettier
  try {
    return await body(await context.newPage());
  } finally {
    await context.close();
  }
}

describe('preview: send a test', () => {
  it('sends the email as shown to a typed address through the app’s SMTP, marked and recorded in the outbox', async () => {
    await withPage(async (page) => {
      // Edited props travel with the test: it is the email on the screen.
      await page.goto(`${server.url}/views/welcome?locale=ca&props=${encodeURIComponent(JSON.stringify({ name: 'Ada', loginUrl: 'https://example.com/ada' }))}`);
      await page.fill('#test-to', 'designer@example.com');
      await page.click('#send-test button[type=submit]');
      await page.waitForURL(/test=sent/);
      expect(await page.locator('#test-sent').textContent()).toMatch(/^Test sent: outbox message \d+\.$/);

      expect(smtp.received).toHaveLength(1);
      const got = smtp.received[0]!;
      expect(got.to).toEqual(['designer@example.com']);
      expect(got.from).toBe('hello@mailroom.test');
      expect(got.parsed.subject).toMatch(/^\[Test\] .*Ada/);
      expect(got.parsed.headers.get('x-mailroom-test')).toBe('view welcome (edited props)');
      expect(got.parsed.headers.get('content-language')).toBe('ca');
      expect(got.parsed.html).toContain('https://example.com/ada');

      // Recorded in the outbox as what it is, with the bytes that went out.
      const id = Number(new URL(page.url()).searchParams.get('message'));
      const [row] = await created.database.db.select().from(messages).where(eq(messages.id, id));
      expect(row!.state).toBe('sent');
      expect(row!.subject).toMatch(/^\[Test\] /);
      expect(got.parsed.messageId).toBe(row!.messageId);
      expect(got.raw.toString('latin1')).toContain(row!.raw.toString('latin1').split('\r\n\r\n')[1]!.slice(0, 200));
      await page.click('#test-sent a');
      expect(new URL(page.url()).pathname).toBe(`/outbox/${id}`);
      expect(await page.locator('#test-badge').textContent()).toBe('Test send: view welcome (edited props)');
    });
  });

  it('sends a test copy of an outbox message: its stored bytes, marked, to the typed address only', async () => {
    const { id } = await enqueueMail(created.database, {
      from: 'billing@example.com',
      to: ['customer@example.com', 'accounts@example.com'],
      subject: 'Factura F-77 ☕',
      text: 'Adjunta la factura.',
      html: '<p id="body">Adjunta la factura.</p>',
      sendAt: new Date(Date.now() + 86_400_000),
    });
    await withPage(async (page) => {
      await page.goto(`${server.url}/outbox/${id}`);
      expect(await page.locator('#test-badge').count()).toBe(0);
      const before = smtp.received.length;
      await page.fill('#test-to', 'qa@example.com');
      await page.click('#send-test button[type=submit]');
      await page.waitForURL(/done=test-sent/);
      expect(await page.locator('#test-badge').textContent()).toBe(`Test send: outbox message ${id}`);
      expect(smtp.received.length).toBe(before + 1);
      const got = smtp.received.at(-1)!;
      expect(got.to).toEqual(['qa@example.com']);
      expect(got.parsed.subject).toBe('[Test] Factura F-77 ☕');
      expect(got.parsed.text?.trim()).toBe('Adjunta la factura.');
      const [original] = await created.database.db.select().from(messages).where(eq(messages.id, id));
      expect(original!.state).toBe('queued'); // the original still waits for its own recipients
      expect(got.parsed.messageId).not.toBe(original!.messageId);
    });
  });

  it('refuses what is not one address, and more than five a minute', async () => {
    await withPage(async (page) => {
      await page.goto(`${server.url}/templates/invoice`);
      await page.evaluate(`document.getElementById('send-test').noValidate = true`); // the server's check, not the browser's
      await page.fill('#test-to', 'a@example.com, b@example.com');
      await page.click('#send-test button[type=submit]');
      expect(await page.locator('#test-refused').textContent()).toContain('is not one email address');
      await page.click('#back');
      expect(new URL(page.url()).pathname).toBe('/templates/invoice');

      const before = smtp.received.length;
      let refused = '';
      for (let i = 0; i < 6 && !refused; i++) {
        await page.goto(`${server.url}/templates/invoice`);
        await page.fill('#test-to', `reviewer${i}@example.com`);
        const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#send-test button[type=submit]')]);
        if (response.status() === 429) refused = (await page.locator('#test-refused').textContent())!;
      }
      expect(refused).toContain('Too many test sends: at most 5 a minute');
      // The bad address and the two tests before counted too: five sends in all this minute.
      expect(smtp.received.length - before).toBe(2);
    });
  });

  it('says so, and sends nothing, when no SMTP server is configured', async () => {
    await withPage(async (page) => {
      await page.goto(`${withoutSmtp.url}/views/welcome`);
      expect(await page.locator('#send-test button[type=submit]').isDisabled()).toBe(true);
      expect(await page.locator('#send-test').textContent()).toContain('No SMTP server configured');
      const token = await page.locator('#send-test input[name=_csrf]').inputValue();
      const response = await page.request.post(`${withoutSmtp.url}/views/welcome/send-test`, { form: { _csrf: token, to: 'x@example.com' }, headers: { Origin: withoutSmtp.url } });
      expect(response.status()).toBe(503);
      expect(await response.text()).toContain('No SMTP server is configured, so a test cannot be sent: start the preview with --smtp URL');
    });
  });

  it('refuses a cross-site or token-less POST, and props that are not a JSON object', async () => {
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const headers = (origin: string) => ({ origin, 'content-type': 'application/x-www-form-urlencoded' });
    const before = smtp.received.length;
    const crossSite = await fetch(`${server.url}/views/welcome/send-test`, { method: 'POST', headers: headers('http://attacker.test'), body: form({ to: 'x@example.com' }) });
    expect(crossSite.status).toBe(403);
    const noToken = await fetch(`${server.url}/views/welcome/send-test`, { method: 'POST', headers: headers(server.url), body: form({ to: 'x@example.com' }) });
    expect(noToken.status).toBe(403);
    const bulk = await fetch(`${server.url}/outbox/bulk`, { method: 'POST', headers: headers(server.url), body: form({ action: 'delete', confirmed: '1' }) });
    expect(bulk.status).toBe(403);
    expect(smtp.received.length).toBe(before);
    for (const props of ['[1,2]', '{"name":', '"text"', 'x'.repeat(9000)]) {
      expect((await fetch(`${server.url}/views/welcome?props=${encodeURIComponent(props)}`)).status, props.slice(0, 20)).toBe(400);
      const json = await fetch(`${server.url}/views/welcome/render.json?props=${encodeURIComponent(props)}`);
      expect(json.status).toBe(400);
      expect(((await json.json()) as { ok: boolean }).ok).toBe(false);
    }
  });
});
