import { sql, type SQL } from 'drizzle-orm';
// drizzle-orm/pg-core's own subpaths, not its index: the index also loads Drizzle's query
// builders, dialect and session (~35 ms at import), which the app's driver brings when it
// opens a database; defining the tables needs only these three.
import { pgTable } from 'drizzle-orm/pg-core/table';
import { bigserial, bigint, text, integer, smallint, timestamp, jsonb, customType, pgEnum } from 'drizzle-orm/pg-core/columns';
import type { AnyPgColumn } from 'drizzle-orm/pg-core/columns';
import { index, uniqueIndex } from 'drizzle-orm/pg-core/indexes';
import { primaryKey } from 'drizzle-orm/pg-core/primary-keys';

/** The finished RFC 822 message: a Buffer from postgres.js and mailroom's PGlite, a Uint8Array from an app's own PGlite. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
});

/**
 * A message's life: `queued` (waiting for its time), `sending` (claimed by a drain, under a
 * lease), `deferred` (a temporary failure, retried with backoff), `sent` and `failed` (final).
 */
export const MESSAGE_STATES = ['queued', 'sending', 'deferred', 'sent', 'failed'] as const;
/** One of MESSAGE_STATES. */
export type MessageState = (typeof MESSAGE_STATES)[number];
export const messageState = pgEnum('mailroom_message_state', MESSAGE_STATES);

/**
 * Messages not yet done: the due index's predicate. Queries repeat it word for word so
 * the planner can use that index (and its statistics: see drain/statistics.ts).
 */
export const LIVE_STATE = sql`state in ('queued', 'deferred', 'sending')`;

/** Finished messages: the purge index's predicate, repeated word for word by purge so the planner uses it. */
export const FINISHED_STATE = sql`state in ('sent', 'failed')`;

/** Per-recipient outcome, so a retry never resends to an address that already accepted. */
export type RecipientStatus = Record<string, { state: 'sent' | 'deferred' | 'failed'; reply?: string }>;

/**
 * One row per email (`mailroom_messages`): what will be sent (raw message + envelope), where
 * it is in its life (state, attempts, next attempt, lease) and a few columns copied out of
 * the message for listing and searching without parsing it. Read it freely; change rows
 * through the CLI (`retry`, `purge`) so the drain's leases and attempt counts stay true.
 */
/**
 * The first recipient's domain, lower-cased: what per-domain throttles count a message under
 * (drain/domain-throttle.ts). Written the same way wherever it is used, so the planner
 * matches the indexes on it.
 */
export function domainOf(recipients: AnyPgColumn): SQL<string | null> {
  return sql<string | null>`lower(substring(${recipients}[1] from '[^@]*$'))`;
}

export const messages = pgTable(
  'mailroom_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: text('message_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    state: messageState('state').notNull().default('queued'),
    /** 0 now, 1 high, 2 normal, 3 low: claimed in this order. */
    priority: smallint('priority').notNull().default(2),
    subject: text('subject').notNull().default(''),
    fromAddress: text('from_address').notNull().default(''),
    envelopeFrom: text('envelope_from').notNull().default(''),
    recipients: text('recipients').array().notNull(),
    recipientStatus: jsonb('recipient_status').$type<RecipientStatus>().notNull().default({}),
    raw: bytea('raw').notNull(),
    size: integer('size').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sendAt: timestamp('send_at', { withTimezone: true }).notNull().defaultNow(),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** The mail view that built the message (its class name), null for plain nodemailer messages. */
    view: text('view'),
    /** The topic (list) a bulk message belongs to (MailView.topic), null for transactional mail: suppressions may be per topic. */
    topic: text('topic'),
  },
  (t) => [
    uniqueIndex('mailroom_messages_idempotency_key_idx').on(t.idempotencyKey),
    // The claim query's path: only live rows, in the order they are sent.
    index('mailroom_messages_due_idx')
      .on(t.priority, t.id)
      .where(LIVE_STATE),
    index('mailroom_messages_state_idx').on(t.state, t.id),
    // Purge's path: finished messages by when they finished (its predicate written as purge writes it).
    index('mailroom_messages_finished_idx').on(t.updatedAt).where(FINISHED_STATE),
    // Throttles: messages in flight per domain (a handful of rows), and whether a held domain has mail waiting.
    // Indexes on the expression, not a stored column: adding a generated column rewrites the
    // whole table under an exclusive lock, minutes of blocked enqueues on a large queue.
    index('mailroom_messages_sending_domain_idx').on(domainOf(t.recipients)).where(sql`state = 'sending'`),
    index('mailroom_messages_domain_due_idx').on(domainOf(t.recipients), t.priority, t.id).where(LIVE_STATE),
  ],
);

/** A message's recipient domain in queries: `domainOf` over the messages table. */
export const recipientDomain = domainOf(messages.recipients);

/**
 * Per recipient domain state shared by every drain (`mailroom_domains`): when the next
 * message may start under its rate (`next_at`), and its back-off after "try later"
 * replies (`backoff_until`, `backoff_step`: 0 when none). Rows appear as domains are
 * throttled; a success resets the back-off.
 */
export const domains = pgTable('mailroom_domains', {
  domain: text('domain').primaryKey(),
  nextAt: timestamp('next_at', { withTimezone: true }),
  backoffUntil: timestamp('backoff_until', { withTimezone: true }),
  backoffStep: integer('backoff_step').notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One row per delivery attempt (`mailroom_attempts`), keeping the SMTP reply (cleaned, at most 512 characters); deleted with its message. */
export const attempts = pgTable(
  'mailroom_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome').$type<'sent' | 'deferred' | 'failed'>().notNull(),
    smtpCode: integer('smtp_code'),
    reply: text('reply').notNull().default(''),
    recipients: text('recipients').array().notNull(),
    worker: text('worker'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('mailroom_attempts_message_idx').on(t.messageId, t.id), index('mailroom_attempts_finished_idx').on(t.finishedAt)],
);

/**
 * The blocklist before suppressions (`mailroom_blocklist`): migration 0004 copied its rows into
 * `suppressions` (scope everything, reason `manual`); nothing reads it any more. Kept so an
 * app's queries of it still run; blockAddress and `mailroom block` now write suppressions.
 */
export const blocklist = pgTable('mailroom_blocklist', {
  address: text('address').primaryKey(),
  reason: text('reason').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Why an address is suppressed. */
export const SUPPRESSION_REASONS = ['unsubscribed', 'hard-bounce', 'complaint', 'manual'] as const;
/** One of SUPPRESSION_REASONS. */
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * Addresses not to be mailed (`mailroom_suppressions`): lower-cased, either for every
 * message (`topic` is '') or for one topic's (bulk) messages only. Checked by the drain for
 * each recipient (and at enqueue when the app asks); see store/suppressions.ts.
 */
export const suppressions = pgTable(
  'mailroom_suppressions',
  {
    address: text('address').notNull(),
    /** '' for every message, else the one topic (MailView.topic) the address left. */
    topic: text('topic').notNull().default(''),
    reason: text('reason').$type<SuppressionReason>().notNull(),
    /** Where it came from: `cli`, `one-click`, `bounce`, `complaint-report`, an app's own label… */
    source: text('source').notNull().default(''),
    /** Free text kept with it (a block's reason, a bounce's status and diagnostic). */
    note: text('note').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.address, t.topic] })],
);

/** What a bounce report said: `hard` (5.x.x: the address does not work), `soft` (4.x.x: try later) or a `complaint` (marked as spam). */
export type BounceKind = 'hard' | 'soft' | 'complaint';

/**
 * One row per bounce or complaint read (`mailroom_bounces`, by `mailroom bounces`): which
 * address, which message (when the report could be matched to one), and what it said.
 * `report_id` (the report's own Message-ID) makes reading the same mailbox twice count nothing twice.
 */
export const bounces = pgTable(
  'mailroom_bounces',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: bigint('message_id', { mode: 'number' }).references(() => messages.id, { onDelete: 'set null' }),
    address: text('address').notNull(),
    kind: text('kind').$type<BounceKind>().notNull(),
    /** The enhanced status code (`5.1.1`), or the feedback type of a complaint (`abuse`). */
    status: text('status').notNull().default(''),
    diagnostic: text('diagnostic').notNull().default(''),
    reportId: text('report_id').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('mailroom_bounces_report_idx').on(t.reportId, t.address, t.kind),
    index('mailroom_bounces_address_idx').on(t.address, t.createdAt),
    index('mailroom_bounces_created_idx').on(t.createdAt),
  ],
);

/** Key/value settings shared by every drain (`mailroom_settings`, e.g. `paused`: set it with `mailroom pause`). */
export const settings = pgTable('mailroom_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A row of `messages` as `db.select().from(messages)` returns it. */
export type MessageRow = typeof messages.$inferSelect;
/** A row of `attempts` as `db.select().from(attempts)` returns it. */
export type AttemptRow = typeof attempts.$inferSelect;
/** A row of `suppressions`. */
export type SuppressionRow = typeof suppressions.$inferSelect;
/** A row of `bounces`. */
export type BounceRow = typeof bounces.$inferSelect;
