import { afterEach, describe, expect, it } from 'vitest';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { sql } from 'drizzle-orm';
import {
  createQueueTransport, DatabaseError, enqueueMail, enqueueMailMany, enqueueMany, InvalidMessageError, TablesMissingError, type QueuedInfo,
} from 'mailroom';
import { messages } from 'mailroom/schema';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { composeMail } from '../src/transport/compose.js';
import { backends, pg } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();
// The message body: no error may repeat it, nor the subject or the addresses.
const BODY = 'reset token 7f3a9c-SECRET-body-b81e';
const base = { from: 'Team <team@example.com>', to: 'Núria <nuria@example.com>', subject: 'Your reset link', text: BODY, html: `<p>${BODY}</p>` };

/** A seeded generator, so every run tries the same many inputs. */
function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
}

// C0 controls except tab and CR/LF (refused on their own), and DEL.
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => !'\t\r\n'.includes(c)), '\x7f'];
// Characters that make a parser split or drop part of an address: no-break and other spaces, invisible ones.
const INVISIBLE = ['\u00a0', '\u2007', '\u202f', '\u3000', '\u2028', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad', ' ', '\t'];

/** Bad inputs of every kind the queue must refuse, each named by where the bad part sits. */
function badInputs(): [string, SendMailOptions & { sendAt?: unknown; idempotencyKey?: unknown }][] {
  const cases: [string, SendMailOptions & { sendAt?: unknown; idempotencyKey?: unknown }][] = [];
  const pick = random(11);
  const headerPlaces: [string, (bad: string) => SendMailOptions][] = [
    ['subject', (bad) => ({ subject: `Hello${bad}there` })],
    ['from name', (bad) => ({ from: { name: `Te${bad}am`, address: 'team@example.com' } })],
    ['to name', (bad) => ({ to: [{ name: `Nú${bad}ria`, address: 'nuria@example.com' }] })],
    ['to name in text', (bad) => ({ to: `"Nú${bad}ria" <nuria@example.com>` })],
    ['replyTo', (bad) => ({ replyTo: `help${bad}@example.com` })],
    ['header value', (bad) => ({ headers: { 'X-Campaign': `spring${bad}sale` } })],
    ['prepared header value', (bad) => ({ headers: { 'X-Campaign': { prepared: true, value: `spring${bad}sale` } } })],
    ['header in a list', (bad) => ({ headers: [{ key: 'X-Campaign', value: `spring${bad}` }] })],
    ['header name', (bad) => ({ headers: { [`X-Camp${bad}aign`]: 'spring' } })],
    ['messageId', (bad) => ({ messageId: `<abc${bad}@example.com>` })],
    ['inReplyTo', (bad) => ({ inReplyTo: `<abc${bad}@example.com>` })],
    ['references', (bad) => ({ references: ['<a@example.com>', `<b${bad}@example.com>`] })],
    ['attachment filename', (bad) => ({ attachments: [{ filename: `invoice${bad}.pdf`, content: 'x' }] })],
    ['attachment cid', (bad) => ({ attachments: [{ filename: 'a.png', cid: `logo${bad}`, content: 'x' }] })],
    ['attachment header', (bad) => ({ attachments: [{ filename: 'a.txt', content: 'x', headers: { 'X-Part': `p${bad}` } }] })],
    ['alternative content type', (bad) => ({ alternatives: [{ contentType: `text/x-web-markdown${bad}`, content: 'x' }] })],
    ['list header', (bad) => ({ list: { unsubscribe: `https://example.com/u${bad}` } })],
  ];
  for (const [place, make] of headerPlaces) {
    for (const bad of ['\0', '\r', '\n', '\r\nBcc: eve@example.com']) cases.push([`${place} with ${JSON.stringify(bad)}`, make(bad)]);
    for (let i = 0; i < 4; i++) {
      const bad = CONTROLS[pick(CONTROLS.length)]!;
      cases.push([`${place} with U+${bad.charCodeAt(0).toString(16)}`, make(bad)]);
    }
  }
  const addressPlaces: [string, (address: string) => SendMailOptions][] = [
    ['to', (a) => ({ to: a })],
    ['to in brackets', (a) => ({ to: `Núria <${a}>` })],
    ['to in a list', (a) => ({ to: ['ok@example.com', a] })],
    ['to among others', (a) => ({ to: `ok@example.com, ${a}` })],
    ['to object', (a) => ({ to: { name: 'Núria', address: a } })],
    ['cc', (a) => ({ cc: a })],
    ['bcc', (a) => ({ bcc: a })],
    ['from', (a) => ({ from: a })],
    ['sender', (a) => ({ sender: a })],
    ['replyTo', (a) => ({ replyTo: `Help <${a}>` })],
    ['envelope.to', (a) => ({ envelope: { from: 'team@example.com', to: [a] } })],
    ['envelope.from', (a) => ({ envelope: { from: a, to: ['nuria@example.com'] } })],
  ];
  for (const [place, make] of addressPlaces) {
    for (const bad of [...INVISIBLE, '\0', CONTROLS[pick(CONTROLS.length)]!]) {
      const at = pick(2);
      const address = at ? `john${bad}doe@example.com` : `johndoe@exam${bad}ple.com`;
      cases.push([`${place}: ${JSON.stringify(address)}`, make(address)]);
    }
  }
  for (const header of ['Bcc', 'bcc', 'BCC', 'To', 'Cc', 'From', 'Sender', 'Reply-To']) {
    cases.push([`"${header}" in headers`, { headers: { [header]: 'eve@example.com' } }]);
    cases.push([`"${header}" in a header list`, { headers: [{ key: header, value: 'eve@example.com' }] }]);
  }
  const sendAts: [string, unknown][] = [
    ['NaN', new Date(NaN)],
    ['year 10000', new Date(Date.UTC(10000, 0, 1))],
    ['year 275760', new Date(8.64e15)],
    ['before 1970', new Date(Date.UTC(1969, 11, 31))],
    ['year -5000', new Date(Date.UTC(-5000, 0, 1))],
    ['a string', '2030-01-01T00:00:00Z'],
    ['a number', Date.now() + 60_000],
    ['an object', { toISOString: () => "'); drop table mailroom_messages; --" }],
  ];
  for (const [name, sendAt] of sendAts) cases.push([`sendAt ${name}`, { sendAt }]);
  const keys: [string, unknown][] = [
    ['a number', 42],
    ['an object', { id: 1 }],
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['10,000 characters', 'k'.repeat(10_000)],
    ['with NUL', 'welcome:\0:42'],
    ['with LF', 'welcome:\n42'],
    ['with ESC', 'welcome:\x1b[31m42'],
  ];
  for (const [name, idempotencyKey] of keys) cases.push([`idempotencyKey ${name}`, { idempotencyKey }]);
  return cases;
}

/** Every message of an error and of its cause chain: what a logger would print. */
function printed(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e && parts.length < 10; e = (e as { cause?: unknown }).cause) parts.push(String((e as Error).message ?? e), String((e as Error).stack ?? ''));
  return parts.join('\n');
}

describe.each(ALL)('input safety on $name', (backend) => {
  const fx = perTest(backend);
  let queue: Transporter<QueuedInfo>;
  afterEach(() => queue?.close());
  const rows = () => fx.database.db.select().from(messages);
  const entries = () => ({
    transport: (mail: SendMailOptions) => queue.sendMail(mail),
    enqueueMail: (mail: SendMailOptions) => enqueueMail(fx.database, mail),
    enqueueMailMany: (mail: SendMailOptions) => enqueueMailMany(fx.database, [base, mail]),
  });

  it('refuses every bad input with an InvalidMessageError naming the field, never echoing the message, storing nothing', async () => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    const cases = badInputs();
    expect(cases.length).toBeGreaterThan(200);
    for (const [name, patch] of cases) {
      for (const [entry, send] of Object.entries(entries())) {
        const error = await send({ ...base, ...patch } as SendMailOptions).then(() => undefined, (e: unknown) => e);
        expect(error, `${entry}: ${name}`).toBeInstanceOf(InvalidMessageError);
        const text = printed(error);
        expect(text, `${entry}: ${name}`).not.toContain(BODY);
        expect((error as Error).message, `${entry}: ${name}`).not.toMatch(/[\0-\x08\x0a-\x1f\x7f]/); // one printable line
      }
    }
    expect(await rows()).toHaveLength(0);
  });

  it('still takes what is valid: Unicode names, emoji, IDN addresses, tabs in headers, dates in range', async () => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    const good: SendMailOptions & { sendAt?: Date; idempotencyKey?: string } = {
      ...base,
      from: 'Núria Puigdomènech\u00a0i Ça 👩‍💻 <team@example.com>', // a no-break space and a ZWJ in a name are text
      to: ['"Doe, John" <john@example.com>', 'usuário@exemplo.com.br', '用户@例子.广告', 'Team: a@example.com, b@example.com;', 'c@example.com (Carla)'],
      subject: 'Tabs\tare folding whitespace — 你好 😀',
      headers: { 'X-Campaign': 'spring\tsale' },
      sendAt: new Date(Date.UTC(2999, 0, 1)),
      idempotencyKey: `welcome:${'ü'.repeat(200)}`,
    };
    const info = await queue.sendMail(good);
    expect(info.envelope.to).toEqual(['john@example.com', 'usuário@exemplo.com.br', '用户@例子.广告', 'a@example.com', 'b@example.com', 'c@example.com']);
    const [row] = await rows();
    expect(row!.subject).toBe(good.subject);
    expect(row!.sendAt.getTime()).toBe(good.sendAt!.getTime());
    expect(row!.idempotencyKey).toBe(good.idempotencyKey);
  });

  it('refuses a Bcc given as a header, and keeps a raw message’s Bcc off the wire', async () => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    await expect(queue.sendMail({ ...base, headers: { Bcc: 'eve@example.com' } })).rejects.toThrow(/Header "Bcc" .* use the "bcc" option instead/);
    const raw = [
      'From: team@example.com',
      'To: nuria@example.com',
      'BCC: hidden@example.com,',
      '  folded-hidden@example.com',
      'Subject: raw with a bcc',
      'bcc:other-hidden@example.com',
      'X-Keep: a line mentioning Bcc: stays',
      '',
      'Bcc: in the body is text, not a header',
      '',
    ].join('\r\n');
    const info = await enqueueMail(fx.database, { raw, envelope: { from: 'team@example.com', to: ['nuria@example.com', 'hidden@example.com'] } });
    expect(info.envelope.to).toEqual(['nuria@example.com', 'hidden@example.com']); // the envelope, as given, decides
    const [row] = await rows();
    const stored = row!.raw.toString();
    expect(stored).toBe(raw.replace('BCC: hidden@example.com,\r\n  folded-hidden@example.com\r\n', '').replace('bcc:other-hidden@example.com\r\n', ''));
    const smtp = createSmtpTransport(fx.smtp.url, { concurrency: 1 });
    try {
      expect((await drain(fx.database.db, { smtp })).sent).toBe(1);
    } finally {
      smtp.close();
    }
    const [received] = fx.smtp.received;
    expect(received!.to.sort()).toEqual(['hidden@example.com', 'nuria@example.com']);
    const header = `${received!.raw.toString().split('\r\n\r\n')[0]}\r\n`;
    expect(header).toContain('\r\nX-Keep: a line mentioning Bcc: stays\r\n');
    expect(header).not.toMatch(/^bcc:/im);
    expect(header).not.toContain('hidden@example.com');
    expect(received!.parsed.text).toContain('Bcc: in the body is text, not a header');
  });

  it('missing tables are one line naming `mailroom migrate`, with nothing of the message', async () => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    await fx.database.db.execute(sql`drop table mailroom_attempts, mailroom_messages cascade`);
    const composed = await composeMail(base);
    const sends = { ...entries(), enqueueMany: () => enqueueMany(fx.database, [{ message: composed }, { message: composed, idempotencyKey: 'k' }]) };
    for (const [entry, send] of Object.entries(sends)) {
      const error = await send({ ...base, idempotencyKey: 'welcome:42' } as SendMailOptions).then(() => undefined, (e: unknown) => e);
      expect(error, entry).toBeInstanceOf(TablesMissingError);
      expect((error as Error).message, entry).toMatch(/^mailroom's tables are missing .* run `mailroom migrate`/);
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).cause, entry).toBeUndefined();
      const text = printed(error);
      for (const secret of [BODY, 'nuria@example.com', 'Your reset link', 'welcome:42', 'insert into']) expect(text, entry).not.toContain(secret);
    }
  });

  it('a database refusal is a DatabaseError without query, parameters or message bytes', async () => {
    // A check in the app's database that repeats what it refused, as triggers and constraints may.
    await fx.database.db.execute(sql.raw(`
      create function refuse_mail() returns trigger language plpgsql as $$
      begin raise exception 'refused %, sent to %, key %', new.subject, new.recipients, new.idempotency_key; end $$`));
    await fx.database.db.execute(sql.raw('create trigger refuse_mail before insert on mailroom_messages for each row execute function refuse_mail()'));
    const many = await enqueueMailMany(fx.database, [{ ...base, idempotencyKey: 'welcome:42' }]).then(() => undefined, (e: unknown) => e);
    const one = await enqueueMail(fx.database, { ...base, idempotencyKey: 'welcome:42' }).then(() => undefined, (e: unknown) => e);
    for (const error of [one, many]) {
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as Error).message).toMatch(/^Could not queue the messages?: refused …, sent to .*\(SQLSTATE P0001\)\.$/);
      expect((error as Error).cause).toBeUndefined();
      for (const secret of [BODY, 'nuria@example.com', 'Your reset link', 'welcome:42', 'insert into']) expect(printed(error)).not.toContain(secret);
    }
  });
});

describe.skipIf(!ALL.includes(pg))('bulk enqueue under concurrency on postgres', () => {
  const fx = perTest(pg);

  it('overlapping idempotency keys in concurrent enqueueMailMany calls never deadlock, and each key is stored once', { timeout: 120_000 }, async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `order:${i}`);
    const batches = Array.from({ length: 6 }, (_, b) => {
      const pick = random(b + 1);
      const shuffled = [...keys];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = pick(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      return shuffled.slice(0, 200).map((key) => ({ from: 'a@example.com', to: 'b@example.com', subject: key, text: key, idempotencyKey: key }));
    });
    for (let round = 0; round < 3; round++) {
      await fx.database.db.delete(messages);
      const results = await Promise.all(batches.map((batch) => enqueueMailMany(fx.database, batch, { rowsPerInsert: 50 })));
      const stored = await fx.database.db.select({ key: messages.idempotencyKey, subject: messages.subject }).from(messages);
      const used = new Set(batches.flat().map((m) => m.idempotencyKey));
      expect(stored).toHaveLength(used.size);
      expect(new Set(stored.map((r) => r.key)).size).toBe(used.size);
      expect(stored.every((r) => r.key === r.subject)).toBe(true);
      // Every call got the one row of each of its keys back, in its own order.
      const ids = new Map(stored.map((r) => [r.key, r]));
      for (const [b, result] of results.entries()) {
        expect(result.map((r) => r.id)).toHaveLength(batches[b]!.length);
        expect(new Set(result.map((r) => r.id)).size).toBe(batches[b]!.length);
      }
      expect(ids.size).toBe(used.size);
    }
  });
});
