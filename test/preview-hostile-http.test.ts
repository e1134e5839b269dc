import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import { enqueueMail } from 'mailroom';
import { startPreviewServer, type PreviewServer } from '../src/preview/server.js';
import { backends } from './helpers/databases.js';

const ALL = await backends();

/** Sends `request` over a raw socket (as no browser would) and resolves with the status line and the whole answer. */
function rawRequest(port: number, request: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1] ?? 0), text }));
    socket.write(request);
  });
}

describe.each(ALL)('hostile HTTP to the preview on $name', (backend) => {
  let created: Awaited<ReturnType<typeof backend.create>>;
  let server: PreviewServer;
  /** What the server wrote to the process's real stderr while a request ran. */
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  beforeAll(async () => {
    created = await backend.create();
    await enqueueMail(created.database.db, { from: 'a@example.com', to: 'b@example.com', subject: 'Findable', text: 'x' });
    server = await startPreviewServer({ database: created.database, port: 0 });
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
  }, 180_000);
  afterAll(async () => {
    process.stderr.write = write;
    await server?.close();
    await created?.drop();
  });
  const get = (path: string) => rawRequest(server.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);

  it('a search holding a NUL or escape sequences is searched for, not a 500', async () => {
    for (const q of ['%00', 'Find%00able', '%1b[2J%1b]0;pwned%07', '%00%1b[2J']) {
      const { status } = await get(`/outbox?q=${q}`);
      expect(status, q).toBe(200);
    }
    expect((await get('/outbox?q=Find%00able')).text).toContain('Findable');
  });

  it('oversized headers, bodies and malformed paths get a 4xx, never a 500 or a hang', async () => {
    const host = `Host: 127.0.0.1:${server.port}\r\nConnection: close\r\n`;
    expect((await rawRequest(server.port, `GET /outbox HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(100_000)}\r\n\r\n`)).status).toBe(431);
    const big = await rawRequest(server.port, `POST /outbox/1/delete HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n${'a'.repeat(100_000)}`);
    expect([403, 413]).toContain(big.status);
    for (const path of ['/outbox/1%2f..', '/outbox/%00', '/outbox/99999999999999999999', '/%ff%fe', '/outbox/1/attachments/-1', '/templates/..%2f..%2fetc%2fpasswd', `/templates/${'a'.repeat(10_000)}`]) {
      const { status } = await get(path);
      expect(status, path).toBeGreaterThanOrEqual(400);
      expect(status, path).toBeLessThan(500);
    }
  });

  it('an unexpected error is logged without the terminal escapes a request carried', async () => {
    // Last here: a column gone, the list's query fails, and the failed query's text quotes the search.
    await created.database.db.execute(sql`alter table mailroom_messages drop column last_error cascade`);
    stderr = '';
    const { status } = await get(`/outbox?q=${encodeURIComponent('\x1b]0;pwned\x07\x1b[2Jwiped')}`);
    expect(status).toBe(500);
    expect(stderr).toContain('mailroom preview:');
    expect(stderr).toContain('wiped'); // the search is in the log, made plain
    expect(stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });
});
