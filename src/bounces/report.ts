import type { ParsedMail } from 'mailparser';
import { reportParts, type ReportPart } from './report-parts.js';
import type { BounceKind } from '../store/schema.js';
import { isVerpAddress } from './return-path.js';
import { plainFailures, quotedMessageId } from './plain-bounce.js';

// What one bounce or complaint report says, read from its MIME parts:
// - RFC 3464 delivery status notifications (multipart/report; report-type=delivery-status):
//   a message/delivery-status part with one field group per recipient;
// - RFC 5965 ARF feedback reports (report-type=feedback-report): a complaint;
// - plain-text bounces in qmail's or Exim's layout (plain-bounce.ts): each recipient named;
// - anything else sent back to a VERP address (the other non-standard bounces): the first
//   enhanced status code (RFC 3463) in its text, about the message's one recipient.

/** One address a report is about. */
export interface BounceEvent {
  kind: BounceKind;
  /** The recipient it is about, when the report names it (an ARF report may redact it). */
  address: string | undefined;
  /** The address it was first sent to, when the report says (a DSN's Original-Recipient: before a forward or alias). */
  originalAddress?: string;
  /** `5.1.1`, `4.2.2`, or a complaint's feedback type (`abuse`). */
  status: string;
  diagnostic: string;
  /** Where to find the message: its Message-ID (from the returned headers), and the VERP address the report came to. */
  messageId: string | undefined;
  returnPath: string | undefined;
}

/** What a report turned out to be. */
export interface ParsedReport {
  /** The report's own Message-ID, so reading it twice counts nothing twice. */
  reportId: string;
  events: BounceEvent[];
  /** Set when the message is not a report mailroom understood. */
  skipped?: string;
}

const ENHANCED = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** RFC 3464 §2.1: field groups separated by blank lines; `Name: value` with folded continuations. */
function fieldGroups(text: string): Map<string, string>[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      let last: string | undefined;
      for (const line of block.split('\n')) {
        if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
        else {
          const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
          if (match) fields.set((last = match[1]!.toLowerCase()), match[2]!.trim());
        }
      }
      return fields;
    })
    .filter((group) => group.size > 0);
}

/** `rfc822; Someone@Example.com` → `Someone@Example.com`. */
const addressOf = (field: string | undefined) => field?.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim() || undefined;

const partText = (part: ReportPart) => part.body;
const isType = (part: ReportPart, ...types: string[]) => types.includes(part.contentType);

/** The Message-ID in a returned message or its headers (message/rfc822, text/rfc822-headers). */
function returnedMessageId(parts: ReportPart[]): string | undefined {
  for (const part of parts) {
    if (!isType(part, 'message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers')) continue;
    const headers = partText(part).split(/\r?\n\r?\n/)[0] ?? '';
    const match = /^Message-ID:\s*(<[^>\s]+>)/im.exec(headers.replace(/\r?\n[ \t]+/g, ' '));
    if (match) return match[1];
  }
  return undefined;
}

/** The VERP address a report was sent to, from the headers an MTA or mailbox keeps of the envelope. */
function returnPathOf(mail: ParsedMail): string | undefined {
  const candidates: string[] = [];
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to']) {
    const value = mail.headers.get(name);
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') candidates.push(v.trim().replace(/^<|>$/g, ''));
  }
  const to = mail.to ? (Array.isArray(mail.to) ? mail.to : [mail.to]) : [];
  for (const group of to) for (const a of group.value) if (a.address) candidates.push(a.address);
  return candidates.find(isVerpAddress)?.toLowerCase();
}

/** A report read from its bytes and its parsed headers (mailparser): its events, or why it was skipped. */
export function readReport(raw: Buffer, mail: ParsedMail): ParsedReport {
  const reportId = mail.messageId ?? '';
  const parts = reportParts(raw);
  const messageId = returnedMessageId(parts);
  const returnPath = returnPathOf(mail);
  const base = { messageId, returnPath };

  const feedback = parts.find((p) => isType(p, 'message/feedback-report'));
  if (feedback) {
    const fields = fieldGroups(partText(feedback))[0] ?? new Map<string, string>();
    const address = addressOf(fields.get('original-rcpt-to'));
    const type = (fields.get('feedback-type') ?? 'abuse').toLowerCase();
    return { reportId, events: [{ kind: 'complaint', address, status: type, diagnostic: fields.get('user-agent') ?? '', ...base }] };
  }

  const status = parts.find((p) => isType(p, 'message/delivery-status', 'message/global-delivery-status'));
  if (status) {
    const [, ...recipients] = fieldGroups(partText(status)); // the first group is about the message
    const events: BounceEvent[] = [];
    for (const fields of recipients) {
      const action = (fields.get('action') ?? '').toLowerCase();
      const code = ENHANCED.exec(fields.get('status') ?? '')?.[0] ?? '';
      if (action !== 'failed' && action !== 'delayed') continue; // delivered, relayed, expanded
      const kind: BounceKind = action === 'failed' && code.startsWith('5') ? 'hard' : 'soft';
      const original = addressOf(fields.get('original-recipient'));
      const address = addressOf(fields.get('final-recipient')) ?? original;
      events.push({ kind, address, ...(original ? { originalAddress: original } : {}), status: code, diagnostic: addressOf(fields.get('diagnostic-code')) ?? '', ...base });
    }
    return events.length ? { reportId, events } : { reportId, events, skipped: 'a delivery report with no failed or delayed recipient' };
  }

  // A plain-text bounce in qmail's or Exim's layout names its recipients and quotes the message.
  const failures = plainFailures(mail.text ?? '');
  if (failures.length) {
    const quoted = messageId ?? quotedMessageId(mail.text ?? '');
    const events = failures.map((f): BounceEvent => ({ kind: f.status.startsWith('5') ? 'hard' : 'soft', address: f.address, status: f.status, diagnostic: f.line, messageId: quoted, returnPath }));
    return { reportId, events };
  }

  // Anything else is taken only when sent back to a VERP address, by its enhanced status code
  // (a basic code alone is not enough here: an auto-reply's "call 555 0100" is not a bounce).
  if (!returnPath) return { reportId, events: [], skipped: 'not a delivery or feedback report, and not sent to a VERP return path' };
  const text = `${mail.subject ?? ''}\n${mail.text ?? ''}`;
  const code = ENHANCED.exec(text)?.[0];
  if (!code || code.startsWith('2')) return { reportId, events: [], skipped: 'no status code found in a message to a return path' };
  const line = text.split('\n').find((l) => l.includes(code))?.trim().slice(0, 300) ?? '';
  return { reportId, events: [{ kind: code.startsWith('5') ? 'hard' : 'soft', address: undefined, status: code, diagnostic: line, ...base }] };
}
