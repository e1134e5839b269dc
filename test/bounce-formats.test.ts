import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { readReport } from '../src/bounces/report.js';

/** A bounce fixture as an MTA hands it over (CRLF), with its placeholders filled. */
async function report(name: string, values: Record<string, string> = {}) {
  const text = Object.entries(values).reduce((t, [k, v]) => t.replaceAll(`{{${k}}}`, v), readFileSync(new URL(`./fixtures/bounces/${name}`, import.meta.url), 'utf8'));
  const raw = Buffer.from(text.replace(/\r?\n/g, '\r\n'));
  return readReport(raw, await simpleParser(raw));
}

describe('plain-text bounces (not RFC 3464 reports)', () => {
  it("qmail's layout: each recipient with its reply's code (a basic code as X.0.0), the quoted message's Message-ID", async () => {
    const parsed = await report('qmail.eml', { MESSAGE_ID: '<receipt-7@example.com>' });
    expect(parsed.skipped).toBeUndefined();
    expect(parsed.reportId).toBe('<qmail-bounce-1@mail.example.net>');
    expect(parsed.events.map(({ kind, address, status, messageId }) => ({ kind, address, status, messageId }))).toEqual([
      { kind: 'hard', address: 'Nobody@Example.org', status: '5.1.1', messageId: '<receipt-7@example.com>' },
      { kind: 'hard', address: 'Zoë.Full@example.org', status: '5.0.0', messageId: '<receipt-7@example.com>' },
      { kind: 'soft', address: 'later@example.org', status: '4.7.1', messageId: '<receipt-7@example.com>' },
    ]);
    expect(parsed.events[0]!.diagnostic).toBe('Remote host said: 550 5.1.1 <Nobody@Example.org>... User unknown');
  });

  it("Exim's layout: the indented addresses after “failed:”, a reply with no code taken as permanent under its heading", async () => {
    const parsed = await report('exim.eml', { MESSAGE_ID: '<welcome-3@example.com>' });
    expect(parsed.events.map(({ kind, address, status, messageId }) => ({ kind, address, status, messageId }))).toEqual([
      { kind: 'hard', address: 'gone@example.org', status: '5.1.1', messageId: '<welcome-3@example.com>' },
      { kind: 'hard', address: 'nocode@example.org', status: '5.0.0', messageId: '<welcome-3@example.com>' },
    ]);
  });

  it('an auto-reply that is neither layout, not sent to a VERP address, is skipped: digits in its text are not a reply code', async () => {
    const raw = Buffer.from('From: ana@example.org\r\nTo: team@example.com\r\nSubject: Out of office\r\nMessage-ID: <ooo-1@example.org>\r\n\r\nBack on the 5th. Call 555 0100 or 450 2211.\r\n');
    const parsed = readReport(raw, await simpleParser(raw));
    expect(parsed.events).toEqual([]);
    expect(parsed.skipped).toMatch(/not a delivery or feedback report/);
  });
});
