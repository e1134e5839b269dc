/**
 * The W3C traceparent of a message's enqueue span, kept with the message as the first
 * line of its stored bytes (no column, so no migration): the drain links its delivery
 * span to it, and strips the line before sending, so it never reaches a receiver.
 * Only messages enqueued while the app had a tracer carry it.
 */
export const TRACEPARENT_HEADER = 'X-Mailroom-Traceparent';

const PREFIX = Buffer.from(`${TRACEPARENT_HEADER}: `);
const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The traceparent of a span context (version 00). */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A traceparent's parts, or undefined for anything else (a damaged or foreign value links nothing). */
export function parseTraceparent(value: string): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const match = VERSION_00.exec(value);
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16) };
}

/** The message's bytes with the traceparent line first. */
export function withTraceparent(raw: Buffer, traceparent: string): Buffer {
  return Buffer.concat([PREFIX, Buffer.from(`${traceparent}\r\n`), raw]);
}

/**
 * The bytes to send (without the line; the same memory, no copy) and the traceparent
 * if the message carries one. One comparison for a message that does not.
 */
export function splitTraceparent(raw: Buffer): { raw: Buffer; traceparent: string | undefined } {
  if (raw.length < PREFIX.length || raw.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return { raw, traceparent: undefined };
  const end = raw.indexOf(0x0a, PREFIX.length);
  if (end < 0) return { raw, traceparent: undefined };
  const value = raw.toString('latin1', PREFIX.length, end).trim();
  return { raw: raw.subarray(end + 1), traceparent: value };
}
