import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createSmtpTransport, parseSmtpUrl, verifySmtp } from '../src/drain/smtp.js';
import { ConfigError, SmtpConnectionError } from '../src/errors.js';
import { backends } from './helpers/databases.js';
import { mailroom } from './helpers/cli.js';

const USER = 'mailer';
const PASSWORD = 'p@ss w%rd/ü';
const CREDENTIALS = `${USER}:${encodeURIComponent(PASSWORD)}`;

/** Every form the password can take on the wire: as is, and inside any base64 token (AUTH PLAIN, AUTH LOGIN). */
function passwordSeenIn(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  if (bytes.includes(Buffer.from(PASSWORD)) || text.includes(encodeURIComponent(PASSWORD))) return true;
  return (text.match(/[A-Za-z0-9+/=]{4,}/g) ?? []).some((token) => Buffer.from(token, 'base64').includes(Buffer.from(PASSWORD)));
}

/** A TCP relay in front of the server that keeps every byte the client sent: what the server (or anyone on the path) saw. */
async function recordingRelay(port: number): Promise<{ port: number; seen(): Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    seen: () => Buffer.concat(chunks),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Logins {
  port: number;
  logins: { password: string; secure: boolean }[];
  delivered: number;
  close(): Promise<void>;
}

/** A real smtp-server that accepts any login, also in the clear (as a careless or hostile server would). */
async function startServer(tls: { key: Buffer; cert: Buffer } | null): Promise<Logins> {
  const state = { logins: [] as Logins['logins'], delivered: 0 };
  const server = new SMTPServer({
    logger: false,
    closeTimeout: 100,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    ...(tls ? { key: tls.key, cert: tls.cert } : { disabledCommands: ['STARTTLS'] }),
    onAuth(auth, session, callback) {
      state.logins.push({ password: auth.password ?? '', secure: session.secure });
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        state.delivered++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const relay = await recordingRelay((server.server.address() as { port: number }).port);
  return Object.assign(state, {
    port: relay.port,
    seen: relay.seen,
    close: async () => {
      await relay.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let dir: string;
let cert: { key: Buffer; cert: Buffer };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const message = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x' };

async function connectWith(url: string): Promise<{ error?: Error; sent: boolean }> {
  const transport = createSmtpTransport(url);
  try {
    await verifySmtp(transport, url);
    await transport.sendMail(message);
    return { sent: true };
  } catch (error) {
    // The drain's own path too: a send without verify must not leak the password either.
    await transport.sendMail(message).catch(() => {});
    return { error: error as Error, sent: false };
  } finally {
    transport.close();
  }
}

describe('SMTP credentials never go out in the clear', () => {
  describe('a server that does not offer STARTTLS', () => {
    let server: Logins & { seen(): Buffer };
    beforeAll(async () => {
      server = (await startServer(null)) as typeof server;
    });
    afterAll(() => server.close());

    it('smtp://user:pass@ refuses to log in, says why and how to allow it; the password never reached the wire', async () => {
      const { error, sent } = await connectWith(`smtp://${CREDENTIALS}@127.0.0.1:${server.port}`);
      expect(sent).toBe(false);
      expect(error).toBeInstanceOf(SmtpConnectionError);
      expect(error!.message).toMatch(/requires STARTTLS/);
      expect(error!.message).toContain('?insecure_auth=true');
      expect(error!.message).not.toContain(PASSWORD);
      expect(server.logins).toEqual([]);
      expect(server.delivered).toBe(0);
      expect(server.seen().toString('latin1')).toContain('STARTTLS'); // it asked, and stopped when refused
      expect(passwordSeenIn(server.seen())).toBe(false);
    });

    it.each(['insecure_auth=true', 'tls=false'])('?%s is the explicit way to send the password unencrypted', async (parameter) => {
      const before = server.logins.length;
      const { sent, error } = await connectWith(`smtp://${CREDENTIALS}@127.0.0.1:${server.port}?${parameter}`);
      expect(error).toBeUndefined();
      expect(sent).toBe(true);
      expect(server.logins.slice(before)[0]).toEqual({ password: PASSWORD, secure: false });
      expect(passwordSeenIn(server.seen())).toBe(true); // the detector sees a password in the clear
    });

    it('the CLI prints the refusal as one line, exit 1', async (context) => {
      const [backend] = (await backends()).filter((b) => b.name === 'postgres');
      if (!backend) return context.skip();
      const db = await backend.create();
      try {
        const result = await mailroom(['send', '--smtp', `smtp://${CREDENTIALS}@127.0.0.1:${server.port}`], { DATABASE_URL: db.url });
        expect(result.code).toBe(1);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toContain('?insecure_auth=true');
        expect(result.stderr).not.toContain('w%rd');
      } finally {
        await db.drop();
      }
    });
  });

  describe('a server that offers STARTTLS (self-signed certificate)', () => {
    let server: Logins & { seen(): Buffer };
    beforeAll(async () => {
      server = (await startServer(cert)) as typeof server;
    });
    afterAll(() => server.close());

    it('logs in over TLS and sends; the password is only ever inside TLS', async () => {
      const { sent, error } = await connectWith(`smtp://${CREDENTIALS}@127.0.0.1:${server.port}?insecure=true`);
      expect(error).toBeUndefined();
      expect(sent).toBe(true);
      expect(server.logins.length).toBeGreaterThan(0);
      expect(server.logins.every((login) => login.password === PASSWORD && login.secure)).toBe(true);
      expect(server.delivered).toBe(1);
      expect(passwordSeenIn(server.seen())).toBe(false);
    });

    it('checks the certificate unless the URL says ?insecure=true', async () => {
      const before = server.logins.length;
      const { error } = await connectWith(`smtp://${CREDENTIALS}@127.0.0.1:${server.port}`);
      expect(error).toBeInstanceOf(SmtpConnectionError);
      expect(error!.message).toMatch(/certificate/i);
      expect(server.logins.length).toBe(before);
      expect(passwordSeenIn(server.seen())).toBe(false);
    });
  });

  it('reads the URL: TLS required with credentials on smtp://, never lowered by accident', () => {
    expect(parseSmtpUrl(`smtp://${CREDENTIALS}@h`).requireTLS).toBe(true);
    expect(parseSmtpUrl('smtp://user@h').requireTLS).toBe(true);
    expect(parseSmtpUrl(`smtp://${CREDENTIALS}@h?insecure=true`).requireTLS).toBe(true);
    expect(parseSmtpUrl(`smtps://${CREDENTIALS}@h`)).toMatchObject({ secure: true, port: 465 });
    expect(parseSmtpUrl('smtp://h').requireTLS).toBeUndefined();
    expect(parseSmtpUrl(`smtp://${CREDENTIALS}@h?insecure_auth=true`).requireTLS).toBeUndefined();
    expect(parseSmtpUrl(`smtp://${CREDENTIALS}@h?tls=false`)).toMatchObject({ ignoreTLS: true });
    expect(parseSmtpUrl(`smtp://${CREDENTIALS}@h`).auth).toEqual({ user: USER, pass: PASSWORD });
    for (const typo of ['insecure_auth=yes', 'tls=0', 'insecure_auth=']) {
      expect(() => parseSmtpUrl(`smtp://${CREDENTIALS}@h?${typo}`)).toThrow(ConfigError);
    }
  });
});
