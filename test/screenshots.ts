/**
 * Regenerates docs/screenshots/*.png, the README's pictures of the preview server:
 * `npx tsx test/screenshots.ts`. Uses a throwaway embedded database, a local SMTP
 * server and the repo's emails/ (read only). The locale switcher's 日本語 needs a CJK font
 * (Debian: fonts-ipafont-gothic), or Chromium draws boxes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enqueueMail, openDatabase } from 'mailroom';
import { createSmtpTransport, drain, suppress } from 'mailroom/drain';
import { startPreviewServer } from 'mailroom/preview';
import { InvoiceMail, PasswordResetMail, WelcomeMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';
import { startSmtp, smtpError } from './helpers/smtp.js';
import { launchBrowser } from './helpers/browser.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(REPO, 'docs', 'screenshots');
const dir = mkdtempSync(join(tmpdir(), 'mailroom-screenshots-'));
const database = await openDatabase(`file:${join(dir, 'db')}`);
const smtp = await startSmtp({
  onRcpt: (address) => {
    if (address.startsWith('old-address@')) return smtpError(550, '5.1.1 old-address@example.com: no such user');
    if (address.startsWith('busy@')) return smtpError(451, '4.3.2 try again later');
  },
});
const browser = await launchBrowser();
try {
  const to = (address: string, name = 'Núria Puigdomènech') => ({ name, address });
  const people = ['nuria@example.com', 'jordi@example.com', 'old-address@example.com', 'marta@example.com', 'busy@example.com'];
  for (const [i, address] of people.entries()) {
    await enqueueMail(database, await new WelcomeMail({ name: address.split('@')[0]!, loginUrl: 'https://example.com/login' }).toMessage({ to: to(address, '') }));
    if (i % 2 === 0) await enqueueMail(database, await new InvoiceMail({ ...Invoice.PreviewProps, number: `F-2026-00${40 + i}` }).toMessage({ to: to(address) }));
  }
  const transport = createSmtpTransport(smtp.url, { concurrency: 2 });
  await drain(database.db, { smtp: transport, concurrency: 2 });
  transport.close();
  const tomorrow = new Date(Date.now() + 86_400_000);
  await enqueueMail(database, { ...(await new PasswordResetMail({ name: 'Jordi', resetUrl: 'https://example.com/r/1', expiresInMinutes: 30 }).toMessage({ to: to('jordi@example.com', 'Jordi') })), sendAt: tomorrow });

  await suppress(database.db, { address: 'old-address@example.com', reason: 'hard-bounce', source: 'bounce', note: '5.1.1 550 no such user' });
  await suppress(database.db, { address: 'marta@example.com', topic: 'newsletter', reason: 'unsubscribed', source: 'one-click' });
  await suppress(database.db, { address: 'complainer@example.net', reason: 'complaint', source: 'feedback-report', note: 'abuse' });
  await suppress(database.db, { address: 'ops-test@example.com', reason: 'manual', source: 'cli', note: 'our own test inbox' });

  const server = await startPreviewServer({ database, emailsDir: join(REPO, 'emails'), port: 0, watch: false });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  mkdirSync(OUT, { recursive: true });
  await page.goto(`${server.url}/templates/invoice`);
  await page.frameLocator('iframe').locator('h1').waitFor();
  await page.screenshot({ path: join(OUT, 'template.png') });
  await page.goto(`${server.url}/templates/welcome?width=375`);
  await page.frameLocator('iframe').locator('h1').waitFor();
  await page.screenshot({ path: join(OUT, 'template-mobile.png') });
  // Wide: the plain text beside the HTML; the props editor above, a view's own headers.
  await page.setViewportSize({ width: 1600, height: 1500 });
  await page.goto(`${server.url}/views/invoice?width=600`);
  await page.frameLocator('iframe').locator('h1').waitFor();
  await page.locator('iframe[data-fitted]').waitFor();
  await page.screenshot({ path: join(OUT, 'view-props.png') });
  await page.goto(`${server.url}/templates/invoice?scheme=dark&width=600`);
  await page.locator('iframe[data-fitted]').waitFor();
  await page.locator('#source').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUT, 'source.png') });
  // Edited props that break a rule: what `mailroom check` would say, above the email.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${server.url}/views/welcome?props=${encodeURIComponent(JSON.stringify({ name: 'Núria', loginUrl: 'http://localhost:3000/login' }))}`);
  await page.locator('#check-findings').waitFor();
  await page.locator('iframe[data-fitted]').waitFor();
  await page.screenshot({ path: join(OUT, 'checks.png') });
  await page.goto(`${server.url}/suppressions`);
  await page.screenshot({ path: join(OUT, 'suppressions.png') });
  await page.goto(`${server.url}/outbox`);
  await page.screenshot({ path: join(OUT, 'outbox.png') });
  await page.goto(`${server.url}/outbox/2`);
  await page.frameLocator('iframe').locator('h1').waitFor();
  await page.screenshot({ path: join(OUT, 'message.png'), fullPage: false });
  await server.close();
  console.log(`wrote ${OUT}/{template,template-mobile,view-props,source,checks,outbox,message,suppressions}.png`);
} finally {
  await browser.close();
  await smtp.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
