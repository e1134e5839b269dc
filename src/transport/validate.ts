import { statSync } from 'node:fs';
import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { InvalidMessageError } from '../errors.js';

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$|^[^\s@<>()[\]\\,;:"]+@\[[0-9a-f.:]+\]$|^[^\s@<>()[\]\\,;:"]+@localhost$/iu;
/** Whether `address` is a bare email address (name@domain), as the queue accepts it. */
export const isAddress = (address: string): boolean => ADDRESS.test(address);

const ADDRESS_FIELDS = ['from', 'sender', 'to', 'cc', 'bcc', 'replyTo'] as const;
const ID_FIELDS = ['inReplyTo', 'references'] as const;
const TEXT_FIELDS = ['subject', 'messageId'] as const;

export interface Limits {
  /** Largest attachment accepted, in bytes. */
  maxAttachmentSize: number;
}

export const DEFAULT_LIMITS: Limits = { maxAttachmentSize: 20 * 1024 * 1024 };

/** CR or LF in a header would let a value start a new header (header injection). */
function assertNoLineBreak(where: string, value: unknown): void {
  if (typeof value === 'string') {
    if (/[\r\n]/.test(value)) {
      throw new InvalidMessageError(`${where} contains a line break (CR/LF), which could inject headers: remove it.`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoLineBreak(`${where}[${i}]`, item));
  } else if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'prepared') continue;
      assertNoLineBreak(`${where}.${key}`, item);
    }
  }
}

function headerEntries(headers: SendMailOptions['headers']): [string, unknown][] {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers.map((h) => [h.key, h.value]);
  return Object.entries(headers);
}

type AddressInput = string | { name?: string; address?: string } | AddressInput[] | undefined | null | false;

/** Every address the app wrote must be one: nodemailer would silently drop "not-an-address". */
function assertAddresses(field: string, value: unknown): void {
  const check = (name: string, address: string | undefined) => {
    if (!address || !ADDRESS.test(address)) {
      throw new InvalidMessageError(`Invalid ${field} address "${address || name}": use name@example.com or "Name <name@example.com>".`);
    }
  };
  const walk = (item: AddressInput): void => {
    if (!item) return;
    if (Array.isArray(item)) return item.forEach(walk);
    if (typeof item === 'object') return check(item.name ?? '', item.address);
    for (const parsed of addressparser(item, { flatten: true })) check(parsed.name, 'address' in parsed ? parsed.address : undefined);
  };
  walk(value as AddressInput);
}

/** Checks what the app wrote, before anything is built or stored. */
export function validateMessage(data: SendMailOptions, limits: Limits = DEFAULT_LIMITS): void {
  for (const field of [...ADDRESS_FIELDS, ...ID_FIELDS, ...TEXT_FIELDS]) assertNoLineBreak(`"${field}"`, data[field]);
  for (const field of ADDRESS_FIELDS) assertAddresses(field, data[field]);
  for (const [key, value] of headerEntries(data.headers)) {
    assertNoLineBreak(`Header name "${key}"`, key);
    assertNoLineBreak(`Header "${key}"`, value);
  }
  for (const [i, attachment] of (data.attachments ?? []).entries()) {
    const name = attachment.filename || (typeof attachment.path === 'string' ? attachment.path : `#${i + 1}`);
    assertNoLineBreak(`Attachment "${name}" file name`, attachment.filename);
    let size: number | undefined;
    if (typeof attachment.path === 'string' && !/^(https?|data):/i.test(attachment.path)) {
      try {
        size = statSync(attachment.path).size;
      } catch {
        throw new InvalidMessageError(`Attachment "${name}": file ${attachment.path} does not exist or cannot be read.`);
      }
    } else if (typeof attachment.content === 'string' || Buffer.isBuffer(attachment.content)) {
      size = Buffer.byteLength(attachment.content as string | Buffer);
    }
    if (size !== undefined && size > limits.maxAttachmentSize) {
      throw new InvalidMessageError(
        `Attachment "${name}" is ${size} bytes, over the ${limits.maxAttachmentSize}-byte limit: send a link instead, or raise maxAttachmentSize.`,
      );
    }
  }
}

/** Checks the envelope nodemailer derived from the message. */
export function validateEnvelope(envelope: { from?: string | false; to?: string[] }): { from: string; to: string[] } {
  const from = envelope.from || '';
  if (!from) throw new InvalidMessageError('The message has no sender: set "from" on the message or the view.');
  if (!ADDRESS.test(from)) throw new InvalidMessageError(`Invalid sender address "${from}": use name@example.com.`);
  const to = envelope.to ?? [];
  if (to.length === 0) throw new InvalidMessageError('The message has no recipient: set "to", "cc" or "bcc".');
  for (const address of to) {
    if (!ADDRESS.test(address)) throw new InvalidMessageError(`Invalid recipient address "${address}": use name@example.com.`);
  }
  return { from, to };
}
