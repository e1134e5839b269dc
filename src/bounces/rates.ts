import { and, gte, sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { bounces, messages } from '../store/schema.js';

/** What `mailroom status` shows for one window: messages sent, and bounces and complaints recorded, with rates per sent message. */
export interface DeliveryRates {
  sent: number;
  hardBounces: number;
  softBounces: number;
  complaints: number;
  /** Hard bounces per message sent in the window (0–1); null when nothing was sent. */
  bounceRate: number | null;
  /** Complaints per message sent (Gmail's limit is 0.003); null when nothing was sent. */
  complaintRate: number | null;
}

/**
 * Sent messages and recorded bounces over the last `days` days. Counted by when each was
 * sent and when each report was read, so a rate is approximate at the window's edge, as
 * the providers' own dashboards are.
 */
export async function deliveryRates(db: Db, days: number): Promise<DeliveryRates> {
  const since = sql`now() - make_interval(days => ${days})`;
  const [sentRow] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(and(sql`${messages.state} = 'sent'`, gte(messages.sentAt, since)));
  const [row] = await db
    .select({
      hard: sql<number>`count(distinct ${bounces.address}) filter (where ${bounces.kind} = 'hard')::int`,
      soft: sql<number>`count(*) filter (where ${bounces.kind} = 'soft')::int`,
      complaints: sql<number>`count(distinct ${bounces.address}) filter (where ${bounces.kind} = 'complaint')::int`,
    })
    .from(bounces)
    .where(gte(bounces.createdAt, since));
  const sent = Number(sentRow?.n ?? 0);
  const hardBounces = Number(row?.hard ?? 0);
  const complaints = Number(row?.complaints ?? 0);
  const rate = (n: number) => (sent === 0 ? null : n / sent);
  return { sent, hardBounces, softBounces: Number(row?.soft ?? 0), complaints, bounceRate: rate(hardBounces), complaintRate: rate(complaints) };
}

/** Whether any bounce or complaint was recorded in the last `days` days (a look at the small bounces table only). */
export async function anyReports(db: Db, days: number): Promise<boolean> {
  const rows = await db.select({ one: sql`1` }).from(bounces).where(gte(bounces.createdAt, sql`now() - make_interval(days => ${days})`)).limit(1);
  return rows.length > 0;
}

const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(2)}%`);

/** One line of `mailroom status`: `last 7d: sent 800, hard bounces 3 (0.38%), soft 5, complaints 1 (0.13%)`. */
export function ratesLine(label: string, r: DeliveryRates): string {
  return `last ${label}: sent ${r.sent}, hard bounces ${r.hardBounces} (${percent(r.bounceRate)}), soft ${r.softBounces}, complaints ${r.complaints} (${percent(r.complaintRate)})`;
}

/** Bounces and complaints ever recorded, by kind and recipient domain: what the metrics' `mailroom_bounces_total` counts. */
export async function bouncesByDomain(db: Db): Promise<{ kind: string; domain: string; n: number }[]> {
  return db
    .select({ kind: bounces.kind, domain: sql<string>`split_part(${bounces.address}, '@', 2)`, n: sql<number>`count(*)::int` })
    .from(bounces)
    .groupBy(bounces.kind, sql`split_part(${bounces.address}, '@', 2)`);
}
