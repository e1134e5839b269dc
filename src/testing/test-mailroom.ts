import nodemailer, { type Transporter } from 'nodemailer';
import { and, inArray, lte, sql } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { createQueueTransport, type QueuedInfo } from '../transport/queue-transport.js';
import type { UnsubscribeOptions } from '../unsubscribe/headers.js';
import { dbOf, openDatabase, type Database, type Db, type DrizzleDb } from '../store/database.js';
import { migrateMailroom } from '../store/migrations.js';
import { messages, type MessageState } from '../store/schema.js';
import { WAITING_STATES } from '../store/states.js';
import { drain, type DrainResult } from '../drain/drain.js';
import { createSmtpTransport } from '../drain/smtp.js';
import { loadOptional } from '../optional.js';
import { ConfigError } from '../errors.js';
import { startCapture, type SmtpCapture } from './capture.js';
import { giveBack, takeEmbedded, type Embedded } from './embedded.js';
import { truncateAll, truncateMailroom } from './reset.js';
import { listMessages, recordedFor, type QueuedMail } from './queued.js';
import { matches, describeFilter, viewName, type MailFilter, type ViewClass } from './filter.js';
import { explain, hintFor, type Seen } from './explain.js';
import type { SentMail } from './parsed-mail.js';

export interface TestMailroomOptions {
  /**
   * The database to queue on. Default: an in-memory embedded database (PGlite) with
   * mailroom's tables, for this test mailroom alone. Or the app's own test database: a
   * `postgres://` URL (opened and migrated here) or a Drizzle db (migrated, left open).
   */
  database?: string | DrizzleDb | Database;
  /**
   * `now`-priority messages go out at once through the capture, as with `smtp` set in
   * production. Default false: they are queued (as `high`) like the rest, for deliverAll().
   */
  sendNow?: boolean;
  /**
   * The queue transport's one-click unsubscribe settings, as the app gives them in
   * production. Default: a stand-in (`https://unsubscribe.mailroom.test/`, a fixed test
   * secret), so a topic's messages carry List-Unsubscribe as they will when sent, and, as in
   * production with unsubscribe settings, a topic's message to several recipients is refused
   * (its link can be only one recipient's); `false` as in an app that sends its bulk mail without.
   */
  unsubscribe?: UnsubscribeOptions | false;
}

/** The unsubscribe settings a test mailroom signs with unless given its own. */
export const TEST_UNSUBSCRIBE: UnsubscribeOptions = { url: 'https://unsubscribe.mailroom.test/', secrets: 'mailroom-testing-secret-not-for-production' };

/** An expectation: a filter, and optionally how many messages must match. */
export interface Expectation extends Omit<MailFilter, 'view'> {
  /** Exactly this many must match (default: at least one). */
  count?: number;
}

export interface TestMailroom {
  /** The queue transport: hand it to the app as its nodemailer transporter. */
  readonly transporter: Transporter<QueuedInfo>;
  /** A Drizzle db on the same database: the app's own tables and transactions. */
  readonly database: Db;
  /** The capture's SMTP URL, for code that sends over SMTP itself. */
  readonly smtpUrl: string;
  /**
   * Messages still to be sent, oldest first: `queued` (due or scheduled), `deferred` (a 4xx,
   * to be retried) and `sending`. A message leaves this list once sent (see `sent()`) or
   * failed for good (see `failed()`); each has its `state`.
   */
  queued(filter?: MailFilter): Promise<QueuedMail[]>;
  /** Messages that failed for good (a 5xx, or out of attempts), oldest first, with `lastError`. */
  failed(filter?: MailFilter): Promise<QueuedMail[]>;
  /** Runs the real drain into the capture; with `now`, first makes due whatever is due by then (scheduled or deferred). */
  deliverAll(options?: { now?: Date }): Promise<DrainResult>;
  /** Messages the capture received, in arrival order. */
  sent(filter?: MailFilter): Promise<SentMail[]>;
  /** The last message sent to this address (To, Cc or Bcc). */
  lastTo(address: string): Promise<SentMail | undefined>;
  expectQueued(view?: ViewClass | string | null, expectation?: Expectation): Promise<QueuedMail>;
  expectSent(view?: ViewClass | string | null, expectation?: Expectation): Promise<SentMail>;
  expectNothingQueued(): Promise<void>;
  expectNothingSent(): Promise<void>;
  /** The capture answers RCPT TO for `address` with `code` (4xx: the message is deferred; 5xx: it fails for that address). */
  reject(address: string, code: number, message?: string): void;
  /** Empties the queue and the capture and forgets rejections; on the in-memory database, every table. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const loadParser = () => loadOptional(() => import('mailparser'), 'mailroom/testing', ['mailparser']);

/**
 * A real queue for an app's tests: mailroom's own tables and code paths, an in-process
 * SMTP capture standing in for the mail server, and expectations that say what was
 * queued and sent when they fail.
 */
export async function createTestMailroom(options: TestMailroomOptions = {}): Promise<TestMailroom> {
  const { simpleParser } = await loadParser();
  const parse = (raw: Buffer): Promise<ParsedMail> => simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  // The capture starts while the database is taken (and emptied) or opened.
  const capturing = startCapture();
  capturing.catch(() => {}); // awaited below; a failure to open the database comes first
  let embedded: Embedded | undefined;
  let opened: Database | undefined;
  let db: Db;
  let capture: SmtpCapture;
  try {
    if (options.database === undefined) {
      embedded = await takeEmbedded();
      db = embedded.db;
    } else if (typeof options.database === 'string') {
      opened = await openDatabase(options.database, { migrate: true, max: 4 });
      db = opened.db;
    } else {
      db = dbOf(options.database);
      await migrateMailroom(db);
    }
    capture = await capturing;
  } catch (error) {
    if (embedded) giveBack(embedded);
    await opened?.close();
    await capturing.then((c) => c.close(), () => {});
    throw error;
  }
  const transporter = nodemailer.createTransport(createQueueTransport({ database: db, smtp: options.sendNow ? capture.url : undefined, unsubscribe: options.unsubscribe ?? TEST_UNSUBSCRIBE }));
  let smtp: Transporter | undefined;
  let closed = false;

  const list = (states: MessageState[]) => async (filter?: MailFilter) => (await listMessages(db, parse, states)).filter((m) => matches(m, filter));
  const queued = list([...WAITING_STATES, 'sending']);
  const failed = list(['failed']);
  /** Fills in the view and priority the queue recorded for messages received since. */
  const sent = async (filter?: MailFilter) => {
    const unknown = capture.messages.filter((m) => m.priority === null && m.messageId);
    if (unknown.length) {
      const recorded = await recordedFor(db, unknown.map((m) => m.messageId));
      for (const m of unknown) Object.assign(m, recorded.get(m.messageId) ?? {});
    }
    return capture.messages.filter((m) => matches(m, filter));
  };
  const seen = async (): Promise<Seen> => ({ queued: await queued(), sent: await sent(), failed: await failed() });
  const check = (view: ViewClass | string | null | undefined, expectation: Expectation = {}, name: string) => {
    if (view !== undefined && view !== null && typeof view !== 'string' && typeof view !== 'function') {
      throw new TypeError(`${name}(view, { to, … }): the first argument is a mail view class (or its name, or null for any), got ${typeof view}.`);
    }
    const { count, ...rest } = expectation;
    return { filter: { ...rest, ...(view ? { view: viewName(view) } : {}) } as MailFilter, count };
  };
  const expectation = async <T extends QueuedMail | SentMail>(kind: 'queued' | 'sent', found: T[], filter: MailFilter, count: number | undefined, name: string): Promise<T> => {
    if (count === undefined ? found.length > 0 : found.length === count) return found[0]!;
    const all = await seen();
    const wanted = count === undefined ? `a ${kind} ${describeFilter(filter)}` : `${count} ${kind} ${describeFilter(filter)}${count === 1 ? '' : 's'}`;
    throw explain(`${name}: expected ${wanted}, found ${found.length}.`, all, hintFor(kind, filter, all));
  };

  return {
    transporter,
    database: db,
    smtpUrl: capture.url,
    queued,
    failed,
    sent,
    async deliverAll({ now } = {}) {
      if (now !== undefined) {
        if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new ConfigError('deliverAll({ now }): now must be a valid Date.');
        // The drain compares with the database's clock: what is due by `now` is made due now.
        await db
          .update(messages)
          .set({ nextAttemptAt: sql`now()` })
          .where(and(inArray(messages.state, [...WAITING_STATES]), lte(messages.nextAttemptAt, now)));
      }
      smtp ??= createSmtpTransport(capture.url, { concurrency: 2 });
      return drain(db, { smtp, concurrency: 2 });
    },
    async lastTo(address) {
      return (await sent({ to: address })).at(-1);
    },
    async expectQueued(view, expected) {
      const { filter, count } = check(view, expected, 'expectQueued');
      return expectation('queued', await queued(filter), filter, count, 'expectQueued');
    },
    async expectSent(view, expected) {
      const { filter, count } = check(view, expected, 'expectSent');
      return expectation('sent', await sent(filter), filter, count, 'expectSent');
    },
    async expectNothingQueued() {
      const all = await seen();
      if (all.queued.length) throw explain(`expectNothingQueued: expected no queued message, found ${all.queued.length}.`, all);
    },
    async expectNothingSent() {
      const all = await seen();
      if (all.sent.length) throw explain(`expectNothingSent: expected no sent message, found ${all.sent.length}.`, all);
    },
    reject(address, code, message) {
      if (!Number.isInteger(code) || code < 400 || code > 599) throw new ConfigError(`reject(${JSON.stringify(address)}, ${code}): the code must be a 4xx (deferred) or 5xx (failed) SMTP reply code.`);
      capture.faults.set(address.toLowerCase(), { code, message: message ?? (code < 500 ? 'Mailbox busy, try again later (mailroom/testing)' : 'No such user (mailroom/testing)') });
    },
    async reset() {
      capture.messages.length = 0;
      capture.faults.clear();
      await (embedded ? truncateAll(db) : truncateMailroom(db));
    },
    async close() {
      if (closed) return;
      closed = true;
      transporter.close();
      smtp?.close();
      await capture.close();
      if (embedded) giveBack(embedded);
      await opened?.close();
    },
  };
}
