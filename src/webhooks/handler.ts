import { resolveDatabase, type Database, type DrizzleDb, type Db } from '../store/database.js';
import { suppress } from '../store/suppressions.js';
import { isAddress } from '../transport/validate.js';
import { recordReport, type BouncePolicy, type BounceOutcome } from '../bounces/record.js';
import { mailgun, postmark, resend, sendgrid, type Verified } from './providers.js';
import { ses, type SesOptions } from './ses.js';

/** Which provider, with what its webhook is checked with. */
export type ProviderOptions =
  | { provider: 'postmark'; /** `user:password` as in the webhook URL Postmark calls. */ basicAuth: string }
  | { provider: 'mailgun'; /** The HTTP webhook signing key. */ signingKey: string }
  | { provider: 'resend'; /** The webhook's signing secret, `whsec_…`. */ secret: string }
  | { provider: 'sendgrid'; /** The signed event webhook's verification key (base64 or PEM). */ publicKey: string }
  | ({ provider: 'ses' } & SesOptions);

export type ProviderWebhookOptions = ProviderOptions &
  BouncePolicy & {
    database: string | Database | DrizzleDb;
    /** The clock (ms), for tests. */
    now?: () => number;
  };

const MAX_BODY = 1024 * 1024;

/**
 * A provider's bounce/complaint webhook as a `(Request) => Promise<Response>`: the signature
 * (or Postmark's basic auth; for SES, SNS's certificate-signed message from the named topic) is checked, then bounces and complaints go where `mailroom
 * bounces` puts them (suppressions, `mailroom_bounces`, the message's record when the
 * provider returns its Message-ID) and unsubscribes are suppressed. 401 for a bad signature
 * (nothing changes), 400 for a body that is not the provider's JSON, 200 otherwise
 * (delivering the same event twice counts it once). Its events are signed by the provider, so
 * an address is suppressed even when no stored message matches (`trust` defaults to `any`).
 */
export function providerWebhookHandler(options: ProviderWebhookOptions): (request: Request) => Promise<Response> {
  const now = options.now ?? Date.now;
  let opened: Promise<{ db: Db }> | undefined;
  const database = () => (opened ??= resolveDatabase(options.database));
  const check = (headers: Headers, body: string): Verified | Promise<Verified> => {
    switch (options.provider) {
      case 'ses':
        return ses(body, options);
      case 'postmark':
        return postmark(headers, body, options);
      case 'mailgun':
        return mailgun(headers, body, options, now());
      case 'resend':
        return resend(headers, body, options, now());
      case 'sendgrid':
        return sendgrid(headers, body, options, now());
    }
  };
  return async (request) => {
    if (request.method !== 'POST') return new Response('POST only\n', { status: 405, headers: { allow: 'POST' } });
    if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) return new Response('too large\n', { status: 413 });
    const body = await request.text();
    let verified: Verified;
    try {
      verified = await check(request.headers, body);
    } catch {
      return new Response('not a webhook payload this handler understands\n', { status: 400 });
    }
    if ('refused' in verified) return new Response(`refused: ${verified.refused}\n`, { status: 401 });
    const { db } = await database();
    const outcomes: (BounceOutcome | { kind: 'unsubscribe'; address: string; suppressed: boolean })[] = [];
    for (const e of verified.events) {
      if (!e.address) continue;
      if (!isAddress(e.address.trim())) {
        outcomes.push({ kind: e.kind, address: JSON.stringify(e.address).slice(0, 200), status: '', message: undefined, suppressed: false, duplicate: false, skipped: 'not an email address' });
        continue;
      }
      if (e.kind === 'unsubscribe') {
        outcomes.push({ kind: 'unsubscribe', address: e.address, suppressed: await suppress(db, { address: e.address, reason: 'unsubscribed', source: options.provider }) });
        continue;
      }
      const report = { reportId: `${e.id}:${e.address.toLowerCase()}`, events: [{ ...e, kind: e.kind, returnPath: undefined }] };
      outcomes.push(...(await recordReport(db, report, { softLimit: options.softLimit, softWindowDays: options.softWindowDays, source: options.provider, trust: options.trust ?? 'any' })));
    }
    return Response.json({ received: outcomes.length, outcomes });
  };
}
