import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { bounces, messages, type BounceKind, type RecipientStatus } from '../store/schema.js';
import { normalizeAddress, suppress } from '../store/suppressions.js';
import { isAddress } from '../transport/validate.js';
import type { BounceEvent, ParsedReport } from './report.js';

/** How bounces turn into suppressions. */
export interface BouncePolicy {
  /** Soft bounces (4.x.x) of one address, within `softWindowDays`, that suppress it (default 3). */
  softLimit?: number;
  softWindowDays?: number;
  /**
   * Which reports may suppress. `matched` (the default): only an address the report shows we
   * mailed, a recipient of the message it matches by VERP return path or Message-ID; a report
   * that matches none is skipped, since anyone can send one. `any`: every address a report
   * names, for a source only a trusted party writes (a provider's signed webhook).
   */
  trust?: 'matched' | 'any';
  /** Most recipients read from one report (default 1000); a report naming more is skipped whole. */
  maxEvents?: number;
}

/** The most recipients one report may name by default: a real one is about one message's recipients. */
export const MAX_REPORT_EVENTS = 1000;

/** What one event did. */
export interface BounceOutcome {
  kind: BounceKind;
  address: string | undefined;
  status: string;
  /** The message's row id, when the report was matched to one. */
  message: number | undefined;
  /** True when this event put the address on the suppression list. */
  suppressed: boolean;
  /** Already read from this report before: nothing done again. */
  duplicate: boolean;
  /** Set when nothing could be done (no address). */
  skipped?: string;
}

/** The message a report is about: by its VERP return path, else by the Message-ID it returned. */
async function findMessage(db: Db, event: BounceEvent) {
  const columns = { id: messages.id, recipients: messages.recipients, recipientStatus: messages.recipientStatus };
  if (event.returnPath) {
    const [row] = await db.select(columns).from(messages).where(eq(messages.envelopeFrom, event.returnPath)).limit(1);
    if (row) return row;
  }
  if (event.messageId) {
    const [row] = await db.select(columns).from(messages).where(eq(messages.messageId, event.messageId)).limit(1);
    if (row) return row;
  }
  return undefined;
}

const describe = (event: BounceEvent) => [event.status, event.diagnostic].filter(Boolean).join(' ').slice(0, 500);

/**
 * Records a report's events: one bounces row each (once per report and address), and on the
 * message's record (the recipient failed with the bounce for a hard one). A hard bounce or a
 * complaint suppresses the address for everything; soft bounces suppress it once there are
 * `softLimit` of them within `softWindowDays`.
 */
export async function recordReport(db: Db, report: ParsedReport, policy: BouncePolicy & { source?: string } = {}): Promise<BounceOutcome[]> {
  const softLimit = policy.softLimit ?? 3;
  const windowDays = policy.softWindowDays ?? 30;
  const trust = policy.trust ?? 'matched';
  const maxEvents = policy.maxEvents ?? MAX_REPORT_EVENTS;
  const outcomes: BounceOutcome[] = [];
  if (report.events.length > maxEvents) {
    const first = report.events[0]!;
    return [{ kind: first.kind, address: undefined, status: first.status, message: undefined, suppressed: false, duplicate: false, skipped: `the report names ${report.events.length} recipients, more than the ${maxEvents} one report may: nothing read from it` }];
  }
  for (const event of report.events) {
    const message = await findMessage(db, event);
    // An address as the message lists it (the key of its recipient status), if it is one of its recipients.
    const listedAs = (a: string | undefined) => (a === undefined ? undefined : message?.recipients.find((r) => normalizeAddress(r) === normalizeAddress(a)));
    const isRecipient = (a: string | undefined) => listedAs(a) !== undefined;
    // A forward or alias bounces at its final address: the one mailroom mailed is the original.
    // A non-standard bounce names no recipient: the message's, when it had just one.
    const address =
      (!isRecipient(event.address) && isRecipient(event.originalAddress) ? event.originalAddress : event.address) ??
      (message?.recipients.length === 1 ? message.recipients[0] : undefined);
    const base = { kind: event.kind, address, status: event.status, message: message?.id, suppressed: false, duplicate: false };
    if (!address) {
      outcomes.push({ ...base, skipped: 'the report names no recipient and matches no single-recipient message' });
      continue;
    }
    if (!isAddress(address.trim())) {
      outcomes.push({ ...base, address: JSON.stringify(address).slice(0, 200), skipped: 'not an email address' });
      continue;
    }
    const recipient = listedAs(address);
    if (trust === 'matched' && recipient === undefined) {
      outcomes.push({
        ...base,
        skipped: message
          ? `not a recipient of message ${message.id}, the one the report returns: not trusted (--trust-unmatched to suppress anyway)`
          : 'matches no message mailroom sent (by return path or Message-ID): not trusted (--trust-unmatched to suppress anyway)',
      });
      continue;
    }
    const normalized = normalizeAddress(address);
    const inserted = await db
      .insert(bounces)
      .values({ messageId: message?.id ?? null, address: normalized, kind: event.kind, status: event.status, diagnostic: event.diagnostic.slice(0, 1000), reportId: report.reportId })
      .onConflictDoNothing()
      .returning({ id: bounces.id });
    if (inserted.length === 0 && report.reportId) {
      outcomes.push({ ...base, duplicate: true });
      continue;
    }
    if (message && recipient !== undefined) await markMessage(db, message, recipient, event);
    let suppressed = false;
    if (event.kind === 'hard') {
      suppressed = await suppress(db, { address, reason: 'hard-bounce', source: policy.source ?? 'bounce', note: describe(event) });
    } else if (event.kind === 'complaint') {
      suppressed = await suppress(db, { address, reason: 'complaint', source: policy.source ?? 'feedback-report', note: event.status });
    } else {
      const [{ n } = { n: 0 }] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(bounces)
        .where(and(eq(bounces.address, normalized), eq(bounces.kind, 'soft'), gte(bounces.createdAt, sql`now() - make_interval(days => ${windowDays})`)));
      if (Number(n) >= softLimit) {
        suppressed = await suppress(db, { address, reason: 'hard-bounce', source: policy.source ?? 'bounce', note: `${n} soft bounces in ${windowDays} days, the last ${describe(event)}` });
      }
    }
    outcomes.push({ ...base, suppressed });
  }
  return outcomes;
}

/**
 * The bounce on the message's record: the recipient's status (failed for a hard bounce) and, for
 * a hard one, its last error. `key` is the recipient as the message lists it.
 */
async function markMessage(db: Db, message: { id: number; recipientStatus: RecipientStatus }, key: string, event: BounceEvent) {
  const said = describe(event);
  const entry: RecipientStatus[string] =
    event.kind === 'hard'
      ? { state: 'failed', reply: `bounced: ${said}` }
      : { state: message.recipientStatus[key]?.state ?? 'sent', reply: event.kind === 'complaint' ? `complaint: ${event.status}` : `soft bounce: ${said}` };
  await db
    .update(messages)
    .set({
      recipientStatus: sql`${messages.recipientStatus} || ${JSON.stringify({ [key]: entry })}::jsonb`,
      ...(event.kind === 'hard' ? { lastError: `bounced: ${key} ${said}`.slice(0, 1000) } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(messages.id, message.id));
}
