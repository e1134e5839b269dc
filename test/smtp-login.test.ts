import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createQueueTransport, SmtpConnectionError } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain, parseSmtpUrl, verifySmtp } from 'mailroom/drain';
import { backends } from './helpers/databases.js';
import { startTlsSmtp, type TlsSmtp } from './helpers/tls-smtp.js';

/**
 * What every production user runs: STARTTLS and implicit TLS against a real SMTP
 * server, a login accepted or refused, certificates checked unless the URL says not to.
 */

const ALL = await backends();
const USER = { username: 'mailer', password: 's3cret' };
/** Every character a URL reserves, a space, and non-ASCII: they must arrive exactly. */
const HARD_USER = { username: 'ops@example.com:relay/1 ü', password: 'p@ss:w/rd 100% ½ 日本 #?&=+' };

const url = (scheme: 'smtp' | 'smtps', server: TlsSmtp, user?: { username: string; password: string }, query = '') =>
  `${scheme}://${user ? `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@` : ''}127.0.0.1:${server.port}${query}`;

async function verify(smtpUrl: string): Promise<void> {
  const transport = createSmtpTransport(smtpUrl, { socketTimeout: 20_000 });
  try {
    await verifySmtp(transport, smtpUrl);
  } finally {
    transport.close();
  }
}

async function verifyError(smtpUrl: string): Promise<SmtpConnectionError> {
  const error = await verify(smtpUrl).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmtpConnectionError);
  return error as SmtpConnectionError;
}

describe('SMTP URL', () => {
  it('defaults the port by scheme: smtp 587 with STARTTLS when offered, smtps 465 with TLS from the start', () => {
    expect(parseSmtpUrl('smtp://mail.example.com')).toMatchObject({ host: 'mail.example.com', port: 587, secure: false });
    expect(parseSmtpUrl('smtps://mail.example.com')).toMatchObject({ host: 'mail.example.com', port: 465, secure: true });
    expect(parseSmtpUrl('smtp://mail.example.com:2525')).toMatchObject({ port: 2525, secure: false });
    expect(parseSmtpUrl('smtps://mail.example.com:4650')).toMatchObject({ port: 4650, secure: true });
    expect(parseSmtpUrl('smtp://[::1]:25')).toMatchObject({ host: '::1', port: 25 });
    // Without the opt-outs, STARTTLS is not skipped and certificates are checked.
    const strict = parseSmtpUrl('smtp://u:p@mail.example.com');
    expect(strict.ignoreTLS).toBeFalsy();
    expect(strict.tls?.rejectUnauthorized).not.toBe(false);
  });

  it('decodes user and password exactly: %40 %3A %2F %20 and unicode', () => {
    expect(parseSmtpUrl('smtp://us%40er%3Ax%2Fy%20z:p%40ss%3Aw%2Frd%20%C3%BC%25@h').auth).toEqual({ user: 'us@er:x/y z', pass: 'p@ss:w/rd ü%' });
    expect(parseSmtpUrl(`smtp://${encodeURIComponent(HARD_USER.username)}:${encodeURIComponent(HARD_USER.password)}@h`).auth).toEqual({
      user: HARD_USER.username,
      pass: HARD_USER.password,
    });
    expect(parseSmtpUrl('smtp://h').auth).toBeUndefined();
  });
});

describe.each([
  { mode: 'starttls', scheme: 'smtp' },
  { mode: 'implicit', scheme: 'smtps' },
] as const)('$mode ($scheme://) with a login', ({ mode, scheme }) => {
  let server: TlsSmtp;
  beforeAll(async () => {
    server = await startTlsSmtp({ mode, user: USER });
  });
  afterAll(() => server.close());

  it('refuses the self-signed certificate unless the URL allows it', async () => {
    const before = server.logins.length;
    const error = await verifyError(url(scheme, server, USER));
    expect(error.message).toMatch(/self[- ]signed certificate/i);
    expect(error.message).not.toContain(USER.password);
    expect(server.logins.length).toBe(before); // no credentials went to a server we could not trust
    await verify(url(scheme, server, USER, '?insecure=true'));
    expect(server.logins.at(-1)).toEqual({ ...USER, secure: true, accepted: true });
  });

  it('a refused login is an SmtpConnectionError naming the reply, password hidden', async () => {
    const error = await verifyError(url(scheme, server, { username: USER.username, password: 'wrong-hunter2' }, '?insecure=true'));
    expect(error.message).toMatch(/Cannot connect to SMTP server .*535/);
    expect(error.message).not.toContain('wrong-hunter2');
    expect(server.logins.at(-1)).toMatchObject({ username: USER.username, password: 'wrong-hunter2', secure: true, accepted: false });
  });
});

describe('a server with a hard user name and password', () => {
  let server: TlsSmtp;
  beforeAll(async () => {
    server = await startTlsSmtp({ mode: 'starttls', user: HARD_USER });
  });
  afterAll(() => server.close());

  it('receives them exactly as written, over TLS', async () => {
    await verify(url('smtp', server, HARD_USER, '?insecure=true'));
    expect(server.logins.at(-1)).toEqual({ ...HARD_USER, secure: true, accepted: true });
  });
});

describe.each(ALL)('drain over TLS on $name', (backend) => {
  let starttls: TlsSmtp;
  let implicit: TlsSmtp;
  beforeAll(async () => {
    starttls = await startTlsSmtp({ mode: 'starttls', user: USER });
    implicit = await startTlsSmtp({ mode: 'implicit', user: USER });
  });
  afterAll(async () => {
    await starttls.close();
    await implicit.close();
  });

  /** Queues `count` messages on a fresh database, drains them through `smtpUrl`, returns the rows. */
  async function queueAndDrain(smtpUrl: string, count = 2) {
    const db = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
      for (let i = 0; i < count; i++) await queue.sendMail({ from: 'a@example.com', to: `r${i}@example.com`, subject: `tls ${i} ✓`, text: 'über' });
      const smtp = createSmtpTransport(smtpUrl, { concurrency: 2, socketTimeout: 20_000 });
      try {
        const result = await drain(db.database.db, { smtp, concurrency: 2 });
        return { result, rows: await db.database.db.select().from(messages).orderBy(messages.id) };
      } finally {
        smtp.close();
      }
    } finally {
      await db.drop();
    }
  }

  it('STARTTLS: upgrades, logs in, delivers', async () => {
    const before = starttls.received.length;
    const { result } = await queueAndDrain(url('smtp', starttls, USER, '?insecure=true'));
    expect(result).toMatchObject({ sent: 2, deferred: 0, failed: 0 });
    const got = starttls.received.slice(before);
    expect(got.map((r) => [r.secure, r.user])).toEqual([
      [true, USER.username],
      [true, USER.username],
    ]);
    expect(got.map((r) => r.parsed.subject).sort()).toEqual(['tls 0 ✓', 'tls 1 ✓']);
  });

  it('smtps: TLS from the first byte, logs in, delivers', async () => {
    const before = implicit.received.length;
    const { result } = await queueAndDrain(url('smtps', implicit, USER, '?insecure=true'));
    expect(result).toMatchObject({ sent: 2, deferred: 0, failed: 0 });
    expect(implicit.received.slice(before).map((r) => [r.secure, r.user])).toEqual([
      [true, USER.username],
      [true, USER.username],
    ]);
  });

  it('a refused login defers the messages with the reply: a fixed password must not fail the queue', async () => {
    const { result, rows } = await queueAndDrain(url('smtp', starttls, { username: USER.username, password: 'nope' }, '?insecure=true'));
    expect(result).toMatchObject({ sent: 0, deferred: 2, failed: 0 });
    for (const row of rows) {
      expect(row.state).toBe('deferred');
      expect(row.lastError).toMatch(/535/);
    }
  });

  it('an untrusted certificate defers the messages, nothing is sent', async () => {
    const before = starttls.received.length;
    const { result, rows } = await queueAndDrain(url('smtp', starttls, USER), 1);
    expect(result).toMatchObject({ sent: 0, deferred: 1, failed: 0 });
    expect(rows[0]!.lastError).toMatch(/certificate/i);
    expect(starttls.received.length).toBe(before);
  });

  it('?tls=false is the explicit opt-out: plain text, even where STARTTLS is offered', async () => {
    const before = starttls.received.length;
    const { result } = await queueAndDrain(url('smtp', starttls, USER, '?tls=false'), 1);
    expect(result).toMatchObject({ sent: 1 });
    expect(starttls.received.slice(before).map((r) => [r.secure, r.user])).toEqual([[false, USER.username]]);
  });
});
