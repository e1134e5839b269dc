/**
 * An SMTP server's reply, made safe to store and to show. A server may send any
 * bytes: a NUL (which jsonb and text columns refuse, failing the outcome write
 * and so resending mail that went out), terminal escapes, invalid UTF-8 (nodemailer
 * keeps it as Latin-1, so stray bytes arrive as C1 controls) or a megabyte of text.
 * Every reply is cleaned here before it reaches a column, a log or a caller.
 */

import { ESCAPE_SEQUENCE } from '../escape-sequences.js';

/** The longest reply line SMTP allows (RFC 5321 §4.5.3.1.5); longer replies are cut. */
export const REPLY_LIMIT = 512;

/** Line breaks and tabs: a multi-line reply reads as one line. */
const SPACING = /[\t\n\v\f\r]+/g;
/**
 * What is left that a terminal or the database would act on: control characters
 * (C0, DEL, C1), lone surrogates, and the bidirectional overrides that reorder text.
 */
const UNSAFE = /[\p{Cc}\p{Cs}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/** `text` without control characters, on one line, at most `limit` characters. */
export function cleanText(text: string, limit = REPLY_LIMIT): string {
  // Only the start is kept, so a huge reply costs no more than a short one.
  const head = text.length > limit * 4 ? text.slice(0, limit * 4) : text;
  const clean = head.replace(ESCAPE_SEQUENCE, '').replace(SPACING, ' ').replace(UNSAFE, '\ufffd').trim();
  if (clean.length <= limit && head.length === text.length) return clean;
  const note = ` … (${text.length} characters)`;
  let cut = Math.max(0, Math.min(clean.length, limit - note.length));
  if (/[\ud800-\udbff]/.test(clean.charAt(cut - 1))) cut--; // never half a surrogate pair
  return `${clean.slice(0, cut).trimEnd()}${note}`;
}

/** A reply as stored: clean and bounded. */
export const cleanReply = (reply: string): string => cleanText(reply);

/**
 * The reply's SMTP code, or null when it has none that SMTP knows: a server's
 * "99999999999 ok" must not overflow the integer column.
 */
export function replyCode(value: number | string | null | undefined): number | null {
  const code = typeof value === 'number' ? value : Number.parseInt(/^\s*(\d{3})(?![0-9])/.exec(value ?? '')?.[1] ?? '', 10);
  return Number.isInteger(code) && code >= 200 && code <= 599 ? code : null;
}
