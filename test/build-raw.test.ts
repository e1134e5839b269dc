import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { SendMailOptions } from 'nodemailer';
import { buildRaw } from '../src/transport/build-raw.js';
import { WelcomeMail, InvoiceMail, PasswordResetMail } from '../emails/_views/index.js';
import Invoice from '../emails/invoice.js';

// A seeded generator: the same cases every run, many shapes of text.
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pieces = ['a', 'Zz', ' ', '\t', '\r\n', '\n', '=', '==', 'é', 'ß', 'Ω', 'ж', '中文', 'عربي', 'हिन्दी', '😀', '👩‍💻', '.', 'x'.repeat(80), ' \r\n', '\t\n', '-', '\r'];
  return (length: number) => Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]).join('');
}

const base = { from: 'Zoë <zoe@example.com>', to: 'Ádám <adam@example.com>', subject: 'Grüße — 你好 — مرحبا' };

async function cases(): Promise<[string, SendMailOptions, boolean][]> {
  const text = generator(7);
  const own: [string, SendMailOptions, boolean][] = [
    ['welcome view', await new WelcomeMail({ name: 'Núria Puigdomènech', loginUrl: 'https://example.com/l' }).toMessage({ to: 'a@example.com' }), true],
    ['password reset view', await new PasswordResetMail({ name: '李雷', resetUrl: 'https://example.com/r', expiresInMinutes: 30 }).toMessage({ to: 'b@example.com' }), true],
    ['invoice view with a PDF', await new InvoiceMail(Invoice.PreviewProps).toMessage({ to: 'c@example.com' }), true],
    ['ASCII text only (7bit)', { ...base, text: 'plain words\r\nand lines' }, true],
    ['long ASCII line', { ...base, text: 'word '.repeat(400) }, true],
    ['line of exactly 76', { ...base, text: `${'y'.repeat(76)}\n${'z'.repeat(75)}=\n` }, true],
    ['trailing whitespace', { ...base, text: 'ends with space \nand tab\t\n \t ', html: '<p>x </p> ' }, true],
    ['empty text', { ...base, text: '', html: '<b>only html</b>' }, true],
    ['binary attachments of every length mod 3 and 57', { ...base, text: 'see files', attachments: [0, 1, 2, 56, 57, 58, 114, 1000].map((n) => ({ filename: `f${n}.bin`, content: randomBytes(n) })) }, true],
    ['a string attachment given as base64', { ...base, attachments: [{ filename: 'Отчёт 2026.txt', content: Buffer.from('данные').toString('base64'), encoding: 'base64' }] }, true],
    ['a text attachment', { ...base, attachments: [{ filename: 'नोट्स.txt', content: 'लंबी लाइन '.repeat(50) }] }, true],
    ['alternatives, calendar and AMP', { ...base, text: 't', html: '<p>h</p>', amp: '<!doctype html><html ⚡4email><p>a</p></html>', icalEvent: { method: 'REQUEST', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR' }, alternatives: [{ contentType: 'text/x-web-markdown', content: '**hi** ü' }] }, true],
    ['text and html over 64 KB (left to the stream build)', { ...base, text: text(20_000), html: `<p>${text(20_000)}</p>` }, false],
  ];
  const generated: [string, SendMailOptions, boolean][] = Array.from({ length: 150 }, (_, i) => [
    `generated text ${i}`,
    { ...base, subject: text(1 + (i % 40)).replace(/[\r\n]/g, ' ') || 's', text: text(i * 7), html: i % 3 ? `<div>${text(i * 5)}</div>` : undefined },
    true,
  ]);
  return [...own, ...generated];
}

const dir = mkdtempSync(join(tmpdir(), 'mailroom-build-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildRaw', () => {
  it('builds the same bytes as nodemailer, at once, for every message held in memory', async () => {
    for (const [name, data, inline] of await cases()) {
      const node = new MailComposer(data).compile();
      const built = buildRaw(node);
      expect(Buffer.isBuffer(built), name).toBe(inline);
      const streamed = await node.build();
      expect((await built).toString('latin1'), name).toBe(streamed.toString('latin1'));
    }
  });

  it('leaves files, streams, raw messages and DKIM to nodemailer, with the same result', async () => {
    const path = join(dir, 'café.txt');
    writeFileSync(path, 'from a file ✓');
    const others: [string, SendMailOptions][] = [
      ['a file attachment', { ...base, text: 't', attachments: [{ path }] }],
      ['a raw message', { raw: `From: a@example.com\r\nTo: b@example.com\r\nSubject: raw\r\n\r\nbody` }],
      ['newline option', { ...base, text: 'a\nb', newline: 'unix' } as SendMailOptions],
      ['over 1 MB of content', { ...base, text: 't', attachments: [{ filename: 'big.bin', content: randomBytes(1024 * 1024 + 1) }] }],
      ['a QP attachment that is not text', { ...base, attachments: [{ filename: 'x.bin', content: Buffer.from('a\rb\nc'), contentTransferEncoding: 'quoted-printable' }] }],
    ];
    for (const [name, data] of others) {
      const node = new MailComposer(data).compile();
      const built = buildRaw(node);
      expect(built, name).toBeInstanceOf(Promise);
      expect((await built).toString('latin1'), name).toBe((await node.build()).toString('latin1'));
    }
  });
});
