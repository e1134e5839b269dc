import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import type { BounceEvent } from '../bounces/report.js';

// Each provider's webhook: how its signature is checked and what its payload says, as
// bounce events (the same ones `mailroom bounces` reads from reports) and unsubscribes.

/** What a provider's webhook reported, once its signature checked out. */
export interface ProviderEvent extends Omit<BounceEvent, 'kind' | 'returnPath'> {
  kind: BounceEvent['kind'] | 'unsubscribe';
  /** The provider's id for the event: delivering it twice counts it once. */
  id: string;
}

/** A verified request's events, or why it was refused (401: the signature). */
export type Verified = { events: ProviderEvent[] } | { refused: string };

/** Replays older than this are refused (seconds). */
const TOLERANCE = 5 * 60;

const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
const fresh = (timestamp: string | null | undefined, now: number) => !!timestamp && /^\d+$/.test(timestamp) && Math.abs(now / 1000 - Number(timestamp)) <= TOLERANCE;
const event = (e: Omit<ProviderEvent, 'messageId' | 'diagnostic' | 'status'> & Partial<ProviderEvent>): ProviderEvent => ({ messageId: undefined, diagnostic: '', status: '', ...e });
const withBrackets = (id: unknown) => (typeof id === 'string' && id ? (id.startsWith('<') ? id : `<${id}>`) : undefined);

/** Postmark: HTTP basic auth in the webhook URL (it signs nothing); Bounce, SpamComplaint and SubscriptionChange records. */
export function postmark(headers: Headers, body: string, options: { basicAuth: string }): Verified {
  const given = Buffer.from(headers.get('authorization') ?? '');
  if (!sameBytes(given, Buffer.from(`Basic ${Buffer.from(options.basicAuth).toString('base64')}`))) return { refused: 'wrong or missing basic auth' };
  const r = JSON.parse(body) as Record<string, unknown>;
  const id = String(r.ID ?? r.MessageID ?? '');
  if (r.RecordType === 'Bounce') {
    const type = String(r.Type);
    const kind = ['HardBounce', 'BadEmailAddress', 'SpamNotification', 'Blocked'].includes(type) ? 'hard' : ['SoftBounce', 'Transient', 'DnsError', 'AutoResponder'].includes(type) ? 'soft' : undefined;
    if (!kind || type === 'AutoResponder') return { events: [] };
    return { events: [event({ kind, id: `postmark:${id}`, address: String(r.Email), status: type, diagnostic: String(r.Description ?? '') })] };
  }
  if (r.RecordType === 'SpamComplaint') return { events: [event({ kind: 'complaint', id: `postmark:${id}`, address: String(r.Email), status: 'abuse' })] };
  if (r.RecordType === 'SubscriptionChange' && r.SuppressSending === true && r.SuppressionReason === 'ManualSuppression') {
    return { events: [event({ kind: 'unsubscribe', id: `postmark:${id}`, address: String(r.Recipient) })] };
  }
  return { events: [] };
}

/** Mailgun: HMAC-SHA256 of timestamp + token with the webhook signing key; failed (permanent/temporary), complained, unsubscribed. */
export function mailgun(_headers: Headers, body: string, options: { signingKey: string }, now: number): Verified {
  const payload = JSON.parse(body) as { signature?: { timestamp?: string; token?: string; signature?: string }; 'event-data'?: Record<string, any> };
  const s = payload.signature ?? {};
  if (!fresh(s.timestamp, now)) return { refused: 'missing or stale timestamp' };
  const expected = createHmac('sha256', options.signingKey).update(`${s.timestamp}${s.token ?? ''}`).digest();
  if (!sameBytes(Buffer.from(String(s.signature ?? ''), 'hex'), expected)) return { refused: 'bad signature' };
  const e = payload['event-data'] ?? {};
  const base = { id: `mailgun:${e.id}`, address: String(e.recipient ?? ''), messageId: withBrackets(e.message?.headers?.['message-id']) };
  const status = e['delivery-status'] ?? {};
  if (e.event === 'failed') {
    const kind = e.severity === 'permanent' ? 'hard' : 'soft';
    return { events: [event({ ...base, kind, status: String(status.code ?? ''), diagnostic: String(status.message || status.description || e.reason || '') })] };
  }
  if (e.event === 'complained') return { events: [event({ ...base, kind: 'complaint', status: 'abuse' })] };
  if (e.event === 'unsubscribed') return { events: [event({ ...base, kind: 'unsubscribe' })] };
  return { events: [] };
}

/** Resend (Svix): HMAC-SHA256 of `id.timestamp.body` with the whsec_ secret, base64; email.bounced and email.complained. */
export function resend(headers: Headers, body: string, options: { secret: string }, now: number): Verified {
  const id = headers.get('svix-id') ?? '';
  const timestamp = headers.get('svix-timestamp');
  if (!id || !fresh(timestamp, now)) return { refused: 'missing id or stale timestamp' };
  const key = Buffer.from(options.secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  const signatures = (headers.get('svix-signature') ?? '').split(' ').map((s) => s.split(',')).filter(([v]) => v === 'v1');
  if (!signatures.some(([, sig]) => sameBytes(Buffer.from(sig ?? '', 'base64'), expected))) return { refused: 'bad signature' };
  const payload = JSON.parse(body) as { type?: string; data?: { to?: string[]; bounce?: { type?: string; subType?: string; message?: string } } };
  const to = payload.data?.to ?? [];
  if (payload.type === 'email.bounced') {
    const kind = payload.data?.bounce?.type === 'Permanent' ? 'hard' : 'soft';
    const b = payload.data?.bounce ?? {};
    return { events: to.map((address) => event({ kind, id: `resend:${id}`, address, status: [b.type, b.subType].filter(Boolean).join('/'), diagnostic: b.message ?? '' })) };
  }
  if (payload.type === 'email.complained') return { events: to.map((address) => event({ kind: 'complaint', id: `resend:${id}`, address, status: 'abuse' })) };
  return { events: [] };
}

/** SendGrid: ECDSA (P-256, SHA-256) over timestamp + body with the webhook's public key; bounce, dropped, spamreport, unsubscribe. */
export function sendgrid(headers: Headers, body: string, options: { publicKey: string }, now: number): Verified {
  const timestamp = headers.get('x-twilio-email-event-webhook-timestamp');
  const signature = headers.get('x-twilio-email-event-webhook-signature') ?? '';
  if (!fresh(timestamp, now)) return { refused: 'missing or stale timestamp' };
  const key = createPublicKey({ key: Buffer.from(options.publicKey.replace(/-----[^-]+-----|\s/g, ''), 'base64'), format: 'der', type: 'spki' });
  if (!verify('sha256', Buffer.from(`${timestamp}${body}`), key, Buffer.from(signature, 'base64'))) return { refused: 'bad signature' };
  const events: ProviderEvent[] = [];
  for (const e of JSON.parse(body) as Record<string, any>[]) {
    const base = { id: `sendgrid:${e.sg_event_id}`, address: String(e.email ?? ''), messageId: withBrackets(e['smtp-id']) };
    if (e.event === 'bounce') {
      const hard = e.type !== 'blocked' && /^5/.test(String(e.status ?? '5'));
      events.push(event({ ...base, kind: hard ? 'hard' : 'soft', status: String(e.status ?? ''), diagnostic: String(e.reason ?? '') }));
    } else if (e.event === 'spamreport') events.push(event({ ...base, kind: 'complaint', status: 'abuse' }));
    else if (e.event === 'unsubscribe' || e.event === 'group_unsubscribe') events.push(event({ ...base, kind: 'unsubscribe' }));
  }
  return { events };
}
