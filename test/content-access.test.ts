import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { ConfigError, createQueueTransport, enqueueMail, enqueueMailMany, InvalidMessageError, type QueuedInfo } from 'mailroom';
import { messages } from 'mailroom/schema';
import type { ContentAccess } from '../src/transport/content-access.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();
const base = { from: 'a@example.com', to: 'b@example.com', subject: 'content access', text: 'hello' };

/** A local HTTP server that counts its requests; routes answer as the tests need. */
interface Site {
  origin: string;
  hits: string[];
  /** Bytes the last /huge response wrote before its client went away, once it has. */
  hugeWritten: Promise<number>;
  close(): Promise<void>;
}

const MB = 1024 * 1024;

async function startSite(routes: (site: Site) => Record<string, (req: IncomingMessage, res: ServerResponse) => void>): Promise<Site> {
  const site = { hits: [] as string[] } as Site;
  let table: ReturnType<typeof routes> = {};
  const server = createServer((req, res) => {
    site.hits.push(req.url!);
    const route = table[req.url!.split('?')[0]!];
    if (route) return route(req, res);
    res.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  site.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  table = routes(site);
  return site;
}

/** Writes up to `total` bytes, honouring backpressure, and reports how many went out before the client left. */
function stream(res: ServerResponse, total: number, report: (written: number) => void): void {
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  res.on('close', () => report(written));
  const pump = () => {
    while (written < total && !res.destroyed) {
      written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (written >= total) res.end();
  };
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  pump();
}

let dir: string;
let allowed: string;
let secret: string;
let outside: Site;
let cdn: Site;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-content-'));
  allowed = join(dir, 'assets');
  mkdirSync(join(allowed, 'sub'), { recursive: true });
  mkdirSync(join(dir, 'private'));
  secret = join(dir, 'private', 'secret.txt');
  writeFileSync(secret, 'DATABASE_URL=postgres://root:hunter2@db/prod');
  writeFileSync(join(allowed, 'logo.txt'), 'the logo ✓');
  writeFileSync(join(allowed, 'page.html'), '<p>from a file ✓</p>');
  writeFileSync(join(allowed, 'big.bin'), Buffer.alloc(2 * MB, 1));
  symlinkSync(secret, join(allowed, 'link.txt'));
  symlinkSync(join(dir, 'private'), join(allowed, 'sub', 'private-dir'));
  outside = await startSite(() => ({ '/secret': (_req, res) => res.end('internal metadata: token=abc') }));
  cdn = await startSite((site) => {
    return {
      '/logo.txt': (_req, res) => res.end('the remote logo ✓'),
      '/page.html': (_req, res) => res.end('<p>from a URL ✓</p>'),
      '/half.bin': (_req, res) => res.end(Buffer.alloc(600 * 1024, 2)),
      '/to-outside': (_req, res) => res.writeHead(302, { location: `${outside.origin}/secret` }).end(),
      '/to-logo': (_req, res) => res.writeHead(301, { location: '/logo.txt' }).end(),
      '/declared-huge': (_req, res) => res.writeHead(200, { 'content-length': String(60 * MB) }).end('x'),
      '/huge': (_req, res) => {
        site.hugeWritten = new Promise((resolve) => stream(res, 60 * MB, resolve));
      },
      '/slow': () => {}, // never answers
    };
  });
});

afterAll(async () => {
  await outside?.close();
  await cdn?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Each way a message reaches the queue, with the same policy. */
type Entry = (mail: SendMailOptions, access?: ContentAccess, limits?: { maxAttachmentSize: number }) => Promise<unknown>;

describe.each(ALL)('content access on $name', (backend) => {
  const fx = perTest(backend);
  const transports: Transporter<QueuedInfo>[] = [];
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
  });
  const rows = () => fx.database.db.select().from(messages);
  const entries: Record<string, Entry> = {
    transport: (mail, contentAccess, limits) => {
      const t = nodemailer.createTransport(createQueueTransport({ database: fx.database, contentAccess, limits }));
      transports.push(t);
      return t.sendMail(mail);
    },
    enqueueMail: (mail, contentAccess, limits) => enqueueMail(fx.database, mail, { contentAccess, limits }),
    enqueueMailMany: (mail, contentAccess, limits) => enqueueMailMany(fx.database, [base, mail], { contentAccess, limits }),
  };
  let hitsBefore: number;
  beforeEach(() => {
    hitsBefore = outside.hits.length;
  });

  it('reads no file and fetches no URL by default, in any field, and stores nothing', async () => {
    const refs = {
      file: { path: secret },
      'URL path': { path: `${outside.origin}/secret` },
      href: { href: `${outside.origin}/secret` },
    };
    // Each field nodemailer reads content from, and how it names the reference.
    const fields: [string, (ref: object) => SendMailOptions][] = [
      ['attachments[0]', (ref) => ({ attachments: [ref] })],
      ['attachments[0].raw', (ref) => ({ attachments: [{ filename: 'fwd.eml', raw: ref }] })],
      ['attachments[0].content', (ref) => ({ attachments: [{ filename: 'x.txt', content: ref as never }] })],
      ['alternatives[0]', (ref) => ({ alternatives: [{ contentType: 'text/x-web-markdown', ...ref }] })],
      ['html', (ref) => ({ html: ref })],
      ['html.content', (ref) => ({ html: { content: ref } as never })],
      ['text', (ref) => ({ text: ref })],
      ['watchHtml', (ref) => ({ watchHtml: ref })],
      ['amp', (ref) => ({ amp: ref } as SendMailOptions)],
      ['icalEvent', (ref) => ({ icalEvent: { method: 'REQUEST', ...ref } })],
      ['raw', (ref) => ({ raw: ref, envelope: { from: 'a@example.com', to: ['b@example.com'] } })],
    ];
    for (const [entry, send] of Object.entries(entries)) {
      for (const [field, mail] of fields) {
        for (const [kind, ref] of Object.entries(refs)) {
          const name = `${entry}: ${field} as ${kind}`;
          // nodemailer's transporter turns an attachment's URL `path` into `href` before mailroom sees it.
          const key = 'href' in ref ? 'href' : kind === 'file' ? 'path' : '(path|href)';
          const error = await send({ ...base, ...mail(ref) }).then(() => undefined, (e: Error) => e);
          expect(error, name).toBeInstanceOf(InvalidMessageError);
          expect(error!.message, name).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}\\.${key} "`));
          // A URL in `path` is fetched only where nodemailer would (not in raw or nested content: there it is a file name).
          expect(error!.message, name).toMatch({ file: /contentAccess: \{ files: /, href: /contentAccess: \{ urls: / }[kind] ?? /contentAccess: \{ (files|urls): /);
          expect(error!.message, name).not.toContain('hunter2');
        }
      }
    }
    // nodemailer's own plugins read before the transport is called: closed too.
    const dataUrls = entries.transport!({ ...base, html: { href: `${outside.origin}/secret` }, attachDataUrls: true } as SendMailOptions);
    await expect(dataUrls).rejects.toThrow(/access rejected/i);
    expect(outside.hits.length - hitsBefore).toBe(0);
    expect(await rows()).toHaveLength(0);
  });

  it('reads files inside an allowed folder, and nothing that resolves outside it', async () => {
    const access = { files: [allowed] };
    for (const send of Object.values(entries)) {
      await send({ ...base, html: { path: join(allowed, 'page.html') }, attachments: [{ path: join(allowed, 'logo.txt') }] }, access);
    }
    const stored = (await rows()).filter((r) => r.subject === 'content access' && r.raw.includes('logo.txt'));
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      const parsed = await simpleParser(row.raw);
      expect(parsed.html).toBe('<p>from a file ✓</p>');
      expect(parsed.attachments[0]!.content.toString()).toBe('the logo ✓');
    }
    const count = (await rows()).length;
    const refused: [string, RegExp][] = [
      [join(allowed, 'link.txt'), /resolves \(through a symlink\) to a place outside/],
      [join(allowed, 'sub', 'private-dir', 'secret.txt'), /resolves \(through a symlink\) to a place outside/],
      [join(allowed, '..', 'private', 'secret.txt'), /the file is outside the folders contentAccess.files allows/],
      [`${allowed}/sub/../../private/secret.txt`, /the file is outside/],
      ['/proc/self/environ', /the file is outside/],
      [join(allowed, 'missing.txt'), /does not exist or cannot be read/],
      [join(allowed, 'sub'), /not a regular file/],
    ];
    for (const [path, message] of refused) {
      for (const [entry, send] of Object.entries(entries)) {
        const error = await send({ ...base, attachments: [{ path }] }, access).then(() => undefined, (e: Error) => e);
        expect(error, `${entry} ${path}`).toBeInstanceOf(InvalidMessageError);
        expect(error!.message, `${entry} ${path}`).toMatch(message);
        expect(error!.message).toContain('attachments[0].path');
        expect(error!.message).not.toContain('hunter2');
      }
    }
    // Every byte read counts: a file over the attachment limit is refused at the limit.
    const big = await entries.enqueueMail!({ ...base, attachments: [{ path: join(allowed, 'big.bin') }] }, access, { maxAttachmentSize: MB }).catch((e: Error) => e);
    expect(big).toBeInstanceOf(InvalidMessageError);
    expect((big as Error).message).toMatch(/attachments\[0\]\.path: over the 1048576-byte attachment limit/);
    expect(await rows()).toHaveLength(count);
  });

  it('fetches allowed origins only, checking every redirect, within a time and a size limit', async () => {
    const access = { urls: [cdn.origin], timeoutMs: 2_000 };
    for (const send of Object.values(entries)) {
      await send({ ...base, html: { href: `${cdn.origin}/page.html` }, attachments: [{ path: `${cdn.origin}/to-logo` }] }, access);
    }
    const stored = (await rows()).filter((r) => r.raw.includes('to-logo'));
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      const parsed = await simpleParser(row.raw);
      expect(parsed.html).toBe('<p>from a URL ✓</p>');
      expect(parsed.attachments[0]!.content.toString()).toBe('the remote logo ✓');
    }
    const count = (await rows()).length;
    const refused: [SendMailOptions, ContentAccess, RegExp][] = [
      [{ attachments: [{ href: `${outside.origin}/secret` }] }, access, /attachments\[0\]\.href "http:\/\/127\.0\.0\.1:\d+\/secret": an origin contentAccess.urls does not allow/],
      [{ html: { href: `${cdn.origin}/to-outside` } }, access, /html\.href "http:.*\/to-outside": redirected to http:\/\/127\.0\.0\.1:\d+\/secret, an origin contentAccess.urls does not allow/],
      [{ attachments: [{ href: `${cdn.origin}/nothing` }] }, access, /the server answered 404/],
      [{ attachments: [{ href: `${cdn.origin}/slow` }] }, { ...access, timeoutMs: 300 }, /attachments\[0\]\.href .*: no answer within 300 ms \(contentAccess.timeoutMs\)/],
      [{ attachments: [{ href: `${cdn.origin}/half.bin` }, { href: `${cdn.origin}/half.bin?2` }] }, { ...access, maxBytes: MB }, /attachments\[1\]\.href: more than the 1048576 bytes contentAccess.maxBytes/],
      [{ attachments: [{ href: `${cdn.origin}/declared-huge` }] }, access, /attachments\[0\]\.href: over the 20971520-byte attachment limit/],
      [{ attachments: [{ href: 'file:///etc/passwd' }] }, access, /attachments\[0\]\.href "file:\/\/\/etc\/passwd": an origin contentAccess.urls does not allow/],
    ];
    for (const [patch, policy, message] of refused) {
      for (const [entry, send] of Object.entries(entries)) {
        const error = await send({ ...base, ...patch }, policy).then(() => undefined, (e: Error) => e);
        expect(error, `${entry} ${message}`).toBeInstanceOf(InvalidMessageError);
        expect(error!.message, entry).toMatch(message);
      }
    }
    expect(outside.hits.length - hitsBefore).toBe(0);
    expect(await rows()).toHaveLength(count);
  });

  it('cuts an oversized download off at the limit instead of reading it whole', { timeout: 60_000 }, async () => {
    const error = await enqueueMail(
      fx.database,
      { ...base, attachments: [{ filename: 'huge.bin', href: `${cdn.origin}/huge` }] },
      { contentAccess: { urls: [cdn.origin] }, limits: { maxAttachmentSize: 2 * MB } },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toMatch(/attachments\[0\]\.href: over the 2097152-byte attachment limit/);
    // The server wrote what the limit let through plus what the sockets buffer, not 60 MB.
    const written = await cdn.hugeWritten;
    expect(written).toBeLessThan(15 * MB);
    expect(await rows()).toHaveLength(0);
  });

  it("counts an app's stream against the limit too, stopping as soon as it passes", async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 3));
      },
    });
    const error = await enqueueMail(fx.database, { ...base, attachments: [{ filename: 'endless.bin', content: endless }] }, { limits: { maxAttachmentSize: MB } }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toMatch(/attachments\[0\]\.content: over the 1048576-byte attachment limit/);
    expect(pulled).toBeLessThan(2 * MB);
    expect(await rows()).toHaveLength(0);
  });
});

describe('content access policy', () => {
  it('is checked when the transport is created', () => {
    expect(() => createQueueTransport({ contentAccess: { files: ['assets'] } })).toThrow(ConfigError);
    expect(() => createQueueTransport({ contentAccess: { files: ['assets'] } })).toThrow(/not an absolute path/);
    expect(() => createQueueTransport({ contentAccess: { urls: ['https://cdn.example.com/images'] } })).toThrow(/not an origin/);
    expect(() => createQueueTransport({ contentAccess: { urls: ['ftp://cdn.example.com'] } })).toThrow(/not an origin/);
    expect(() => createQueueTransport({ contentAccess: { maxBytes: -1 } })).toThrow(/maxBytes must be a positive whole number/);
  });
});
