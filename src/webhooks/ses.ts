import { createVerify, X509Certificate } from 'node:crypto';
import type { ProviderEvent, Verified } from './providers.js';

// Amazon SES notifications arrive through SNS. An SNS message is signed with a key whose
// certificate SNS serves from SigningCertURL; any AWS account can sign messages for its own
// topics, so the handler also requires the topic to be one the app named (topicArn).

/** What SES-through-SNS needs. */
export interface SesOptions {
  /** The SNS topic(s) SES publishes to: a message from any other topic is refused. */
  topicArn: string | string[];
  /** Reads the signing certificate (PEM) from SigningCertURL; default: fetch, cached per URL. Tests pass their own. */
  fetchCertificate?: (url: string) => Promise<string>;
  /** Confirms a subscription by visiting its SubscribeURL; default: fetch. */
  confirmSubscription?: (url: string) => Promise<void>;
}

/** SNS signing certificates are served from sns.<region>.amazonaws.com over https, and only from there. */
const CERT_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

const certificates = new Map<string, Promise<string>>();
async function defaultFetchCertificate(url: string): Promise<string> {
  let pem = certificates.get(url);
  if (!pem) {
    pem = fetch(url).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`certificate: HTTP ${r.status}`))));
    certificates.set(url, pem);
    pem.catch(() => certificates.delete(url));
  }
  return pem;
}

/** The string SNS signs: the named fields in this order, each as `Name\nvalue\n`, absent ones left out. */
function stringToSign(m: Record<string, string | undefined>): string {
  const fields = m.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return fields.filter((f) => m[f] !== undefined).map((f) => `${f}\n${m[f]}\n`).join('');
}

/** Verifies an SNS message from SES and reads its bounce or complaint (the SES notification or event publishing format). */
export async function ses(body: string, options: SesOptions): Promise<Verified> {
  const m = JSON.parse(body) as Record<string, string | undefined>;
  const topics = Array.isArray(options.topicArn) ? options.topicArn : [options.topicArn];
  if (!m.TopicArn || !topics.includes(m.TopicArn)) return { refused: 'not from the configured SNS topic' };
  let certUrl: URL;
  try {
    certUrl = new URL(m.SigningCertURL ?? '');
  } catch {
    return { refused: 'no signing certificate URL' };
  }
  if (certUrl.protocol !== 'https:' || !CERT_HOST.test(certUrl.hostname)) return { refused: 'the signing certificate is not served by SNS' };
  const pem = await (options.fetchCertificate ?? defaultFetchCertificate)(certUrl.href);
  const certificate = new X509Certificate(pem);
  const verifier = createVerify(m.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
  verifier.update(stringToSign(m));
  if (!m.Signature || !verifier.verify(certificate.publicKey, m.Signature, 'base64')) return { refused: 'bad signature' };

  if (m.Type === 'SubscriptionConfirmation') {
    const subscribe = new URL(m.SubscribeURL ?? '');
    if (subscribe.protocol === 'https:' && CERT_HOST.test(subscribe.hostname)) {
      await (options.confirmSubscription ?? (async (url) => void (await fetch(url))))(subscribe.href);
    }
    return { events: [] };
  }
  if (m.Type !== 'Notification') return { events: [] };
  const n = JSON.parse(m.Message ?? '{}') as Record<string, any>;
  const type = n.notificationType ?? n.eventType;
  const header = (n.mail?.headers as { name: string; value: string }[] | undefined)?.find((h) => h.name.toLowerCase() === 'message-id')?.value;
  const base = { id: `ses:${m.MessageId}`, messageId: header };
  if (type === 'Bounce') {
    const kind = n.bounce?.bounceType === 'Permanent' ? 'hard' : 'soft';
    return {
      events: (n.bounce?.bouncedRecipients ?? []).map((r: Record<string, string>): ProviderEvent => ({
        ...base,
        kind,
        address: r.emailAddress,
        status: r.status ?? `${n.bounce.bounceType}/${n.bounce.bounceSubType}`,
        diagnostic: r.diagnosticCode ?? '',
      })),
    };
  }
  if (type === 'Complaint') {
    return {
      events: (n.complaint?.complainedRecipients ?? []).map((r: Record<string, string>): ProviderEvent => ({
        ...base,
        kind: 'complaint',
        address: r.emailAddress,
        status: n.complaint?.complaintFeedbackType ?? 'abuse',
        diagnostic: '',
      })),
    };
  }
  return { events: [] };
}
