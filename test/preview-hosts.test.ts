import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { enqueueMail, type Database } from 'mailroom';
import { startPreviewServer, type PreviewServer } from 'mailroom/preview';
import { backends } from './helpers/databases.js';
import { CHROMIUM } from './helpers/browser.js';
import { rawStatus } from './helpers/raw-http.js';

const [backend] = await backends();

/** Hosts a page whose DNS was rebound to our loopback server would send, and other spellings that only look like loopback. */
const HOSTILE = [
  '127.attacker.example',
  '127.0.0.1.evil.com',
  '127.0.0.1.nip.io',
  'localhost.evil.com',
  'localhost.',
  'evil.localhost',
  'evil.example',
  '0x7f.1',
  '0x7f000001',
  '2130706433',
  '127.1',
  '0177.0.0.1',
  '127.000.0.1',
  '127.0.0.256',
  '[::1].evil',
  '[::1]evil',
  '[::1',
  '::1',
  '[fe80::1%25lo]',
  '[::1%25lo]',
  '[::2]',
  '10.0.0.1',
  '',
  'user@127.0.0.1',
  '127.0.0.1@evil.com',
  'user:pw@localhost',
  '127.0.0.1:80@evil.com',
  '127.0.0.1:99999',
  '127.0.0.1:',
  '127.0.0.1:80:80',
  '127.0.0.1:http',
  '127.0.0.1/evil',
  '127.0.0.1,evil.com',
  '127.0.0.1 evil.com',
  'localhost#@evil.com',
  'xn--localhost',
];

const GOOD = ['127.0.0.1', '127.0.0.1:PORT', '127.255.255.254', '127.1.2.3:80', 'localhost', 'localhost:PORT', 'LocalHost:PORT', '[::1]', '[::1]:PORT'];

describe('preview: Host check on a loopback bind (DNS rebinding)', () => {
  let created: Awaited<ReturnType<NonNullable<typeof backend>['create']>>;
  let database: Database;
  let server: PreviewServer;
  let browser: Browser;

  beforeAll(async () => {
    created = await backend!.create();
    database = created.database;
    await enqueueMail(database, { from: 'a@example.com', to: 'b@example.com', subject: 'Reset token 9f2c', text: 'token 9f2c' });
    server = await startPreviewServer({ database, port: 0 });
    // The attacker's names resolve to our server, as after a DNS rebinding.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--host-resolver-rules=MAP 127.attacker.example 127.0.0.1, MAP 127.0.0.1.evil.test 127.0.0.1, MAP localhost.evil.test 127.0.0.1',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await created?.drop();
  });

  it('refuses every Host that is not a loopback IP literal or localhost (421, or 400 from the HTTP parser)', async () => {
    const served: string[] = [];
    const statuses: Record<string, number> = {};
    for (const host of HOSTILE) {
      statuses[host] = await rawStatus(server.port, [`Host: ${host}`]);
      if (statuses[host] !== 421 && statuses[host] !== 400) served.push(host);
    }
    expect(served, 'hosts that got through').toEqual([]);
    // The names that look like loopback reach the check itself: it is what refuses them.
    for (const host of ['127.attacker.example', '127.0.0.1.evil.com', 'localhost.evil.com', '0x7f.1', '127.1']) expect([host, statuses[host]]).toEqual([host, 421]);
    // No Host at all, and two of them (one good, one hostile): never served.
    expect(await rawStatus(server.port, [])).not.toBe(200);
    expect(await rawStatus(server.port, ['Host: 127.0.0.1', 'Host: evil.example'])).not.toBe(200);
    expect(await rawStatus(server.port, ['Host: evil.example', 'Host: 127.0.0.1'])).not.toBe(200);
  });

  it('serves loopback literals of 127.0.0.0/8 and ::1, and localhost, with or without a port', async () => {
    for (const host of GOOD) expect([host, await rawStatus(server.port, [`Host: ${host.replace('PORT', String(server.port))}`])]).toEqual([host, 200]);
  });

  it('a page on a rebound name gets nothing from the outbox in Chromium', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      for (const name of ['127.attacker.example', '127.0.0.1.evil.test', 'localhost.evil.test']) {
        const response = await page.goto(`http://${name}:${server.port}/outbox`);
        expect(response?.status()).toBe(421);
        expect(await page.content()).not.toContain('Reset token');
        // The page's own (same-origin) fetch of a raw message is refused too.
        const raw = await page.evaluate(async () => {
          const r = await fetch('/outbox/1/raw');
          return { status: r.status, body: await r.text() };
        });
        expect(raw.status).toBe(421);
        expect(raw.body).not.toContain('9f2c');
      }
      // The real origin works.
      const ok = await page.goto(`http://127.0.0.1:${server.port}/outbox`);
      expect(ok?.status()).toBe(200);
      expect(await page.content()).toContain('Reset token 9f2c');
    } finally {
      await context.close();
    }
  });
});
