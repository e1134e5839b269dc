import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import MailMessage from 'nodemailer/lib/mailer/mail-message';
import type MimeNode from 'nodemailer/lib/mime-node';
import { PRIORITY_HEADER, parsePriority, type Priority } from '../views/priority.js';
import { TOPIC_HEADER, parseTopic } from '../views/topic.js';
import type { MailroomMessageOptions } from '../views/message-options.js';
import { ConfigError } from '../errors.js';
import { validateEnvelope, validateMessage, type Limits, DEFAULT_LIMITS } from './validate.js';
import { buildRaw } from './build-raw.js';
import { contentPolicy, type ContentAccess, type ContentPolicy } from './content-access.js';
import { loadContent } from './content-parts.js';
import { withoutBcc } from './raw-bcc.js';
import { checkReturnPath, verpAddress } from '../bounces/return-path.js';
import { unsubscribeHeaders, unsubscribeSettings, type UnsubscribeOptions, type UnsubscribeSettings } from '../unsubscribe/headers.js';

/** A message ready to store: built once, so every retry sends these exact bytes. */
export interface ComposedMessage {
  messageId: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
  subject: string;
  from: string;
  priority: Priority;
  /** The bulk topic (`queueTopic`, a view's `topic`, or the topic header), null for transactional mail. */
  topic: string | null;
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

/** What a message may read while it is composed, and how large it may be. */
export interface ComposeOptions {
  limits?: Partial<Limits>;
  /** Files and URLs the message may name as content: none unless given (see ContentAccess). */
  contentAccess?: ContentAccess;
  /**
   * One-click unsubscribe links on messages that have a topic. Required for them (Gmail and
   * Yahoo require one-click unsubscribe of bulk senders), unless the message sets its own
   * List-Unsubscribe or this is `false`: a topic's message is refused without one.
   */
  unsubscribe?: UnsubscribeOptions | false;
  /**
   * VERP: each message's envelope sender becomes `local+TOKEN@domain` of this address (e.g.
   * `bounces@example.com`), so `mailroom bounces` maps a bounce back to its message. Mail to
   * those addresses must reach that command (e.g. a Postfix pipe, or a mailbox it reads).
   */
  returnPath?: string;
}

const checkedUnsubscribe = new WeakMap<UnsubscribeOptions, UnsubscribeSettings>();
/** The unsubscribe options checked once per options object (a transport's, or a bulk call's). */
export function unsubscribeOf(options: ComposeOptions): UnsubscribeSettings | undefined {
  const given = options.unsubscribe;
  if (!given) return undefined;
  let settings = checkedUnsubscribe.get(given);
  if (!settings) checkedUnsubscribe.set(given, (settings = unsubscribeSettings(given)));
  return settings;
}

/**
 * Validates, reads the priority (the `queuePriority` option, else the header, which is removed), fixes the Message-ID, reads the
 * content that is not in memory (files and URLs only as `contentAccess` allows) and
 * builds the RFC 822 bytes from a compiled nodemailer MimeNode.
 */
export async function compose(node: MimeNode, data: SendMailOptions, options: ComposeOptions = {}): Promise<ComposedMessage> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  validateMessage(data, limits);
  return build(node, data, limits, contentPolicy(options.contentAccess), unsubscribing(options), options.returnPath);
}

/** `compose` for plain message options, which no transporter has compiled (bulk, `enqueueMail`). */
export async function composeMail(data: SendMailOptions, options: ComposeOptions = {}): Promise<ComposedMessage> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const policy = contentPolicy(options.contentAccess);
  validateMessage(data, limits); // before nodemailer compiles it, which throws its own errors on some bad input
  const node = new MailComposer(data).compile();
  withListHeaders(node, data);
  return build(node, data, limits, policy, unsubscribing(options), options.returnPath);
}

/**
 * nodemailer's `list` option (`list: { unsubscribe: … }`) becomes List-* headers in its
 * mailer, not in MailComposer: written here the same way, so `enqueueMail` keeps them as a
 * transporter's `sendMail` does.
 */
function withListHeaders(node: MimeNode, data: SendMailOptions): void {
  if (!data.list || typeof data.list !== 'object') return;
  const message = new MailMessage({ options: {}, _defaults: {} } as never, data);
  message.message = node;
  message.setListHeaders();
}

/** The checked settings, `false` when the app sends bulk mail without them on purpose, undefined when it gave none. */
const unsubscribing = (options: ComposeOptions): UnsubscribeSettings | false | undefined => (options.unsubscribe === false ? false : unsubscribeOf(options));

async function build(node: MimeNode, data: SendMailOptions, limits: Limits, policy: ContentPolicy, unsubscribe: UnsubscribeSettings | false | undefined, returnPath?: string): Promise<ComposedMessage> {
  const options = data as MailroomMessageOptions;
  const priority = parsePriority(options.queuePriority ?? node.getHeader(PRIORITY_HEADER));
  stampScheduledDate(node, options.sendAt);
  node.setHeader(PRIORITY_HEADER, ''); // an empty header is not written: it never reaches the wire
  const topic = parseTopic(options.queueTopic ?? node.getHeader(TOPIC_HEADER));
  node.setHeader(TOPIC_HEADER, '');
  const envelope = validateEnvelope(node.getEnvelope());
  // A topic's message carries its recipient's one-click link, unless the app wrote its own.
  if (topic && !node.getHeader('List-Unsubscribe')) {
    if (unsubscribe === undefined) throw noUnsubscribe(topic);
    if (unsubscribe) for (const [key, value] of Object.entries(unsubscribeHeaders(unsubscribe, envelope.to, topic))) node.setHeader(key, value);
  }
  const messageId = node.messageId();
  if (returnPath) envelope.from = verpAddress(checkReturnPath(returnPath), messageId);
  await loadContent(node, data, policy, limits);
  const raw = (node as unknown as { _raw?: Buffer | string })._raw;
  if (raw) node.setRaw(withoutBcc(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)));
  // Everything is in memory now; should anything have been missed, nodemailer's build refuses it.
  node.disableFileAccess = true;
  node.disableUrlAccess = true;
  return {
    messageId,
    envelope,
    raw: await buildRaw(node),
    subject: headerText(data.subject),
    from: headerText(data.from),
    priority,
    topic,
  };
}

/**
 * RFC 5322 §3.6.1: Date is when the message was "complete and ready to enter the mail
 * delivery system". A message with a future `sendAt` enters it then, and mail clients sort
 * and show it by Date: stamped at queueing, a Monday newsletter written on Friday would sit
 * under Friday. So it is dated `sendAt`, in the stored bytes, so the outbox shows what goes
 * out and every attempt sends the same bytes. Retries keep their Date, as any MTA's queue
 * does (the delay shows in Received headers). A Date the app set (`date`) is kept.
 */
function stampScheduledDate(node: MimeNode, sendAt: unknown): void {
  if (!(sendAt instanceof Date) || !(sendAt.getTime() > Date.now()) || node.getHeader('Date')) return;
  node.setHeader('Date', sendAt);
}

/**
 * Bulk mail without one-click unsubscribe is what gets a sender's mail filtered (Gmail's
 * and Yahoo's rules for bulk senders since 2024), and nothing at send time shows it is
 * missing: so it is refused until the app says how it unsubscribes.
 */
function noUnsubscribe(topic: string): ConfigError {
  return new ConfigError(
    `A message of topic "${topic}" would go out without List-Unsubscribe: give the queue transport (or enqueueMail/enqueueMailMany) ` +
      `unsubscribe: { url } (where unsubscribeHandler from mailroom/unsubscribe is mounted), set a List-Unsubscribe header yourself, ` +
      `or pass unsubscribe: false to send this topic's mail without one.`,
  );
}
