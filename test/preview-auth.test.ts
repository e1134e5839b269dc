import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { getRequestListener } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { enqueueMail, ConfigError, type Database } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createPreviewHandler, hashPreviewPassword, startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { Sessions } from '../src/preview/auth/session.js';
import { backends } from './helpers/databases.js';
import { CHROMIUM } from './helpers/browser.js';
import { BIN, mailroom } from './helpers/cli.js';
import { rawStatus } from './helpers/raw-http.js';

// Postgres when there is one: the CLI test opens the same database from another process.
const ALL = await backends();
const backend = ALL.find((b) => b.name === 'postgres') ?? ALL[0];
const PASSWORD = 'correct horse battery staple';
const SECRET = 'a-session-secret-of-at-least-32-characters!';
const STAGING = 'mail.staging.test';

let browser: Browser;
let created: Awaited<ReturnType<NonNullable<typeof backend>['create']>>;
let database: Database;
const ids: Record<string, number> = {};

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--host-resolver-rules=MAP ${STAGING} 127.0.0.1, MAP other.test 127.0.0.1`],
  });
  created = await backend!.create();
  database = created.database;
  const from = 'shop@example.com';
  ids.a = (await enqueueMail(database, { from, to: 'a@example.com', subject: 'Reset token 4c1d', text: 'token 4c1d', html: '<h1>Reset 4c1d</h1>', sendAt: new Date(Date.now() + 86_400_000) })).id;
  ids.b = (await enqueueMail(database, { from, to: 'b@example.com', subject: 'Keep me', text: 'x', sendAt: new Date(Date.now() + 86_400_000) })).id;
});
afterAll(async () => {
  await browser?.close();
  await created?.drop();
});

async function withPage<T>(body: (page: Page, context: BrowserContext) => Promise<T>, options: Parameters<Browser['newContext']>[0] = {}): Promise<T> {
  const context = await browser.newContext({ acceptDownloads: true, ...options });
  try {
    return await body(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

const state = async (id: number) => (await database.db.select({ state: messages.state }).from(messages).where(eq(messages.id, id)))[0]?.state;

describe('preview: exposed beyond loopback', () => {
  it('refuses to start off loopback without a login, or on a wildcard without allowed Host names', async () => {
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0 })).rejects.toThrow(ConfigError);
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0 })).rejects.toThrow(/MAILROOM_PREVIEW_PASSWORD/);
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0, auth: { password: PASSWORD } })).rejects.toThrow(/--allowed-host/);
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0, auth: { password: 'short' }, allowedHosts: [STAGING] })).rejects.toThrow(/at least 8/);
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0, auth: { password: PASSWORD }, allowedHosts: ['http://x/'] })).rejects.toThrow(/not a host name/);
    await expect(startPreviewServer({ database, host: '0.0.0.0', port: 0, auth: { password: PASSWORD, secret: 'short' }, allowedHosts: [STAGING] })).rejects.toThrow(/at least 32/);
    // The CLI: one line, exit 1, nothing listening.
    const cli = await mailroom(['preview', '--host', '0.0.0.0', '--port', '0', '--database', created.url], { MAILROOM_PREVIEW_PASSWORD: undefined, MAILROOM_PREVIEW_USERS: undefined });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^mailroom: Listening on 0\.0\.0\.0 shows the outbox to the network: set MAILROOM_PREVIEW_PASSWORD.*\n$/);
  });

  describe('with a password', () => {
    let server: PreviewServer;
    let base: string;
    const errors: unknown[] = [];
    beforeAll(async () => {
      server = await startPreviewServer({ database, host: '0.0.0.0', port: 0, auth: { password: PASSWORD, secret: SECRET, maxFailures: 3 }, allowedHosts: [STAGING], onError: (e) => errors.push(e) });
      base = `http://${STAGING}:${server.port}`;
    });
    afterAll(() => server?.close());

    it('shows nothing before a login: pages redirect to it, downloads and actions are refused', async () => {
      const page = await fetch(`http://127.0.0.1:${server.port}/outbox/${ids.a}`, { redirect: 'manual' });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe(`/login?next=${encodeURIComponent(`/outbox/${ids.a}`)}`);
      for (const path of [`/outbox/${ids.a}/raw`, `/outbox/${ids.a}/html`, '/outbox', '/', '/events']) {
        const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { redirect: 'manual' });
        expect([path, response.status]).toEqual([path, 303]);
        expect(await response.text()).not.toContain('4c1d');
      }
      const post = await fetch(`http://127.0.0.1:${server.port}/outbox/${ids.b}/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://127.0.0.1:${server.port}` },
        body: '_csrf=x',
      });
      expect(post.status).toBe(401);
      expect(await state(ids.b!)).toBe('queued');
    });

    it('answers only to the allowed names and loopback literals', async () => {
      expect(await rawStatus(server.port, [`Host: ${STAGING}:${server.port}`], '/login')).toBe(200);
      expect(await rawStatus(server.port, [`Host: 127.0.0.1:${server.port}`], '/login')).toBe(200);
      for (const host of ['other.test', `${STAGING}.evil.com`, `127.${STAGING}`, 'evil.example', '10.1.2.3']) expect([host, await rawStatus(server.port, [`Host: ${host}`], '/login')]).toEqual([host, 421]);
      await withPage(async (page) => {
        expect((await page.goto(`http://other.test:${server.port}/login`))?.status()).toBe(421);
      });
    });

    it('logs in with the password in Chromium, with a signed HttpOnly SameSite=Strict cookie that expires; logs out', async () => {
      await withPage(async (page, context) => {
        await page.goto(`${base}/outbox/${ids.a}`);
        expect(new URL(page.url()).pathname).toBe('/login');
        expect(await page.locator('input[name=user]').count()).toBe(0);
        await page.fill('input[name=password]', 'wrong password');
        await page.click('form.login button');
        expect(await page.locator('#login-error').textContent()).toBe('Wrong password.');
        await page.fill('input[name=password]', PASSWORD);
        await page.click('form.login button');
        // Back where it was going.
        expect(new URL(page.url()).pathname).toBe(`/outbox/${ids.a}`);
        expect(await page.locator('h1').textContent()).toBe('Reset token 4c1d');
        await expect.poll(() => page.frameLocator('iframe').locator('h1').textContent()).toBe('Reset 4c1d');
        const [cookie] = await context.cookies();
        expect(cookie).toMatchObject({ name: 'mailroom_preview_session', httpOnly: true, sameSite: 'Strict', path: '/' });
        expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 11 * 3600);
        expect(cookie!.expires).toBeLessThan(Date.now() / 1000 + 13 * 3600);

        // A forged or altered cookie is no login.
        const [user, expiry, signature] = cookie!.value.split('.');
        for (const forged of [`${user}.${Number(expiry) + 86400}.${signature}`, `${Buffer.from('admin').toString('base64url')}.${expiry}.${signature}`, `${user}.${expiry}.${'A'.repeat(43)}`, '']) {
          const response = await fetch(`http://127.0.0.1:${server.port}/outbox/${ids.a}/raw`, { redirect: 'manual', headers: { cookie: `mailroom_preview_session=${forged}` } });
          expect(response.status).toBe(303);
        }
        // An expired one, even correctly signed, neither.
        const expired = new Sessions(SECRET, 3600).issue('preview', Date.now() - 7200_000);
        expect((await fetch(`http://127.0.0.1:${server.port}/outbox`, { redirect: 'manual', headers: { cookie: `mailroom_preview_session=${expired}` } })).status).toBe(303);
        const fresh = new Sessions(SECRET, 3600).issue('preview');
        expect((await fetch(`http://127.0.0.1:${server.port}/outbox`, { redirect: 'manual', headers: { cookie: `mailroom_preview_session=${fresh}` } })).status).toBe(200);

        await page.click('form.logout button');
        expect(new URL(page.url()).pathname).toBe('/login');
        expect(await context.cookies()).toEqual([]);
        await page.goto(`${base}/outbox`);
        expect(new URL(page.url()).pathname).toBe('/login');
      });
    });

    it('rate-limits failed logins per client: past the limit even the right password waits', async () => {
      const login = (password: string) =>
        fetch(`http://127.0.0.1:${server.port}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://127.0.0.1:${server.port}` },
          body: new URLSearchParams({ password, next: '/outbox' }).toString(),
        });
      // The limit is 3 (maxFailures) per client; a success in between starts the count again.
      expect((await login('nope 1')).status).toBe(401);
      expect((await login('nope 2')).status).toBe(401);
      expect((await login(PASSWORD)).status).toBe(303);
      for (const n of [1, 2, 3]) expect((await login(`nope ${n}`)).status).toBe(401);
      const blocked = await login(PASSWORD);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(60);
      expect(blocked.headers.get('set-cookie')).toBeNull();
    });

    it('marks the cookie Secure when asked (TLS ending at a proxy)', async () => {
      const behindTls = await startPreviewServer({ database, port: 0, auth: { password: PASSWORD, secureCookie: true } });
      try {
        const login = await fetch(`${behindTls.url}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: behindTls.url },
          body: new URLSearchParams({ password: PASSWORD }).toString(),
        });
        expect(login.status).toBe(303);
        expect(login.headers.get('set-cookie')).toMatch(/; Secure/);
      } finally {
        await behindTls.close();
      }
    });

    it('never shows a stack trace: a failing query is one line, the stack goes to the log', async () => {
      const broken = await backend!.create();
      const failing = await startPreviewServer({ database: broken.database, port: 0, auth: { password: PASSWORD, secret: SECRET }, onError: (e) => errors.push(e) });
      try {
        await broken.database.close();
        const cookie = `mailroom_preview_session=${new Sessions(SECRET, 3600).issue('preview')}`;
        for (const path of ['/outbox', `/outbox/${ids.a}`, `/outbox/${ids.a}/raw`, '/']) {
          const response = await fetch(`${failing.url}${path}`, { headers: { cookie } });
          const body = await response.text();
          expect([path, response.status]).toEqual([path, 500]);
          expect(body).toContain("the details are in the preview server's log");
          expect(body).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|\/work\//);
        }
        expect(errors.length).toBeGreaterThan(0);
        expect(String((errors.at(-1) as Error).stack)).toMatch(/\n\s+at /);
      } finally {
        await failing.close();
        await broken.drop();
      }
    });
  });

  it('logs in named users from MAILROOM_PREVIEW_USERS (hashes from --hash-password) through the CLI', async () => {
    const hash = (password: string) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, 'preview', '--hash-password']);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
        child.stdin.end(`${password}\n`);
      });
    const aliceHash = await hash('alice password ✓');
    expect(aliceHash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]{43}$/);
    const bobHash = await hashPreviewPassword('bob password');

    const child: ChildProcess = spawn(process.execPath, [BIN, 'preview', '--host', '0.0.0.0', '--port', '0', '--allowed-host', STAGING, '--read-only', '--database', created.url], {
      env: { ...process.env, DATABASE_URL: undefined, SMTP_URL: undefined, MAILROOM_PREVIEW_PASSWORD: undefined, MAILROOM_PREVIEW_USERS: `alice:${aliceHash}, bob:${bobHash}` },
    });
    try {
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', () => {
          const match = /http:\/\/localhost:(\d+)/.exec(output);
          if (match) resolve(`http://${STAGING}:${match[1]}`);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      expect(output).toContain('login required, read-only');
      await withPage(async (page) => {
        await page.goto(`${url}/outbox`);
        await page.fill('input[name=user]', 'alice');
        await page.fill('input[name=password]', 'bob password');
        await page.click('form.login button');
        expect(await page.locator('#login-error').textContent()).toBe('Wrong user name or password.');
        await page.fill('input[name=user]', 'alice');
        await page.fill('input[name=password]', 'alice password ✓');
        await page.click('form.login button');
        expect(new URL(page.url()).pathname).toBe('/outbox');
        expect(await page.locator('form.logout span').textContent()).toBe('alice');
        expect(await page.locator('#read-only').count()).toBe(1);
        // Read-only: no action buttons, and the POSTs are refused even with the page's token.
        await page.goto(`${url}/outbox/${ids.b}`);
        expect(await page.locator('.actions').count()).toBe(0);
        const token = await page.locator('form.logout input[name=_csrf]').inputValue();
        for (const action of ['delete', 'retry', 'send-now']) {
          const status = await page.evaluate(
            async ([path, csrf]) => (await fetch(path!, { method: 'POST', body: new URLSearchParams({ _csrf: csrf! }) })).status,
            [`/outbox/${ids.b}/${action}`, token],
          );
          expect([action, status]).toEqual([action, 403]);
        }
        expect(await state(ids.b!)).toBe('queued');
      });
    } finally {
      await new Promise((resolve) => {
        child.on('exit', resolve);
        child.kill('SIGTERM');
      });
    }
  });
});

describe('preview: mounted in an app under its own auth', () => {
  let server: Server;
  let origin: string;
  const preview = createPreviewHandler({ database: undefined, basePath: '/admin/mail' });
  beforeAll(async () => {
    const handler = createPreviewHandler({ database, basePath: '/admin/mail' });
    const app = new Hono();
    app.get('/', (c) => c.text('the app'));
    app.use('/admin/*', basicAuth({ username: 'admin', password: 'app secret' }));
    app.all('/admin/mail', (c) => handler(c.req.raw));
    app.all('/admin/mail/*', (c) => handler(c.req.raw));
    server = createServer(getRequestListener(app.fetch));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return async () => {
      await handler.close();
      await preview.close();
      await new Promise((resolve) => server.close(resolve));
    };
  });

  it('is behind the app’s auth, and its links, frames, downloads and forms stay under the prefix', async () => {
    expect((await fetch(`${origin}/admin/mail/outbox`)).status).toBe(401);
    await withPage(
      async (page) => {
        const requested: string[] = [];
        page.on('request', (r) => requested.push(new URL(r.url()).pathname));
        await page.goto(`${origin}/admin/mail`);
        // The stylesheet loaded (the header is styled) from under the prefix.
        expect(await page.locator('header.top').evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(e).display)).toBe('flex');
        await page.click('header.top nav >> text=Outbox');
        expect(new URL(page.url()).pathname).toBe('/admin/mail/outbox');
        await page.click(`#outbox tr[data-id="${ids.a}"] a.subject`);
        expect(new URL(page.url()).pathname).toBe(`/admin/mail/outbox/${ids.a}`);
        await expect.poll(() => page.frameLocator('iframe').locator('h1').textContent()).toBe('Reset 4c1d');
        await page.click('#widths a[data-width="375"]');
        expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(`/admin/mail/outbox/${ids.a}?width=375`);
        const [eml] = await Promise.all([page.waitForEvent('download'), page.click('#raw')]);
        expect(eml.url()).toBe(`${origin}/admin/mail/outbox/${ids.a}/raw`);
        await page.click('a:text-is("back to the outbox")');
        expect(new URL(page.url()).pathname).toBe('/admin/mail/outbox');
        await page.fill('input[name=q]', 'Keep me');
        await page.click('form.search button');
        expect(new URL(page.url()).pathname).toBe('/admin/mail/outbox');
        await page.click('a.subject');
        await page.click('.actions button:text-is("Delete")');
        expect(new URL(page.url()).pathname).toBe('/admin/mail/outbox');
        expect(await page.locator('.notice').textContent()).toBe(`Message #${ids.b} deleted.`);
        expect(await state(ids.b!)).toBeUndefined();
        expect(requested.filter((p) => !p.startsWith('/admin/mail'))).toEqual([]);
      },
      { httpCredentials: { username: 'admin', password: 'app secret' } },
    );
  });
});
