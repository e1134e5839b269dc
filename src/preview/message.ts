import { simpleParser, type AddressObject } from 'mailparser';
import { safeContentType } from './security.js';
import { headerText } from '../transport/compose.js';

export interface MessageAttachment {
  /** As the message names it; `attachment-N` when it has no name. Only ever shown or put in a header, encoded. */
  filename: string;
  contentType: string;
  size: number;
  content: Buffer;
  /** An inline part of the HTML (cid: image) rather than a separate file. */
  related: boolean;
  /** Its Content-ID without the angle brackets, which the HTML references as `cid:…`. */
  cid?: string;
}

/** A stored RFC 822 message, parsed for display. */
export interface ParsedMessage {
  subject: string;
  from: string;
  to: string;
  cc: string;
  replyTo: string;
  date: Date | null;
  messageId: string;
  /** cid: images already inlined as data: URLs by mailparser. */
  html: string | null;
  text: string;
  /** The header block as written, one entry per header (folded lines kept). */
  headerLines: { key: string; line: string }[];
  /** Each header's value as a reader sees it (encoded words decoded), by lower-case name; the first of repeated ones. */
  headerValues?: Map<string, string>;
  attachments: MessageAttachment[];
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((v) => v.text).join(', ');
}

/**
 * RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) as text. mailparser decodes the
 * headers it knows (Subject, addresses) but leaves others, such as a view's `X-Campaign`,
 * as written; adjacent encoded words join without the space between them (RFC 2047 §6.2).
 */
export function decodeEncodedWords(text: string): string {
  return text.replace(/=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=(?:\s+(?==\?))?/g, (whole, charset: string, encoding: string, data: string) => {
    try {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return new TextDecoder(charset.split('*')[0]!.toLowerCase(), { fatal: true }).decode(bytes);
    } catch {
      return whole; // an unknown charset or broken bytes: shown as written
    }
  });
}

/** mailparser's header value (a string, an address object, a Date, a `{ value, params }` structure) as text. */
function headerValueText(value: unknown): string {
  if (value instanceof Date) return value.toUTCString();
  if (typeof value === 'string') return decodeEncodedWords(value);
  if (typeof value !== 'object' || value === null) return String(value ?? '');
  if (Array.isArray(value)) return value.map(headerValueText).join(', ');
  const v = value as { text?: unknown; value?: unknown; params?: Record<string, string> };
  if (Array.isArray(v.value)) return headerText(v.value); // addresses: `Name <a@x>`, unquoted, as the page shows them
  if (typeof v.text === 'string') return v.text;
  if (typeof v.value === 'string') return [v.value, ...Object.entries(v.params ?? {}).map(([k, p]) => `${k}=${p}`)].join('; ');
  return String(value);
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const mail = await simpleParser(raw);
  return {
    subject: mail.subject ?? '',
    from: addresses(mail.from),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    replyTo: addresses(mail.replyTo),
    date: mail.date ?? null,
    messageId: mail.messageId ?? '',
    html: typeof mail.html === 'string' ? mail.html : null,
    text: mail.text ?? '',
    headerLines: mail.headerLines.map(({ key, line }) => ({ key, line })),
    headerValues: new Map([...mail.headers].map(([key, value]) => [key, headerValueText(value)])),
    attachments: mail.attachments.map((a, i) => ({
      filename: a.filename || `attachment-${i + 1}`,
      contentType: safeContentType(a.contentType),
      size: a.content.length,
      content: a.content,
      related: Boolean(a.related),
      ...(a.cid ? { cid: a.cid } : {}),
    })),
  };
}
