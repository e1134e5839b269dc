import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { messages, suppressions, SUPPRESSION_REASONS, type SuppressionReason, type SuppressionRow } from './schema.js';
import { ConfigError } from '../errors.js';
import { checkedAddress } from '../transport/validate.js';

// The suppression list: addresses not to be mailed, for everything or for one topic. One
// concept for every way an address gets there (an unsubscribe, a hard bounce, a complaint,
// an operator's block); the drain checks it for each recipient (drain/attempt.ts).

/** Addresses compare case-insensitively, without surrounding space. */
export const normalizeAddress = (address: string): string => address.trim().toLowerCase();

/** `topic` as stored: '' means every message. */
const scopeOf = (topic: string | null | undefined): string => (topic ?? '').trim();

/** What adding a suppression takes. */
export interface Suppression {
  address: string;
  /** One topic (MailView.topic), or omitted/'' for every message. */
  topic?: string | null;
  reason: SuppressionReason;
  /** Where it came from: `cli`, `one-click`, `bounce`, an app's own label… */
  source?: string;
  note?: string;
}

function checkedReason(reason: string): SuppressionReason {
  if ((SUPPRESSION_REASONS as readonly string[]).includes(reason)) return reason as SuppressionReason;
  throw new ConfigError(`Unknown suppression reason ${JSON.stringify(reason)}: use one of ${SUPPRESSION_REASONS.join(', ')}.`);
}

/**
 * Suppresses an address (for one topic, or everything). Idempotent: suppressing it again
 * keeps the first time and reason, so a second unsubscribe click or a repeated bounce
 * report changes nothing. Returns whether it was new.
 */
export async function suppress(db: Db, entry: Suppression): Promise<boolean> {
  // Whatever the source (a report's text, a webhook's JSON), only an address is stored: not a NUL byte the database would refuse mid-run, nor a line of text.
  checkedAddress(entry.address.trim());
  const added = await db
    .insert(suppressions)
    .values({
      address: normalizeAddress(entry.address),
      topic: scopeOf(entry.topic),
      reason: checkedReason(entry.reason),
      source: entry.source ?? '',
      note: entry.note ?? '',
    })
    .onConflictDoNothing()
    .returning({ address: suppressions.address });
  return added.length > 0;
}

/** Lifts a suppression (of one topic, or the everything-scope one); false when there was none. */
export async function unsuppress(db: Db, address: string, topic?: string | null): Promise<boolean> {
  const removed = await db
    .delete(suppressions)
    .where(and(eq(suppressions.address, normalizeAddress(address)), eq(suppressions.topic, scopeOf(topic))))
    .returning({ address: suppressions.address });
  return removed.length > 0;
}

/** The list, by address then topic; optionally only one reason or one topic. */
export async function listSuppressions(db: Db, filter: { reason?: string; topic?: string } = {}): Promise<SuppressionRow[]> {
  const where = [
    filter.reason !== undefined ? eq(suppressions.reason, checkedReason(filter.reason)) : undefined,
    filter.topic !== undefined ? eq(suppressions.topic, scopeOf(filter.topic)) : undefined,
  ].filter((w) => w !== undefined);
  return db
    .select()
    .from(suppressions)
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(suppressions.address), asc(suppressions.topic));
}

/** The suppressions of some addresses, by normalised address: what the drain checks a batch against. */
export type SuppressedAmong = Map<string, SuppressionRow[]>;

/** Which of these addresses are suppressed (any scope): one query for a whole batch. */
export async function suppressedAmong(db: Db, addresses: string[]): Promise<SuppressedAmong> {
  const found: SuppressedAmong = new Map();
  if (addresses.length === 0) return found;
  const rows = await db
    .select()
    .from(suppressions)
    .where(inArray(suppressions.address, [...new Set(addresses.map(normalizeAddress))]));
  for (const row of rows) found.set(row.address, [...(found.get(row.address) ?? []), row]);
  return found;
}

/** The suppression that stops mail of `topic` (null: transactional) to `address`, if any: everything-scope first. */
export function suppressionFor(among: SuppressedAmong, address: string, topic: string | null | undefined): SuppressionRow | undefined {
  const rows = among.get(normalizeAddress(address)) ?? [];
  return rows.find((r) => r.topic === '') ?? (topic ? rows.find((r) => r.topic === topic) : undefined);
}

/** A manual suppression for every message: what `mailroom block` (= `suppress add` without a topic) adds. */
export const isBlock = (row: Pick<SuppressionRow, 'reason' | 'topic'>): boolean => row.reason === 'manual' && row.topic === '';

/**
 * What a message's record says for a suppressed recipient. A block reads as the blocklist's
 * did (`blocked: <note>`); the others, a manual one for one topic too, name the reason and the topic.
 */
export function suppressionReply(row: Pick<SuppressionRow, 'reason' | 'topic' | 'note'>): string {
  if (isBlock(row)) return `blocked${row.note ? `: ${row.note}` : ''}`;
  const scope = row.topic ? ` from topic ${row.topic}` : '';
  return `suppressed (${row.reason}${scope})${row.note ? `: ${row.note}` : ''}`;
}

/** What to do at enqueue with a recipient on the suppression list (the drain always checks it too). */
export type SuppressedAtEnqueue = 'drain' | 'refuse' | 'store';

/** The recipients of a message that the list stops, each with its suppression. */
export async function suppressedRecipients(db: Db, recipients: string[], topic: string | null): Promise<SuppressedRecipient[]> {
  return suppressedIn(await suppressedAmong(db, recipients), recipients, topic);
}

/** A recipient the list stops, with the suppression that stops it. */
export interface SuppressedRecipient {
  address: string;
  row: SuppressionRow;
}

/** `suppressedRecipients` against suppressions already read (one query for a whole bulk enqueue). */
export function suppressedIn(among: SuppressedAmong, recipients: string[], topic: string | null): SuppressedRecipient[] {
  return recipients.flatMap((address) => {
    const row = suppressionFor(among, address, topic);
    return row ? [{ address, row }] : [];
  });
}

/**
 * Records on a just-stored message that some recipients are suppressed (`suppressed: 'store'`):
 * they are failed with the reason, and a message left with no one to send to is failed
 * outright. Only while still queued: a drain that took it meanwhile checks the list itself.
 */
export async function markSuppressed(db: Db, id: number, recipients: string[], hits: SuppressedRecipient[]): Promise<void> {
  const status = Object.fromEntries(hits.map((h) => [h.address, { state: 'failed' as const, reply: suppressionReply(h.row) }]));
  const everyone = recipients.every((r) => status[r]);
  await db
    .update(messages)
    .set({
      recipientStatus: status,
      ...(everyone ? { state: 'failed' as const, lastError: `all recipients are suppressed: ${hits[0]!.address} ${suppressionReply(hits[0]!.row)}`, updatedAt: sql`now()` } : {}),
    })
    .where(and(eq(messages.id, id), eq(messages.state, 'queued')));
}
