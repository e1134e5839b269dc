import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import { PRIORITY_HEADER, parsePriority, type Priority } from '../views/priority.js';
import { validateEnvelope, validateMessage, type Limits, DEFAULT_LIMITS } from './validate.js';
import { buildRaw } from './build-raw.js';

/** A message ready to store: built once, so every retry sends these exact bytes. */
export interface ComposedMessage {
  messageId: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
  subject: string;
  from: string;
  priority: Priority;
}

/** A header value (string, address object or list of them) as the text a reader sees. */
export function headerText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(headerText).join(', ');
  if (typeof value === 'object') {
    const v = value as { name?: string; address?: string; value?: unknown };
    if ('address' in v) return v.name ? `${v.name} <${v.address}>` : String(v.address ?? '');
    return headerText(v.value);
  }
  return String(value);
}

/**
 * Validates, reads and removes the priority header, fixes the Message-ID and
 * builds the RFC 822 bytes from a compiled nodemailer MimeNode.
 */
export async function compose(node: MimeNode, data: SendMailOptions, limits: Limits = DEFAULT_LIMITS): Promise<ComposedMessage> {
  validateMessage(data, limits);
  const priority = parsePriority(node.getHeader(PRIORITY_HEADER));
  node.setHeader(PRIORITY_HEADER, ''); // an empty header is not written: it never reaches the wire
  const envelope = validateEnvelope(node.getEnvelope());
  const messageId = node.messageId();
  const raw = await buildRaw(node);
  return {
    messageId,
    envelope,
    raw,
    subject: headerText(data.subject),
    from: headerText(data.from),
    priority,
  };
}

/** `compose` for plain message options, which no transporter has compiled (bulk, `enqueueMail`). */
export function composeMail(data: SendMailOptions, limits: Partial<Limits> = {}): Promise<ComposedMessage> {
  return compose(new MailComposer(data).compile(), data, { ...DEFAULT_LIMITS, ...limits });
}
