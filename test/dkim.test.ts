import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { asc } from 'drizzle-orm';
import { createQueueTransport, ConfigError, openDatabase } from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { fromDomain, keyForDomain, loadDkimKeys, parseDkimSpec } from '../src/drain/dkim.js';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { dkimKeyPair, dkimVerifierAvailable, verifyDkim } from './helpers/dkim-verify.js';
import { closedPort } from './helpers/closed-port.js';

/**
 * DKIM signing at send time, checked by an independent verifier (Debian's python3-dkim)
 * over the exact bytes the receiving SMTP server got, with DNS replaced by the records
 * the test publishes.
 */

const ALL = await backends();
const VERIFIER = dkimVerifierAvailable();
if (!VERIFIER) {
  if (process.env.CI) throw new Error('python3-dkim is not installed for /usr/bin/python3: CI needs it (see .ci/run).');
  console.warn('[mailroom tests] python3-dkim missing (apt-get install python3-dkim): SKIPPING the DKIM verification tests.');
}

const dir = mkdtempSync(join(tmpdir(), 'mailroom-dkim-'));
const example = dkimKeyPair();
const other = dkimKeyPair();
const exampleKeyFile = join(dir, 'example.com.pem');
writeFileSync(exampleKeyFile, example.privateKey, { mode: 0o600 });
const RECORDS = { 'mail2026._domainkey.example.com': example.record, 's1._domainkey.other.org': other.record };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DKIM keys', () => {
  it('parses DOMAIN:SELECTOR:KEY, a file or env:VARIABLE, and names what is wrong', () => {
    expect(parseDkimSpec('Example.COM.:Mail2026:/etc/k.pem')).toEqual({ domain: 'example.com', selector: 'mail2026', source: { file: '/etc/k.pem' } });
    expect(parseDkimSpec('bücher.de:s1:env:DKIM_KEY')).toEqual({ domain: 'xn--bcher-kva.de', selector: 's1', source: { env: 'DKIM_KEY' } });
    expect(() => parseDkimSpec('example.com')).toThrow(/DOMAIN:SELECTOR:KEYFILE/);
    expect(() => parseDkimSpec('not a domain:s:/k')).toThrow(/is not a domain name/);
    expect(() => parseDkimSpec('example.com:bad_selector:/k')).toThrow(/selector "bad_selector"/);
    expect(() => parseDkimSpec('example.com:s:env:1X')).toThrow(/not an environment variable name/);
  });

  it('reads keys from files and the environment; refuses unreadable, non-RSA, short and duplicate keys without printing them', () => {
    const keys = loadDkimKeys([`example.com:mail2026:${exampleKeyFile}`, 'other.org:s1:env:OTHER'], { OTHER: other.privateKey.replace(/\n/g, '\\n') });
    expect(keys.map((k) => [k.domain, k.selector])).toEqual([['example.com', 'mail2026'], ['other.org', 's1']]);
    expect(String(keys[1]!.privateKey)).toBe(other.privateKey); // `\n` escapes, as secret stores write them, become newlines

    expect(() => loadDkimKeys([`example.com:s:${join(dir, 'missing.pem')}`])).toThrow(/cannot read .*missing\.pem \(ENOENT\)/);
    expect(() => loadDkimKeys(['example.com:s:env:NOPE'], {})).toThrow(/NOPE is empty or unset/);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'SECRET-CONTENT-42');
    const notPem = (() => {
      try {
        loadDkimKeys([`example.com:s:${garbage}`]);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(notPem).toBeInstanceOf(ConfigError);
    expect(notPem!.message).toMatch(/is not a PEM private key/);
    expect(notPem!.message).not.toContain('SECRET-CONTENT-42');
    const ec = join(dir, 'ec.pem');
    writeFileSync(ec, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadDkimKeys([`example.com:s:${ec}`])).toThrow(/is ec: nodemailer signs rsa-sha256 only/);
    const short = join(dir, 'short.pem');
    writeFileSync(short, generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadDkimKeys([`example.com:s:${short}`])).toThrow(/512 bits/);
    expect(() => loadDkimKeys([`example.com:a:${exampleKeyFile}`, `EXAMPLE.com:b:${exampleKeyFile}`])).toThrow(/Two DKIM keys for example.com/);
  });

  it('picks the From domain’s key, else its closest parent’s; the From is read from raw headers, folded or not', () => {
    const keys = loadDkimKeys([`example.com:mail2026:${exampleKeyFile}`, `mail.example.com:m:${exampleKeyFile}`]);
    expect(keyForDomain(keys, 'Example.com')?.selector).toBe('mail2026');
    expect(keyForDomain(keys, 'news.example.com')?.selector).toBe('mail2026');
    expect(keyForDomain(keys, 'a.mail.example.com')?.selector).toBe('m');
    expect(keyForDomain(keys, 'badexample.com')).toBeUndefined();
    expect(keyForDomain(keys, 'com')).toBeUndefined();
    expect(fromDomain({ raw: Buffer.from('Subject: x\r\nfrom: "Ops, team"\r\n <ops@Example.COM>\r\nTo: a@b.c\r\n\r\nFrom: evil@other.org\r\n') })).toBe('Example.COM');
    expect(fromDomain({ raw: 'Subject: x\r\n\r\nbody' })).toBeUndefined();
    expect(fromDomain({ from: 'Team <team@example.com>' })).toBe('example.com');
    expect(fromDomain({ from: { name: 'T', address: 't@other.org' } })).toBe('other.org');
  });
});

describe.skipIf(!VERIFIER).each(ALL)('DKIM signing on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  it('`mailroom send --dkim` signs each message with its From domain’s key; dkimpy verifies the bytes the server got', async () => {
    const db = await backend.create();
    try {
      smtp.received.length = 0;
      const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
      const subjects = ['plain', 'parent', 'other', 'unsigned', 'raw'];
      await queue.sendMail({
        from: 'Équipe Núria <team@example.com>',
        to: 'ana@rcpt.test',
        subject: `plain: Ünïcödé ✓ and a subject long enough that it is folded over more than one header line, 日本語 ${'x'.repeat(40)}`,
        text: 'Hola Núria,\r\n\r\nline with trailing spaces   \r\n.leading dot\r\n\r\n\r\n',
        html: '<p>Hola <b>Núria</b> ✓</p>',
        attachments: [{ filename: 'факт.bin', content: Buffer.from([0, 1, 2, 255, 13, 10, 46, 13, 10]) }],
      });
      await queue.sendMail({ from: 'news@news.example.com', to: 'bo@rcpt.test', subject: 'parent', text: 'signed by the parent domain' });
      await queue.sendMail({ from: 'Billing <billing@other.org>', to: 'cy@rcpt.test', cc: 'dee@rcpt.test', subject: 'other', text: 'key from the environment' });
      await queue.sendMail({ from: 'x@unsigned.net', to: 'ed@rcpt.test', subject: 'unsigned', text: 'no key for this domain' });
      await queue.sendMail({
        envelope: { from: 'bounce@example.com', to: ['fi@rcpt.test'] },
        raw: 'FROM: "Ops, team"\r\n <ops@Example.COM>\r\nTo: fi@rcpt.test\r\nSubject: raw\r\nMessage-ID: <raw-dkim@example.com>\r\n\r\nraw body\r\n\r\n',
      });
      await db.database.close(); // the embedded database is one process at a time

      const result = await mailroom(
        ['send', '--database', db.url, '--smtp', smtp.url, '--dkim', `example.com:mail2026:${exampleKeyFile}`, '--dkim', 'other.org:s1:env:DKIM_OTHER'],
        { DKIM_OTHER: other.privateKey },
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('sent 5, deferred 0, failed 0');
      expect(result.stdout + result.stderr).not.toContain('PRIVATE KEY');

      const bySubject = (s: string) => smtp.received.find((m) => m.parsed.subject?.startsWith(s))!;
      const received = subjects.map(bySubject);
      const checks = verifyDkim(received.map((m) => m.raw), RECORDS);
      expect(checks.map((c) => c.map(({ ok, d, s }) => ({ ok, d, s })))).toEqual([
        [{ ok: true, d: 'example.com', s: 'mail2026' }],
        [{ ok: true, d: 'example.com', s: 'mail2026' }],
        [{ ok: true, d: 'other.org', s: 's1' }],
        [],
        [{ ok: true, d: 'example.com', s: 'mail2026' }],
      ]);
      expect(checks[0]![0]!.h.toLowerCase().split(':')).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'date', 'message-id', 'content-type']));

      // The verifier really checks: one changed byte in the body, or a signed header, fails it.
      const tampered = Buffer.from(received[0]!.raw);
      tampered[tampered.indexOf('Hola N')] = 'h'.charCodeAt(0);
      const renamed = Buffer.from(received[1]!.raw.toString('latin1').replace('Subject: parent', 'Subject: parenT'), 'latin1');
      expect(verifyDkim([tampered, renamed], RECORDS).map((c) => c.map((s) => s.ok))).toEqual([[false], [false]]);

      // What went out is the stored message with the signature put in front: the queue keeps the unsigned bytes.
      const reopened = await openDatabase(db.url);
      try {
        const rows = await reopened.db.select({ subject: messages.subject, raw: messages.raw }).from(messages).orderBy(asc(messages.id));
        for (const [i, row] of rows.entries()) {
          expect(row.raw.includes('DKIM-Signature')).toBe(false);
          const got = received[i]!.raw;
          expect(got.subarray(got.length - row.raw.length).equals(row.raw)).toBe(true);
        }
      } finally {
        await reopened.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('MAILROOM_DKIM and the library (createSmtpTransport({ dkim })) sign the same way; a bad key stops the run before anything is claimed', async () => {
    const db = await backend.create();
    try {
      smtp.received.length = 0;
      const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
      await queue.sendMail({ from: 'a@other.org', to: 'x@rcpt.test', subject: 'lib', text: 'from code' });
      const transport = createSmtpTransport(smtp.url, { dkim: loadDkimKeys(['other.org:s1:env:K'], { K: other.privateKey }) });
      expect(await drain(db.database.db, { smtp: transport })).toMatchObject({ sent: 1 });
      transport.close();

      await queue.sendMail({ from: 'b@example.com', to: 'y@rcpt.test', subject: 'env', text: 'from the environment' });
      await db.database.close();
      const env = { DATABASE_URL: db.url, SMTP_URL: smtp.url };
      const missing = await mailroom(['send'], { ...env, MAILROOM_DKIM: `example.com:mail2026:${join(dir, 'gone.pem')}` });
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
      expect(missing.stderr).toMatch(/DKIM key for example.com: cannot read .*gone\.pem \(ENOENT\)/);
      const usage = await mailroom(['send', '--dkim', 'example.com'], env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/DOMAIN:SELECTOR:KEYFILE/);
      expect(JSON.parse((await mailroom(['status', '--json'], env)).stdout)).toMatchObject({ queued: 1, sent: 1 });

      const ok = await mailroom(['send'], { ...env, MAILROOM_DKIM: `example.com:mail2026:${exampleKeyFile}, other.org:s1:env:K`, K: other.privateKey });
      expect(ok.stdout).toContain('sent 1, deferred 0, failed 0');
      const checks = verifyDkim(
        ['lib', 'env'].map((s) => smtp.received.find((m) => m.parsed.subject === s)!.raw),
        RECORDS,
      );
      expect(checks.map((c) => c.map(({ ok: valid, d }) => ({ valid, d })))).toEqual([[{ valid: true, d: 'other.org' }], [{ valid: true, d: 'example.com' }]]);
    } finally {
      await db.drop();
    }
  });
  it('`now` messages fail over across the queue transport’s SMTP list and are signed with its dkim keys, as the drain’s', async () => {
    const db = await backend.create();
    const down = await closedPort();
    try {
      smtp.received.length = 0;
      const queue = nodemailer.createTransport(
        createQueueTransport({
          database: db.database,
          smtp: `smtp://127.0.0.1:${down}?tls=false,${smtp.url}`,
          dkim: loadDkimKeys([`example.com:mail2026:${exampleKeyFile}`]),
        }),
      );
      const info = await queue.sendMail({ from: 'team@example.com', to: 'now@rcpt.test', subject: 'now, signed', text: 'at once', queuePriority: 'now' } as never);
      expect(info).toMatchObject({ state: 'sent', accepted: ['now@rcpt.test'] });
      const got = smtp.received.find((m) => m.parsed.subject === 'now, signed')!;
      expect(verifyDkim([got.raw], RECORDS).map((c) => c.map(({ ok, d }) => ({ ok, d })))).toEqual([[{ ok: true, d: 'example.com' }]]);
      queue.close();
    } finally {
      await db.drop();
    }
  });
});

describe('DKIM and routes in the config file', () => {
  it('drain.dkim is a list of specs, shown by `mailroom config` (paths, never keys); drain.routes with their passwords hidden', async () => {
    const project = mkdtempSync(join(tmpdir(), 'mailroom-dkim-config-'));
    try {
      writeFileSync(
        join(project, 'mailroom.config.mjs'),
        `export default { drain: { dkim: ['example.com:mail2026:${exampleKeyFile}', 'other.org:s1:env:K'], routes: ['example.com=smtp://u:R0UTE-SECRET@a.relay:587,smtp://u:R0UTE-SECRET@b.relay:587', 'other.org=smtp://c.relay:25'] } };\n`,
      );
      const shown = await mailroom(['config', '--json'], {}, project);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout).settings['drain.dkim']).toEqual({ value: [`example.com:mail2026:${exampleKeyFile}`, 'other.org:s1:env:K'], from: expect.stringMatching(/^config file /) });
      const routes = JSON.parse(shown.stdout).settings['drain.routes'].value as string[];
      expect(routes).toHaveLength(1); // the file's list arrives joined, as the flag's parser reads it
      expect(routes[0]).toMatch(/^example\.com=smtp:\/\/u:\*\*\*@a\.relay:587,.*\*\*\*@b\.relay:587,other\.org=smtp:\/\/c\.relay:25$/);
      const text = await mailroom(['config'], {}, project);
      expect(text.stdout).toContain('drain.routes');
      expect(shown.stdout + text.stdout).not.toContain('R0UTE-SECRET');
      writeFileSync(join(project, 'mailroom.config.mjs'), `export default { drain: { dkim: ['example.com'] } };\n`);
      const bad = await mailroom(['config'], {}, project);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/"drain.dkim".*DOMAIN:SELECTOR:KEYFILE/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
