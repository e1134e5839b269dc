import { AssertionError } from 'node:assert';
import type { AddressObject, ParsedMail } from 'mailparser';
import type { Priority } from '../views/priority.js';

/** An attachment as the recipient gets it: its exact bytes. */
export interface MailAttachment {
  filename: string | undefined;
  contentType: string;
  content: Buffer;
  /** Content-ID of an inline image. */
  cid: string | undefined;
}

/** What a test reads of a message, queued or sent: parsed from the stored or received bytes. */
export interface MailContent {
  /** The mail view that built it (its class name), or null for a plain nodemailer message. */
  view: string | null;
  messageId: string;
  /** The From header as written: `Team <team@example.com>`. */
  from: string;
  /** Addresses of the To header (lower-cased as given). */
  to: string[];
  cc: string[];
  /** Every address the message is (or was) delivered to: To, Cc and Bcc (the SMTP envelope). */
  recipients: string[];
  subject: string;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  headers: Record<string, string>;
  text: string;
  html: string;
  attachments: MailAttachment[];
  /** The RFC 822 bytes. */
  raw: Buffer;
  /** Every link in the message: the HTML's `<a href>`s in order, or the URLs in the text when there is no HTML. */
  links(): string[];
  /** The first link matching `pattern` (a RegExp or a substring); an AssertionError listing the links when none does. */
  link(pattern: RegExp | string): string;
}

/** A message the capture received (from the drain, or anything else sending to its URL). */
export interface SentMail extends MailContent {
  /** The envelope sender (MAIL FROM). */
  envelopeFrom: string;
  /** The priority the queue recorded for it; null for a message that never went through the queue. */
  priority: Priority | null;
}

const addresses = (value: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((o) => o.value.flatMap((a) => (a.address ? [a.address] : (a.group ?? []).flatMap((g) => (g.address ? [g.address] : [])))));

/** Header lines as one value per name, unfolded, as the raw text after the colon. */
function headersOf(parsed: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** The few entities an attribute value holds in practice (React Email writes &amp; in URLs). */
const decodeAttribute = (value: string) =>
  value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });

export function linksOf(html: string, text: string): string[] {
  if (html) return [...html.matchAll(/<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map((m) => decodeAttribute((m[1] ?? m[2] ?? m[3] ?? '').trim()));
  return [...text.matchAll(/\bhttps?:\/\/[^\s<>"'\])]+/gi)].map((m) => m[0].replace(/[.,;:!?]+$/, ''));
}

export function findLink(links: string[], pattern: RegExp | string, subject: string): string {
  const found = links.find((link) => (typeof pattern === 'string' ? link.includes(pattern) : pattern.test(link)));
  if (found !== undefined) return found;
  const list = links.length ? links.map((l) => `  ${l}`).join('\n') : '  (none)';
  throw new AssertionError({ message: `No link matching ${String(pattern)} in "${subject}". Its links:\n${list}` });
}

/** The parts of a parsed message every listing shares. */
export function parseMail(parsed: ParsedMail, raw: Buffer, envelope: { to: string[] }, view: string | null = null): MailContent {
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  const text = parsed.text ?? '';
  const subject = parsed.subject ?? '';
  let links: string[] | undefined;
  return {
    view,
    messageId: parsed.messageId ?? '',
    from: parsed.from?.text ?? '',
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    recipients: envelope.to,
    subject,
    headers: headersOf(parsed),
    text,
    html,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content, cid: a.cid })),
    raw,
    links: () => [...(links ??= linksOf(html, text))],
    link: (pattern) => findLink((links ??= linksOf(html, text)), pattern, subject),
  };
}
