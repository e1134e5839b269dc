import { simpleParser, type AddressObject } from 'mailparser';
import { safeContentType } from './security.js';

export interface MessageAttachment {
  /** As the message names it; `attachment-N` when it has no name. Only ever shown or put in a header, encoded. */
  filename: string;
  contentType: string;
  size: number;
  content: Buffer;
  /** An inline part of the HTML (cid: image) rather than a separate file. */
  related: boolean;
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
  attachments: MessageAttachment[];
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((v) => v.text).join(', ');
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
    attachments: mail.attachments.map((a, i) => ({
      filename: a.filename || `attachment-${i + 1}`,
      contentType: safeContentType(a.contentType),
      size: a.content.length,
      content: a.content,
      related: Boolean(a.related),
    })),
  };
}
