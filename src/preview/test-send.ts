import type { Transporter } from 'nodemailer';
import type { Db } from '../store/database.js';
import { composeMail, type ComposedMessage } from '../transport/compose.js';
import { queueAndSendNow } from '../drain/send-now.js';
import type { ViewMessage } from '../views/mail-view.js';
import { InvalidMessageError } from '../errors.js';

/** Marks a test copy: in its bytes (so the outbox and the recipient can tell), with what it was a test of. */
export const TEST_HEADER = 'X-Mailroom-Test';
/** And in its subject, where a reader's inbox shows it. */
export const TEST_SUBJECT_PREFIX = '[Test] ';

/** Test sends per preview server per window: enough to check a change, too few to be a mass mailer. */
export const TEST_SENDS_PER_WINDOW = 5;
export const TEST_SEND_WINDOW_MS = 60_000;

/** A sliding window of the last sends: past `max` in `windowMs`, the next waits. */
export class TestSendLimiter {
  private readonly sent: number[] = [];

  constructor(
    private readonly max = TEST_SENDS_PER_WINDOW,
    private readonly windowMs = TEST_SEND_WINDOW_MS,
  ) {}

  /** Seconds until another send is allowed, or 0 (and then the send is counted). */
  take(now = Date.now()): number {
    while (this.sent.length && this.sent[0]! <= now - this.windowMs) this.sent.shift();
    if (this.sent.length >= this.max) return Math.ceil((this.sent[0]! + this.windowMs - now) / 1000);
    this.sent.push(now);
    return 0;
  }
}

/** One address, as typed in the page: the composer checks it again, this keeps lists and names out. */
export function testRecipient(value: unknown): string {
  const to = typeof value === 'string' ? value.trim() : '';
  if (!/^[^\s@<>,;:"]+@[^\s@<>,;:"]+$/.test(to) || to.length > 254) {
    throw new InvalidMessageError(`"${to.slice(0, 80)}" is not one email address: type one address such as you@example.com.`);
  }
  return to;
}

/**
 * The test copy of a message: to the one typed address only (no cc, bcc or envelope of a real
 * send), subject prefixed, marked with `X-Mailroom-Test: <what>`; composed by the queue's
 * composer, so it is the message `send()` would store.
 */
export function composeTest(message: ViewMessage, to: string, what: string): Promise<ComposedMessage> {
  const subject = `${TEST_SUBJECT_PREFIX}${String(message.subject ?? '')}`;
  const headers = { ...((message.headers ?? {}) as Record<string, string>), [TEST_HEADER]: what };
  const { sendAt: _sendAt, idempotencyKey: _key, ...rest } = message;
  // A test copy is not list mail: no unsubscribe link (the preview has no unsubscribe settings to sign one with).
  return composeMail({ ...rest, to, cc: undefined, bcc: undefined, envelope: undefined, subject, headers }, { unsubscribe: false });
}

/**
 * A stored message's test copy: its exact bytes, with the marker header added and the
 * subject prefixed, to the typed address (the stored recipients never see it).
 */
export function rawTestCopy(raw: Buffer, what: string, messageId: string): Buffer {
  const text = raw.toString('latin1'); // bytes kept as they are: only ASCII header names and a prefix are added
  const end = text.search(/\r?\n\r?\n/);
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end);
  const subject = /^Subject:[ \t]?/im;
  // A Message-ID of its own: a client that has the original would otherwise take the copy for it.
  const withId = head.replace(/^Message-ID:[^\r\n]*(\r?\n[ \t][^\r\n]*)*/im, `Message-ID: ${messageId}`);
  const marked = subject.test(withId) ? withId.replace(subject, (m) => `${m}${TEST_SUBJECT_PREFIX}`) : `Subject: ${TEST_SUBJECT_PREFIX.trim()}\r\n${withId}`;
  return Buffer.from(`${TEST_HEADER}: ${what.replace(/[^\x20-\x7e]/g, '?')}\r\n${marked}${body}`, 'latin1');
}

/** Sends a composed test copy now: recorded in the outbox (and tried at once) when there is a database, else straight over SMTP. */
export async function sendTest(db: Db | undefined, smtp: Transporter, message: ComposedMessage): Promise<{ id?: number; state: string; error?: string }> {
  if (db) {
    const sent = await queueAndSendNow(db, message, {}, smtp);
    return { id: sent.queued.id, state: sent.state, error: sent.delivery && 'error' in sent.delivery ? String((sent.delivery as { error?: unknown }).error ?? '') : undefined };
  }
  await smtp.sendMail({ envelope: message.envelope, raw: message.raw });
  return { state: 'sent' };
}
