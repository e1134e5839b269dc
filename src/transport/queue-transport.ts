import type { SendMailOptions, Transport, Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { MailMessage } from 'nodemailer/lib/mailer';
import { DEFAULT_DATABASE, dbOf, resolveDatabase, type Database, type Db, type DrizzleDb } from '../store/database.js';
import { enqueue, type Enqueued } from '../store/enqueue.js';
import { enqueueMany, type BulkItem, type BulkOptions } from '../store/bulk.js';
import { enqueueGrouped } from '../store/group-commit.js';
import { compose, composeMail, unsubscribeOf, type ComposedMessage, type ComposeOptions } from './compose.js';
import type { UnsubscribeOptions } from '../unsubscribe/headers.js';
import { checkReturnPath } from '../bounces/return-path.js';
import { contentPolicy, type ContentAccess } from './content-access.js';
import type { Limits } from './validate.js';
import type { NowSmtp } from '../drain/now-transport.js';
import type { DkimKey } from '../drain/dkim.js';
import { NOW_TIMEOUT_MS, checkNowTimeout, nowTransport } from '../drain/now-transport.js';
import type { Priority } from '../views/priority.js';
import type { MailroomMessageOptions } from '../views/message-options.js';
import { markSuppressed, suppressedAmong, suppressedIn, suppressedRecipients, suppressionReply, type SuppressedAtEnqueue, type SuppressedRecipient } from '../store/suppressions.js';
import { ConfigError, SuppressedRecipientError } from '../errors.js';
import { traceEnqueue } from '../tracing/spans.js';
import { withTraceparent } from '../tracing/traceparent.js';

/** The name nodemailer reports for this transport. */
export const QUEUE_TRANSPORT_NAME = 'mailroom-queue';

/** Where the queue transport stores messages, and where `now` messages go at once. */
export interface QueueTransportOptions {
  /** A URL (`postgres://…`, `file:PATH`), an open Database, or a Drizzle db/transaction. Default: the embedded `.mailroom/db`. */
  database?: string | Database | DrizzleDb;
  /**
   * Where `now` messages go at once: an SMTP URL, several (`'smtp://a,smtp://b'` or an array:
   * failover in that order, as `mailroom send --smtp`), `{ routes, default }` by sender
   * domain, nodemailer SMTP options, or a transporter.
   */
  smtp?: NowSmtp;
  /** DKIM keys (`loadDkimKeys` from `mailroom/drain`) to sign `now` messages with, as the drain's `--dkim` signs the rest. */
  dkim?: readonly DkimKey[];
  /** Longest a `now` send holds the caller, in ms (default 10 s); then it is left queued as high. */
  nowTimeout?: number;
  limits?: Partial<Limits>;
  /** Files and URLs a message may name as content (`path`, `href`): none unless allowed here. */
  contentAccess?: ContentAccess;
  /**
   * A recipient on the suppression list, at enqueue: `drain` (default) stores the message
   * and the drain skips that recipient, saying why; `refuse` throws SuppressedRecipientError
   * and stores nothing; `store` stores it with that recipient already failed (the whole
   * message failed when no one is left), so the record shows it was never sent.
   */
  suppressed?: SuppressedAtEnqueue;
  /**
   * One-click unsubscribe (RFC 8058): messages with a topic (a view's `topic`, `BulkMail`)
   * get List-Unsubscribe and List-Unsubscribe-Post headers with a signed per-recipient link
   * to `url`, where the app mounts `unsubscribeHandler` from `mailroom/unsubscribe`. Without
   * these options a topic's message is refused (ConfigError) unless it sets its own
   * List-Unsubscribe; `false` sends such mail without the headers, on purpose.
   */
  unsubscribe?: UnsubscribeOptions | false;
  /** VERP: each message's envelope sender becomes `bounces+TOKEN@…` of this address (see `mailroom bounces`). */
  returnPath?: string;
}

/** What `sendMail` resolves with through the queue transport. */
export interface QueuedInfo extends Enqueued {
  envelope: { from: string; to: string[] };
  priority: Priority;
  /** Addresses accepted by SMTP when a `now` message went out at once. */
  accepted: string[];
  rejected: string[];
  response: string;
}

/** A message through the queue transport: nodemailer's options plus mailroom's (views/message-options.ts). */
export type QueueMailOptions = SendMailOptions & MailroomMessageOptions;

/** Any mailroom-aware holder of a database connection, opened lazily on first send. */
class Connection {
  private opened?: Promise<{ db: Db; close?: () => Promise<void> }>;
  constructor(private readonly source: QueueTransportOptions['database']) {}

  get(): Promise<{ db: Db; close?: () => Promise<void> }> {
    this.opened ??= resolveDatabase(this.source ?? DEFAULT_DATABASE);
    return this.opened;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    const { close } = await this.opened;
    this.opened = undefined;
    await close?.();
  }
}

/**
 * Stores a composed message; a `now` one with an SMTP server to go to is sent at once
 * (the drain's "send now"), and without one waits as the most urgent queued priority.
 */
function queueMessage(
  db: Db,
  message: ComposedMessage,
  data: QueueMailOptions,
  smtp: (() => Promise<Transporter>) | undefined,
  nowTimeout = NOW_TIMEOUT_MS,
  store = enqueue,
  suppressed: SuppressedAtEnqueue = 'drain',
): Promise<QueuedInfo> {
  // Under the app's tracer, if it has one: the span's traceparent is kept with the message for the drain's span to link to.
  const facts = { view: data.view, priority: message.priority, recipients: message.envelope.to.length };
  return traceEnqueue(facts, (traceparent) =>
    queueComposed(db, traceparent === undefined ? message : { ...message, raw: withTraceparent(message.raw, traceparent) }, data, smtp, nowTimeout, store, suppressed),
  );
}

async function queueComposed(
  db: Db,
  message: ComposedMessage,
  data: QueueMailOptions,
  smtp: (() => Promise<Transporter>) | undefined,
  nowTimeout: number,
  store: typeof enqueue,
  suppressed: SuppressedAtEnqueue,
): Promise<QueuedInfo> {
  const options = { idempotencyKey: data.idempotencyKey, sendAt: data.sendAt, view: data.view };
  const hits = suppressed === 'drain' ? [] : await suppressedRecipients(db, message.envelope.to, message.topic);
  if (hits.length > 0 && suppressed === 'refuse') throw refusal(hits);
  const info = (queued: Enqueued): QueuedInfo => ({
    ...queued,
    envelope: message.envelope,
    priority: message.priority,
    accepted: [],
    rejected: [],
    response: queued.duplicate ? 'duplicate idempotency key: already queued' : 'queued',
  });
  if (message.priority !== 'now' || smtp === undefined) {
    const stored = message.priority === 'now' ? { ...message, priority: 'high' as const } : message;
    const queued = await store(db, stored, options);
    if (hits.length === 0 || queued.duplicate) return info(queued);
    await markSuppressed(db, queued.id, message.envelope.to, hits);
    const all = hits.length === message.envelope.to.length;
    return { ...info(queued), ...(all ? { state: 'failed' as const } : {}), rejected: hits.map((h) => h.address), response: all ? 'stored, not sent: every recipient is suppressed' : 'queued; suppressed recipients skipped' };
  }
  // Loaded at the first `now` send: most apps never send one, and it is the delivery code.
  const { queueAndSendNow } = await import('../drain/send-now.js');
  const { queued, delivery, state } = await queueAndSendNow(db, message, options, await smtp(), nowTimeout);
  if (queued.duplicate) return info(queued);
  if (!delivery) return { ...info(queued), state, response: `no answer within ${nowTimeout} ms: left to the queue` };
  return {
    ...info(queued),
    state,
    accepted: Object.keys(delivery.status).filter((r) => delivery.status[r]?.state === 'sent'),
    rejected: Object.keys(delivery.status).filter((r) => delivery.status[r]?.state !== 'sent'),
    response: delivery.reply,
  };
}

/** `suppressed: 'refuse'`: the error naming every suppressed recipient and how to go on. */
function refusal(hits: SuppressedRecipient[], where = ''): SuppressedRecipientError {
  const list = hits.map((h) => `${h.address} (${suppressionReply(h.row)})`).join(', ');
  return new SuppressedRecipientError(
    `Not queued${where}: ${list} ${hits.length === 1 ? 'is' : 'are'} on the suppression list. Remove ${hits.length === 1 ? 'it' : 'them'} from the message, or lift it with \`mailroom suppress remove\`.`,
    hits.map((h) => ({ address: h.address, topic: h.row.topic, reason: h.row.reason })),
  );
}

function checkSuppressedMode(mode: unknown): SuppressedAtEnqueue {
  if (mode === undefined) return 'drain';
  if (mode === 'drain' || mode === 'refuse' || mode === 'store') return mode;
  throw new ConfigError(`"suppressed" must be "drain", "refuse" or "store", got ${JSON.stringify(mode)}.`);
}

/**
 * A nodemailer transport that queues instead of sending:
 * `nodemailer.createTransport(createQueueTransport({ database }))`.
 * `now` messages are tried at once through `smtp` and stay queued (as high) if that fails.
 */
export function createQueueTransport(options: QueueTransportOptions = {}): Transport<QueuedInfo> {
  const connection = new Connection(options.database);
  const nowTimeout = checkNowTimeout(options.nowTimeout);
  const suppressed = checkSuppressedMode(options.suppressed);
  contentPolicy(options.contentAccess); // a bad policy fails here, not on the first send
  let mailer: Mail<QueuedInfo> | undefined;
  const composing: ComposeOptions = { limits: options.limits, contentAccess: options.contentAccess, unsubscribe: options.unsubscribe, returnPath: options.returnPath };
  if (options.returnPath !== undefined) checkReturnPath(options.returnPath);
  unsubscribeOf(composing); // bad unsubscribe options (or no secret) fail here, not on the first send
  let smtp: Promise<Transporter> | undefined;
  const smtpFactory = options.smtp ? () => (smtp ??= nowTransport(options.smtp!, nowTimeout, options.dkim)) : undefined;
  return {
    name: QUEUE_TRANSPORT_NAME,
    version: '0.1.0',
    send(mail: MailMessage<QueuedInfo>, callback) {
      connection
        .get()
        .then(async ({ db }) => {
          const data = mail.data as QueueMailOptions;
          // Concurrent sends share a commit (store/group-commit.ts); enqueueMail(tx, …) does not.
          return queueMessage(db, await compose(mail.message, data, composing), data, smtpFactory, nowTimeout, enqueueGrouped, suppressed);
        })
        .then((info) => callback(null, info), (error: Error) => callback(error as never));
    },
    close() {
      smtp?.then((t) => t.close(), () => {}); // a transport that failed to build has nothing to close
      return connection.close();
    },
    // nodemailer sets this when the transport is created. Its own steps before send() (the
    // attachDataUrls plugin, the app's plugins) read files and URLs too: close them to it,
    // as its documented disableFileAccess/disableUrlAccess defaults do; compose() reads
    // what contentAccess allows.
    get mailer() {
      return mailer;
    },
    set mailer(value: Mail<QueuedInfo> | undefined) {
      mailer = value;
      const internal = value as unknown as { _defaults?: Record<string, unknown> } | undefined;
      if (internal) internal._defaults = { ...internal._defaults, disableFileAccess: true, disableUrlAccess: true };
    },
  } as Transport<QueuedInfo>;
}

/**
 * Queues a message on the given Drizzle database or transaction, without a transporter:
 * call it inside the app's own `db.transaction(...)` so the email exists only if it commits.
 */
export async function enqueueMail(
  db: DrizzleDb | Database,
  data: QueueMailOptions,
  options: ComposeOptions & Pick<QueueTransportOptions, 'suppressed'> = {},
): Promise<QueuedInfo> {
  const suppressed = checkSuppressedMode(options.suppressed);
  return queueMessage(dbOf(db), await composeMail(data, options), data, undefined, NOW_TIMEOUT_MS, enqueue, suppressed);
}

/**
 * `enqueueMany` for nodemailer messages (e.g. `view.toMessage(...)` results): each is
 * validated and built once, like the queue transport does, then all are stored together.
 * A `now` message is queued first in line but not tried at once.
 */
export async function enqueueMailMany(
  db: DrizzleDb | Database,
  mails: QueueMailOptions[],
  options: BulkOptions & ComposeOptions & Pick<QueueTransportOptions, 'suppressed'> = {},
): Promise<Enqueued[]> {
  const suppressed = checkSuppressedMode(options.suppressed);
  const items: BulkItem[] = [];
  for (const data of mails) {
    const message = await composeMail(data, options);
    items.push({ message, idempotencyKey: data.idempotencyKey, sendAt: data.sendAt, view: data.view });
  }
  if (suppressed === 'drain') return enqueueMany(db, items, options);
  // One query for every recipient of the batch; a refusal stores none of it.
  const among = await suppressedAmong(dbOf(db), items.flatMap((item) => item.message.envelope.to));
  const hits = items.map((item) => suppressedIn(among, item.message.envelope.to, item.message.topic));
  const first = hits.findIndex((h) => h.length > 0);
  if (first >= 0 && suppressed === 'refuse') throw refusal(hits.flat(), ` (message ${first + 1} of ${items.length}; none of the ${items.length} was stored)`);
  const queued = await enqueueMany(db, items, options);
  for (const [i, row] of queued.entries()) {
    const found = hits[i]!;
    if (found.length === 0 || row.duplicate) continue;
    const to = items[i]!.message.envelope.to;
    await markSuppressed(dbOf(db), row.id, to, found);
    if (found.length === to.length) queued[i] = { ...row, state: 'failed' };
  }
  return queued;
}
