import { and, asc, count, desc, eq, ilike, ne, type SQL } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { suppressions, SUPPRESSION_REASONS, type SuppressionReason } from '../store/schema.js';
import { normalizeAddress, suppress, unsuppress } from '../store/suppressions.js';
import { checkedTopic } from '../suppression-input.js';
import { checkedAddress } from '../transport/validate.js';
import { ConfigError } from '../errors.js';
import { likePattern } from './outbox.js';

// The Suppressions page's read side and its two actions. The list may hold 100,000 rows:
// every read is one page (LIMIT/OFFSET) or one grouped count, never the whole table.

/** The scope filter's value for suppressions of every message (topic ''). */
export const EVERY_MESSAGE = '*';

export interface SuppressionFilter {
  reason?: SuppressionReason | undefined;
  /** EVERY_MESSAGE, or one topic. */
  scope?: string | undefined;
  /** Part of an address, matched case-insensitively and literally. */
  search?: string;
  page: number;
  pageSize: number;
}

/** A reason from the URL, or undefined when it is not one. */
export const reasonOf = (text: string | undefined): SuppressionReason | undefined =>
  (SUPPRESSION_REASONS as readonly string[]).includes(text ?? '') ? (text as SuppressionReason) : undefined;

/** A scope from the URL: `*` or a well-formed topic, else undefined (no filter). */
export function scopeOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  if (text === EVERY_MESSAGE) return EVERY_MESSAGE;
  try {
    return checkedTopic(text) || undefined;
  } catch {
    return undefined;
  }
}

/** An address search from the URL: no NUL (Postgres text cannot hold one), bounded. */
export const searchOf = (text: string | undefined): string => (text ?? '').replace(/\0/g, '').slice(0, 200);

function where(filter: Omit<SuppressionFilter, 'page' | 'pageSize'>, withReason = true): SQL | undefined {
  // Stored addresses are normalised (trimmed, lower-cased); the search is too, and ILIKE on top.
  const search = filter.search ? normalizeAddress(filter.search) : '';
  return and(
    withReason && filter.reason ? eq(suppressions.reason, filter.reason) : undefined,
    filter.scope ? eq(suppressions.topic, filter.scope === EVERY_MESSAGE ? '' : filter.scope) : undefined,
    search ? ilike(suppressions.address, likePattern(search)) : undefined,
  );
}

/** Topics listed in the scope filter (the most a select should offer). */
const TOPICS_SHOWN = 100;

/**
 * One page of the list, newest first (then by address and topic, so pages never overlap),
 * the count per reason under the other filters (the reason links show them), and the
 * topics there are, for the scope filter.
 */
export async function listSuppressionPage(db: Db, filter: SuppressionFilter) {
  const [rows, grouped, topics] = await Promise.all([
    db
      .select()
      .from(suppressions)
      .where(where(filter))
      .orderBy(desc(suppressions.createdAt), asc(suppressions.address), asc(suppressions.topic))
      .limit(filter.pageSize)
      .offset((filter.page - 1) * filter.pageSize),
    db.select({ reason: suppressions.reason, n: count() }).from(suppressions).where(where(filter, false)).groupBy(suppressions.reason),
    db.selectDistinct({ topic: suppressions.topic }).from(suppressions).where(ne(suppressions.topic, '')).orderBy(asc(suppressions.topic)).limit(TOPICS_SHOWN),
  ]);
  const counts = Object.fromEntries(SUPPRESSION_REASONS.map((r) => [r, 0])) as Record<SuppressionReason, number>;
  for (const g of grouped) counts[g.reason] = Number(g.n);
  const total = filter.reason ? counts[filter.reason] : Object.values(counts).reduce((a, b) => a + b, 0);
  return { rows, counts, total, topics: topics.map((t) => t.topic) };
}

/** What the add form sends. */
export interface ManualSuppression {
  address: string;
  /** '' or absent: every message. */
  topic?: string | undefined;
  note?: string | undefined;
  /** Who added it, when the preview has a login: kept in the source (`preview:alice`). */
  user?: string | undefined;
}

/**
 * Adds a manual suppression, checked as `mailroom suppress add` checks it (a ConfigError
 * names what is wrong). Returns the stored address and topic, and whether it was new.
 */
export async function addManualSuppression(db: Db, input: ManualSuppression): Promise<{ address: string; topic: string; added: boolean }> {
  const address = checkedAddress(input.address.trim());
  const topic = checkedTopic(input.topic?.trim());
  const note = (input.note ?? '').trim();
  if (note.includes('\0')) throw new ConfigError('The note holds a NUL character, which cannot be stored: remove it.');
  if (note.length > 1000) throw new ConfigError(`The note is ${note.length} characters long: keep it to 1000.`);
  const added = await suppress(db, { address, topic, reason: 'manual', source: input.user ? `preview:${input.user}` : 'preview', note });
  return { address: normalizeAddress(address), topic, added };
}

/** Lifts one entry, named exactly as stored (address and topic); false when there was none. */
export function removeSuppression(db: Db, address: string, topic: string): Promise<boolean> {
  return unsuppress(db, address, topic);
}
