import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { ConfigError, InvalidMessageError } from '../errors.js';
import { assertContentLanguage } from '../i18n/locale.js';

// Characters an address never holds: separators and specials, and anything invisible
// (spaces of every kind, controls, format characters such as U+200B), which parsers
// drop or split on and so would silently send to another address.
const ADDRESS =
  /^[^\s\p{Z}\p{Cc}\p{Cf}@<>()[\]\\,;:"]+@[^\s\p{Z}\p{Cc}\p{Cf}@<>()[\]\\,;:"]+\.[^\s\p{Z}\p{Cc}\p{Cf}@<>()[\]\\,;:".]+$|^[^\s\p{Z}\p{Cc}\p{Cf}@<>()[\]\\,;:"]+@\[[0-9a-f.:]+\]$|^[^\s\p{Z}\p{Cc}\p{Cf}@<>()[\]\\,;:"]+@localhost$/iu;
/** Whether `address` is a bare email address (name@domain), as the queue accepts it. */
export const isAddress = (address: string): boolean => ADDRESS.test(address);

const ADDRESS_FIELDS = ['from', 'sender', 'to', 'cc', 'bcc', 'replyTo'] as const;
const ID_FIELDS = ['inReplyTo', 'references'] as const;
const TEXT_FIELDS = ['subject', 'messageId', 'date', 'list'] as const;
/** Attachment and alternative fields that end up in a part's headers. */
const PART_HEADER_FIELDS = ['filename', 'cid', 'contentType', 'contentDisposition', 'contentTransferEncoding', 'headers'] as const;
/** Header names nodemailer reads the envelope from: set through `headers` they would bypass the address checks. */
const ADDRESS_HEADERS = new Map([['from', 'from'], ['sender', 'sender'], ['to', 'to'], ['cc', 'cc'], ['bcc', 'bcc'], ['reply-to', 'replyTo']]);

// Postgres stores timestamps from 4713 BC to 294276 AD, but an ISO string past year 9999
// (`+010000-…`) is not one it reads; before 1970 means "now" anyway.
const SEND_AT_RANGE = [Date.UTC(1970, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)] as const;
/** Longest idempotency key, in characters: it is a unique index entry, not a payload. */
export const MAX_IDEMPOTENCY_KEY = 255;

export interface Limits {
  /** Largest attachment accepted, in bytes. */
  maxAttachmentSize: number;
}

export const DEFAULT_LIMITS: Limits = { maxAttachmentSize: 20 * 1024 * 1024 };

/**
 * A value the app wrote, as an error may repeat it: on one printable line (controls
 * escaped, as JSON does) and short, so an error never carries more than the bad part.
 */
export function printable(value: unknown, max = 80): string {
  const text = JSON.stringify(String(value)).slice(1, -1);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * `address` when it is a bare email address (isAddress), else a ConfigError naming it (escaped
 * and shortened) with an example: the one check for an address given to be suppressed or
 * blocked, by an operator (CLI, preview) or the app (suppress()).
 */
export function checkedAddress(address: string): string {
  if (!isAddress(address)) throw new ConfigError(`"${printable(address)}" is not an email address: use e.g. someone@example.com.`);
  return address;
}

/** The first control character in `text` (tab allowed where `tab`), as U+XXXX. */
function controlIn(text: string, tab: boolean): string | undefined {
  const found = (tab ? /[\0-\x08\n-\x1f\x7f]/ : /[\0-\x1f\x7f]/).exec(text)?.[0];
  return found === undefined ? undefined : `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * CR or LF in a header would let a value start a new header (header injection); NUL and
 * the other control characters are not text a header may carry (RFC 5322 §2.2), and
 * Postgres refuses NUL outright. Tab is folding whitespace and allowed.
 */
function assertHeaderText(where: string, value: unknown): void {
  if (typeof value === 'string') {
    if (/[\r\n]/.test(value)) {
      throw new InvalidMessageError(`${where} contains a line break (CR/LF), which could inject headers: remove it.`);
    }
    const control = controlIn(value, true);
    if (control) throw new InvalidMessageError(`${where} contains the control character ${control}, which a header cannot carry: remove it.`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertHeaderText(`${where}[${i}]`, item));
  } else if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'prepared') continue;
      assertHeaderText(`${where}.${printable(key)}`, item);
    }
  }
}

function headerEntries(headers: unknown): [string, unknown][] {
  if (!headers || typeof headers !== 'object') return [];
  if (Array.isArray(headers)) return headers.map((h: { key: string; value: unknown }) => [h.key, h.value]);
  return Object.entries(headers);
}

type AddressInput = string | { name?: string; address?: string } | AddressInput[] | undefined | null | false;

/**
 * The mailboxes of one address string, split at top-level commas and semicolons (outside
 * quotes, comments and angle brackets), each with comments and quoted names removed.
 */
function mailboxes(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let comment = 0;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (comment) {
      if (c === '\\') i++;
      else if (c === '(') comment++;
      else if (c === ')') comment--;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') comment = 1;
    else if (c === '<') (angle = true), (current += c);
    else if (c === '>') (angle = false), (current += c);
    else if (!angle && (c === ',' || c === ';')) out.push(current), (current = '');
    else current += c;
  }
  out.push(current);
  return out;
}

/**
 * An address as written must be the address sent to. nodemailer's parser reads
 * `john doe@example.com` (or a no-break space there) as the name "john" and the address
 * doe@example.com, and drops NUL: refuse such input instead of sending elsewhere.
 */
function assertAddressText(field: string, text: string): void {
  const refuse = (why: string) => {
    throw new InvalidMessageError(`Invalid ${field} address "${printable(text)}": ${why}; write name@example.com or "Name <name@example.com>".`);
  };
  const control = /\p{Cc}/u.exec(text)?.[0];
  if (control) refuse(`it contains the control character U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  for (const mailbox of mailboxes(text)) {
    const bracketed = /<([^>]*)>/.exec(mailbox);
    // A group's label (`Team: a@x, b@y;`) is a name, not part of the address.
    const bare = bracketed ? bracketed[1]! : mailbox.replace(/^[^@]*:/, '');
    const space = /[\s\p{Z}\p{Cf}]/u.exec(bare.trim())?.[0];
    if (space) refuse(`its address part holds the space or invisible character U+${space.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  }
}

/** Every address the app wrote must be one: nodemailer would silently drop "not-an-address". */
function assertAddresses(field: string, value: unknown): void {
  const check = (name: string, address: string | undefined) => {
    if (!address || !ADDRESS.test(address)) {
      throw new InvalidMessageError(`Invalid ${field} address "${printable(address || name)}": use name@example.com or "Name <name@example.com>".`);
    }
  };
  const walk = (item: AddressInput): void => {
    if (!item) return;
    if (Array.isArray(item)) return item.forEach(walk);
    if (typeof item === 'object') return check(item.name ?? '', item.address);
    if (typeof item !== 'string') throw new InvalidMessageError(`Invalid ${field} address: expected a string or { name, address }, got ${typeof item}.`);
    assertAddressText(field, item);
    for (const parsed of addressparser(item, { flatten: true })) check(parsed.name, 'address' in parsed ? parsed.address : undefined);
  };
  walk(value as AddressInput);
}

/** `sendAt` and `idempotencyKey`, the per-send options mailroom adds to nodemailer's. */
export function validateSendOptions(options: { sendAt?: unknown; idempotencyKey?: unknown; view?: unknown }): void {
  const { sendAt, idempotencyKey: key, view } = options;
  if (view !== undefined && view !== null) {
    if (typeof view !== 'string' || view.length > MAX_IDEMPOTENCY_KEY || controlIn(view, false)) {
      throw new InvalidMessageError(`"view" must be a view's name: a string of at most ${MAX_IDEMPOTENCY_KEY} characters without control characters.`);
    }
  }
  if (sendAt !== undefined && sendAt !== null) {
    if (!(sendAt instanceof Date)) throw new InvalidMessageError(`"sendAt" must be a Date, got ${typeof sendAt}: pass new Date(…).`);
    const time = sendAt.getTime();
    if (Number.isNaN(time)) throw new InvalidMessageError('"sendAt" is an invalid Date (NaN): pass a real time.');
    if (time < SEND_AT_RANGE[0] || time > SEND_AT_RANGE[1]) {
      throw new InvalidMessageError(`"sendAt" must be between 1970 and the year 9999: pass a real time.`);
    }
  }
  if (key !== undefined && key !== null) {
    if (typeof key !== 'string') throw new InvalidMessageError(`"idempotencyKey" must be a string, got ${typeof key}.`);
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
      throw new InvalidMessageError(`"idempotencyKey" must be 1 to ${MAX_IDEMPOTENCY_KEY} characters long, got ${key.length}: use a short id such as "welcome:42".`);
    }
    const control = controlIn(key, false);
    if (control) throw new InvalidMessageError(`"idempotencyKey" contains the control character ${control}: remove it.`);
  }
}

/** Size of content given in memory; files, URLs and streams are measured as they are read. */
function inMemorySize(content: unknown): number | undefined {
  return typeof content === 'string' || Buffer.isBuffer(content) ? Buffer.byteLength(content) : undefined;
}

/** Checks what the app wrote, before anything is read, built or stored. */
export function validateMessage(data: SendMailOptions, limits: Limits = DEFAULT_LIMITS): void {
  for (const field of [...ADDRESS_FIELDS, ...ID_FIELDS, ...TEXT_FIELDS]) assertHeaderText(`"${field}"`, data[field]);
  for (const field of ADDRESS_FIELDS) assertAddresses(field, data[field]);
  const envelope = data.envelope as Record<string, unknown> | undefined;
  for (const field of ['from', 'to', 'cc', 'bcc'] as const) {
    assertHeaderText(`"envelope.${field}"`, envelope?.[field]);
    assertAddresses(`envelope.${field}`, envelope?.[field]);
  }
  for (const [key, value] of headerEntries(data.headers)) {
    assertHeaderText(`Header name "${printable(key)}"`, key);
    assertHeaderText(`Header "${printable(key)}"`, value);
    if (String(key).trim().toLowerCase() === 'content-language') assertContentLanguage(value);
    const option = ADDRESS_HEADERS.get(String(key).trim().toLowerCase());
    if (option) {
      throw new InvalidMessageError(
        `Header "${printable(key)}" set through "headers" would change who receives the message unchecked: use the "${option}" option instead.`,
      );
    }
  }
  validateSendOptions(data as { sendAt?: unknown; idempotencyKey?: unknown; view?: unknown });
  for (const [list, parts] of [['alternatives', data.alternatives], ['attachments', data.attachments]] as const) {
    for (const [i, part] of (parts ?? []).entries()) {
      for (const field of PART_HEADER_FIELDS) assertHeaderText(`"${list}[${i}].${field}"`, (part as Record<string, unknown>)[field]);
    }
  }
  for (const [i, attachment] of (data.attachments ?? []).entries()) {
    const size = inMemorySize(attachment.content) ?? inMemorySize(attachment.raw);
    if (size !== undefined && size > limits.maxAttachmentSize) {
      const name = attachment.filename ? printable(attachment.filename) : `#${i + 1}`;
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
  if (!ADDRESS.test(from)) throw new InvalidMessageError(`Invalid sender address "${printable(from)}": use name@example.com.`);
  const to = envelope.to ?? [];
  if (to.length === 0) throw new InvalidMessageError('The message has no recipient: set "to", "cc" or "bcc".');
  for (const address of to) {
    if (!ADDRESS.test(address)) throw new InvalidMessageError(`Invalid recipient address "${printable(address)}": use name@example.com.`);
  }
  return { from, to };
}
