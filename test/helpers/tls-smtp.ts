import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Certificate {
  key: Buffer;
  cert: Buffer;
}

let made: Certificate | undefined;

/**
 * A self-signed certificate for 127.0.0.1/localhost, made once per test process with the
 * `openssl` CLI in a temp dir (`.ci/run` installs openssl). No CA trusts it: a client
 * that checks certificates must refuse it.
 */
export function selfSignedCertificate(): Certificate {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    made = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Login {
  username: string;
  password: string;
  /** Whether the session was already encrypted when the credentials were sent. */
  secure: boolean;
  accepted: boolean;
}

export interface TlsReceived {
  to: string[];
  /** The user the session logged in as, if any. */
  user: string | undefined;
  /** The session was encrypted when the message arrived. */
  secure: boolean;
  parsed: ParsedMail;
}

export interface TlsSmtp {
  port: number;
  /** Every login tried, in order, exactly as the server received it. */
  logins: Login[];
  received: TlsReceived[];
  close(): Promise<void>;
}

export interface TlsSmtpOptions {
  /** `implicit`: TLS from the first byte (smtps, 465); `starttls`: plain text upgraded by STARTTLS (587). */
  mode: 'implicit' | 'starttls';
  /** The one user and password accepted; without it, no login is asked for. */
  user?: { username: string; password: string };
}

/** A real smtp-server with a self-signed certificate, optionally requiring a login. */
export async function startTlsSmtp(options: TlsSmtpOptions): Promise<TlsSmtp> {
  const { key, cert } = selfSignedCertificate();
  const logins: Login[] = [];
  const received: TlsReceived[] = [];
  const server = new SMTPServer({
    secure: options.mode === 'implicit',
    key,
    cert,
    logger: false,
    authOptional: !options.user,
    // smtp-server refuses AUTH on a plain connection unless told otherwise; allowing it lets
    // a test see whether the client would send credentials in clear.
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, session, callback) {
      const accepted = !!options.user && auth.username === options.user.username && auth.password === options.user.password;
      logins.push({ username: auth.username ?? '', password: auth.password ?? '', secure: session.secure, accepted });
      if (!accepted) return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          parsed: await simpleParser(Buffer.concat(chunks)),
        });
        callback();
      });
    },
  });
  server.on('error', () => {}); // a client refusing our certificate resets the socket
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    logins,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
