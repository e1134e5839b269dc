import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { getRequestListener } from '@hono/node-server';
import { BulkMail, MailView, createQueueTransport, enqueueMail, enqueueMailMany, ConfigError, InvalidMessageError } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain, listSuppressions } from 'mailroom/drain';
import { unsubscribeHandler, signToken, verifyToken } from 'mailroom/unsubscribe';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const ALL = await backends();
const SECRET = 'first-secret-0123456789abcdef';
const OLD_SECRET = 'older-secret-0123456789abcdef';

const Letter = ({ name }: { name: string }) => <p>Hello {name}, here is the news.</p>;

class Newsletter extends BulkMail<{ name: string }> {
  readonly template = Letter;
  topic = 'newsletter';
  subject() {
    return 'The news';
  }
}
class Receipt extends MailView<{ name: string }> {
  readonly template = Letter;
  subject() {
    return 'Your receipt';
  }
}

describe('unsubscribe tokens', () => {
  const claims = { address: 'reader@example.com', topic: 'newsletter' };
  it('verify when signed with any listed secret, and say what is wrong otherwise', () => {
    const token = signToken(claims, [SECRET]);
    expect(verifyToken(token, [SECRET])).toEqual({ claims });
    // rotated: the old secret's links still verify while it is listed, and only then
    const old = signToken(claims, [OLD_SECRET]);
    expect(verifyToken(old, [SECRET, OLD_SECRET])).toEqual({ claims });
    expect(verifyToken(old, [SECRET])).toEqual({ problem: 'forged' });
    // forged: another address in the payload, the same signature
    const [, signature] = token.split('.');
    const other = Buffer.from(JSON.stringify(['victim@example.com', 'newsletter'])).toString('base64url');
    expect(verifyToken(`${other}.${signature}`, [SECRET])).toEqual({ problem: 'forged' });
    expect(verifyToken('nonsense', [SECRET])).toEqual({ problem: 'malformed' });
    // expiry
    const expiring = signToken({ ...claims, expires: 1_000 }, [SECRET]);
    expect(verifyToken(expiring, [SECRET], 999_000)).toEqual({ claims: { ...claims, expires: 1_000 } });
    expect(verifyToken(expiring, [SECRET], 1_001_000)).toEqual({ problem: 'expired' });
  });

  it('a missing or short secret is a ConfigError naming the fix', () => {
    expect(() => unsubscribeHandler({ database: 'file:/nowhere', secrets: [] })).toThrow(ConfigError);
    expect(() => unsubscribeHandler({ database: 'file:/nowhere', secrets: 'short' })).toThrow(/shorter than 16 characters/);
  });
});

describe.each(ALL)('one-click unsubscribe on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  it('a topic view carries List-Unsubscribe + List-Unsubscribe-Post with a per-recipient link; a transactional one carries none', async () => {
    const { database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(
        createQueueTransport({ database, unsubscribe: { url: 'https://example.com/unsubscribe?list=1', mailto: 'unsubscribe@example.com', secrets: [SECRET] } }),
      );
      await new Newsletter({ name: 'Ana' }).send(queue, { from: 'news@example.com', to: 'Ana@Example.com' });
      await new Receipt({ name: 'Ana' }).send(queue, { from: 'shop@example.com', to: 'ana@example.com' });
      await expect(new Newsletter({ name: 'Ana' }).send(queue, { from: 'news@example.com', to: ['a@example.com', 'b@example.com'] })).rejects.toThrow(InvalidMessageError);
      const rows = await database.db.select().from(messages).orderBy(messages.id);
      expect(rows.map((r) => [r.view, r.topic])).toEqual([['Newsletter', 'newsletter'], ['Receipt', null]]);
      const news = await simpleParser(rows[0]!.raw);
      const header = news.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/\r?\n[ \t]/g, ' ');
      const [, link, mailto] = /^List-Unsubscribe: <(https:[^>]+)>, <(mailto:[^>]+)>$/.exec(header)!;
      expect(news.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(news.headers.get('x-mail-queue-topic')).toBeUndefined();
      const url = new URL(link!);
      expect(url.origin + url.pathname).toBe('https://example.com/unsubscribe');
      expect(url.searchParams.get('list')).toBe('1');
      expect(verifyToken(url.searchParams.get('token')!, [SECRET])).toEqual({ claims: { address: 'ana@example.com', topic: 'newsletter' } });
      expect(mailto).toBe(`mailto:unsubscribe@example.com?subject=unsubscribe%20${url.searchParams.get('token')}`);
      const receipt = await simpleParser(rows[1]!.raw);
      expect(receipt.headerLines.map((h) => h.key)).not.toContain('list-unsubscribe');
      expect(receipt.headerLines.map((h) => h.key)).not.toContain('list-unsubscribe-post');
      expect(() => createQueueTransport({ database, unsubscribe: { url: 'https://example.com/u', secrets: [] } })).toThrow(/needs a secret/);
      queue.close();
    } finally {
      await drop();
    }
  });

  it('a topic view without unsubscribe settings is refused, stores nothing, and names the fix; its own header or unsubscribe: false lets it go', async () => {
    const { database, drop } = await backend.create();
    try {
      const bare = nodemailer.createTransport(createQueueTransport({ database }));
      const refused = new Newsletter({ name: 'Ana' }).send(bare, { from: 'news@example.com', to: 'ana@example.com' });
      await expect(refused).rejects.toBeInstanceOf(ConfigError);
      await expect(new Newsletter({ name: 'Ana' }).send(bare, { from: 'news@example.com', to: 'ana@example.com' })).rejects.toThrow(
        /topic "newsletter" would go out without List-Unsubscribe: give the queue transport .*unsubscribe: \{ url \}.*or pass unsubscribe: false/,
      );
      await expect(enqueueMail(database, { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x', queueTopic: 'digest' })).rejects.toBeInstanceOf(ConfigError);
      await expect(enqueueMailMany(database, [{ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x', queueTopic: 'digest' }])).rejects.toBeInstanceOf(ConfigError);
      expect(await database.db.select().from(messages)).toHaveLength(0);
      // transactional mail is untouched; the app's own List-Unsubscribe is kept as written
      await new Receipt({ name: 'Ana' }).send(bare, { from: 'shop@example.com', to: 'ana@example.com' });
      await new Newsletter({ name: 'Ana' }).send(bare, { from: 'news@example.com', to: 'ana@example.com', headers: { 'List-Unsubscribe': '<mailto:leave@example.com>' } });
      // nodemailer's own `list` option, through enqueueMail too (MailComposer alone ignores it)
      await enqueueMail(database, { from: 'a@example.com', to: 'b@example.com', subject: 'listed', text: 'x', queueTopic: 'digest', list: { unsubscribe: 'https://example.com/u' } });
      // on purpose: no header at all
      const without = nodemailer.createTransport(createQueueTransport({ database, unsubscribe: false }));
      await new Newsletter({ name: 'Ana' }).send(without, { from: 'news@example.com', to: ['ana@example.com', 'bo@example.com'] });
      const rows = await database.db.select().from(messages).orderBy(messages.id);
      expect(rows.map((r) => r.view ?? r.subject)).toEqual(['Receipt', 'Newsletter', 'listed', 'Newsletter']);
      const own = await simpleParser(rows[1]!.raw);
      expect(own.headerLines.filter((h) => h.key === 'list-unsubscribe').map((h) => h.line)).toEqual(['List-Unsubscribe: <mailto:leave@example.com>']);
      const listed = await simpleParser(rows[2]!.raw);
      expect(listed.headerLines.filter((h) => h.key === 'list-unsubscribe').map((h) => h.line)).toEqual(['List-Unsubscribe: <https://example.com/u>']);
      expect((await simpleParser(rows[3]!.raw)).headerLines.map((h) => h.key)).not.toContain('list-unsubscribe');
      bare.close();
      without.close();
    } finally {
      await drop();
    }
  });

  it('the handler in a real HTTP server: GET shows a button and changes nothing; POST one-click suppresses, once; forged and expired links get a 4xx and change nothing', async () => {
    const { database, drop } = await backend.create();
    let server: Server | undefined;
    try {
      let now = Date.now();
      const handler = unsubscribeHandler({ database, secrets: [SECRET, OLD_SECRET], sender: 'Example <News>', now: () => now });
      server = createServer(getRequestListener(handler));
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/unsubscribe`;
      const linkFor = (address: string, secret = SECRET, expires?: number) =>
        `${base}?token=${signToken({ address, topic: 'newsletter', ...(expires ? { expires } : {}) }, [secret])}`;
      const oneClick = (url: string, body = 'List-Unsubscribe=One-Click') =>
        fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const suppressed = async () => (await listSuppressions(database.db)).map((r) => `${r.address}/${r.topic}/${r.reason}/${r.source}`);

      const link = linkFor('ana@example.com');
      const shown = await fetch(link);
      expect(shown.status).toBe(200);
      const html = await shown.text();
      expect(html).toContain('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>');
      expect(html).toContain('Example &#60;News&#62;');
      expect(shown.headers.get('cache-control')).toBe('no-store');
      expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
      expect(await suppressed()).toEqual([]);

      expect((await oneClick(link, 'something=else')).status).toBe(400);
      expect(await suppressed()).toEqual([]);
      expect((await fetch(link, { method: 'PUT', body: 'List-Unsubscribe=One-Click' })).status).toBe(405);

      const done = await oneClick(link);
      expect(done.status).toBe(200);
      expect(await done.text()).toContain('will get no more “newsletter” emails');
      expect(await suppressed()).toEqual(['ana@example.com/newsletter/unsubscribed/one-click']);
      expect((await oneClick(link)).status).toBe(200); // idempotent
      // the page's own button posts multipart in some browsers: accepted too
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      expect((await fetch(linkFor('bo@example.com', OLD_SECRET), { method: 'POST', body: form })).status).toBe(200); // rotated-out key still verifies
      expect(await suppressed()).toEqual(['ana@example.com/newsletter/unsubscribed/one-click', 'bo@example.com/newsletter/unsubscribed/one-click']);

      const forged = linkFor('victim@example.com', 'attacker-secret-0123456789abcdef');
      expect((await oneClick(forged)).status).toBe(403);
      expect((await fetch(forged)).status).toBe(403);
      const expiring = linkFor('late@example.com', SECRET, Math.floor(now / 1000) + 60);
      now += 61_000;
      expect((await oneClick(expiring)).status).toBe(410);
      expect((await oneClick(`${base}?token=`)).status).toBe(400);
      expect(await suppressed()).toHaveLength(2);

      // the next newsletter to ana is not delivered and says why; her receipt is
      const queue = nodemailer.createTransport(createQueueTransport({ database, unsubscribe: { url: base, secrets: [SECRET] } }));
      await new Newsletter({ name: 'Ana' }).send(queue, { from: 'news@example.com', to: 'ana@example.com' });
      await new Receipt({ name: 'Ana' }).send(queue, { from: 'shop@example.com', to: 'ana@example.com' });
      smtp.received.length = 0;
      const transport = createSmtpTransport(smtp.url);
      expect(await drain(database.db, { smtp: transport })).toMatchObject({ sent: 1, failed: 1 });
      transport.close();
      queue.close();
      expect(smtp.received.map((m) => m.parsed.subject)).toEqual(['Your receipt']);
      const [news] = await database.db.select().from(messages).orderBy(messages.id);
      expect(news!.lastError).toBe('all recipients are suppressed: suppressed (unsubscribed from topic newsletter)');
    } finally {
      await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
      await drop();
    }
  });
});
