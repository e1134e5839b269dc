import { describe, expect, it } from 'vitest';
import { createHmac, createSign, generateKeyPairSync, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { enqueueMail } from 'mailroom';
import { messages, bounces } from 'mailroom/schema';
import { listSuppressions } from 'mailroom/drain';
import { providerWebhookHandler } from 'mailroom/webhooks';
import { backends } from './helpers/databases.js';

const ALL = await backends();
const NOW = 1_796_000_000_000;
const ts = String(NOW / 1000);

// Payloads as each provider documents them (trimmed of fields mailroom does not read),
// signed here with test keys the way each provider signs: nothing leaves the machine.
const POSTMARK_BOUNCE = {
  RecordType: 'Bounce', ID: 4323372036854775807, Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', Tag: 'Test',
  MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', ServerID: 23, MessageStream: 'outbound',
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).', Details: 'Test bounce details',
  Email: 'john@example.com', From: 'sender@example.com', BouncedAt: '2019-11-05T16:33:54.9070259Z', Inactive: true, CanActivate: true, Subject: 'Test subject',
};
const POSTMARK_COMPLAINT = { ...POSTMARK_BOUNCE, RecordType: 'SpamComplaint', ID: 42, Type: 'SpamComplaint', TypeCode: 512, Email: 'spam.clicker@example.com' };
const POSTMARK_SOFT = { ...POSTMARK_BOUNCE, ID: 43, Type: 'SoftBounce', TypeCode: 4096, Email: 'full@example.com' };

function mailgunBody(key: string, eventData: object, token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0') {
  const signature = createHmac('sha256', key).update(`${ts}${token}`).digest('hex');
  return JSON.stringify({ signature: { timestamp: ts, token, signature }, 'event-data': eventData });
}

function svixHeaders(secret: string, id: string, body: string) {
  const sig = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${ts}.${body}`).digest('base64');
  return { 'svix-id': id, 'svix-timestamp': ts, 'svix-signature': `v1,${sig}` };
}

const post = (body: string, headers: Record<string, string> = {}) =>
  new Request('https://app.example.com/webhooks', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe.each(ALL)('provider webhooks on $name', (backend) => {
  it('Postmark, Mailgun, Resend and SendGrid: a valid event suppresses (once), a bad signature is a 401 that changes nothing', { timeout: 120_000 }, async () => {
    const { database, drop } = await backend.create();
    const db = database.db;
    const list = async () => (await listSuppressions(db)).map((s) => `${s.address} ${s.reason} ${s.source}`);
    try {
      // Postmark: basic auth in the webhook URL
      const pm = providerWebhookHandler({ provider: 'postmark', basicAuth: 'hook:pa55', database, now: () => NOW, softLimit: 2 });
      const auth = { authorization: `Basic ${Buffer.from('hook:pa55').toString('base64')}` };
      expect((await pm(post(JSON.stringify(POSTMARK_BOUNCE), { authorization: `Basic ${Buffer.from('hook:wrong').toString('base64')}` }))).status).toBe(401);
      expect(await list()).toEqual([]);
      expect((await pm(post(JSON.stringify(POSTMARK_BOUNCE), auth))).status).toBe(200);
      expect((await pm(post(JSON.stringify(POSTMARK_BOUNCE), auth))).status).toBe(200); // delivered twice: counted once
      expect((await pm(post(JSON.stringify(POSTMARK_COMPLAINT), auth))).status).toBe(200);
      const soft = await pm(post(JSON.stringify(POSTMARK_SOFT), auth));
      expect(await soft.json()).toMatchObject({ outcomes: [{ kind: 'soft', address: 'full@example.com', suppressed: false }] });
      expect((await pm(post('not json', auth))).status).toBe(400);
      expect(await list()).toEqual(['john@example.com hard-bounce postmark', 'spam.clicker@example.com complaint postmark']);

      // Mailgun: HMAC of timestamp + token; the message-id finds the stored message
      const queued = await enqueueMail(database, { from: 'a@example.com', to: 'Alice@example.com', subject: 'hi', text: 'x' });
      const mgKey = 'key-test-0123456789abcdef';
      const mg = providerWebhookHandler({ provider: 'mailgun', signingKey: mgKey, database, now: () => NOW });
      const failed = {
        id: 'G9Bn5sl1TC6nu79C8C0bwg', timestamp: NOW / 1000, event: 'failed', severity: 'permanent', reason: 'bounce', recipient: 'alice@example.com',
        'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist.', description: '' },
        message: { headers: { to: 'Alice <alice@example.com>', 'message-id': queued.messageId.slice(1, -1), from: 'a@example.com', subject: 'hi' } },
      };
      expect((await mg(post(mailgunBody('another-key-0123456789', failed)))).status).toBe(401);
      expect((await mg(post(mailgunBody(mgKey, { ...failed, id: 'u1', event: 'unsubscribed', recipient: 'leaver@example.com' })))).status).toBe(200);
      expect((await mg(post(mailgunBody(mgKey, failed)))).status).toBe(200);
      const [row] = await db.select().from(messages).where(eq(messages.id, queued.id));
      expect(row!.recipientStatus).toEqual({ 'Alice@example.com': { state: 'failed', reply: 'bounced: 550 5.1.1 The email account that you tried to reach does not exist.' } });

      // Resend (Svix signatures)
      const secret = `whsec_${Buffer.from('resend-test-secret-0123456789').toString('base64')}`;
      const rs = providerWebhookHandler({ provider: 'resend', secret, database, now: () => NOW });
      const bounced = JSON.stringify({
        type: 'email.bounced', created_at: '2026-12-01T10:00:00.000Z',
        data: { email_id: '56761188-7520-42d8-8898-ff6fc54ce618', from: 'Acme <onboarding@resend.dev>', to: ['bounced@resend.dev'], subject: 'Sending this example',
          bounce: { message: "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.", subType: 'Suppressed', type: 'Permanent' } },
      });
      expect((await rs(post(bounced, { ...svixHeaders(secret, 'msg_1', bounced), 'svix-timestamp': String(NOW / 1000 - 3600) }))).status).toBe(401); // replayed an hour late
      expect((await rs(post(bounced.replace('bounced@', 'other@'), svixHeaders(secret, 'msg_1', bounced)))).status).toBe(401); // body changed
      expect((await rs(post(bounced, svixHeaders(secret, 'msg_1', bounced)))).status).toBe(200);

      // SendGrid: ECDSA P-256 over timestamp + body
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const sg = providerWebhookHandler({ provider: 'sendgrid', publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), database, now: () => NOW });
      const events = JSON.stringify([
        { email: 'example@test.com', timestamp: NOW / 1000, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>', event: 'spamreport', sg_event_id: 'sg1', sg_message_id: '14c5d75ce93.dfd.64b469' },
        { email: 'nobody@test.com', timestamp: NOW / 1000, event: 'bounce', type: 'bounce', status: '5.0.0', reason: '500 unknown recipient', sg_event_id: 'sg2' },
        { email: 'later@test.com', timestamp: NOW / 1000, event: 'bounce', type: 'blocked', status: '4.0.0', reason: 'try again', sg_event_id: 'sg3' },
        { email: 'opened@test.com', timestamp: NOW / 1000, event: 'open', sg_event_id: 'sg4' },
      ]);
      const signature = sign('sha256', Buffer.from(`${ts}${events}`), privateKey).toString('base64');
      const sgHeaders = { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': ts };
      expect((await sg(post(events.replace('nobody', 'somebody'), sgHeaders))).status).toBe(401);
      expect((await sg(post(events, sgHeaders))).status).toBe(200);

      expect(await list()).toEqual([
        'alice@example.com hard-bounce mailgun',
        'bounced@resend.dev hard-bounce resend',
        'example@test.com complaint sendgrid',
        'john@example.com hard-bounce postmark',
        'leaver@example.com unsubscribed mailgun',
        'nobody@test.com hard-bounce sendgrid',
        'spam.clicker@example.com complaint postmark',
      ]);
      expect((await db.select().from(bounces)).map((b) => `${b.address} ${b.kind}`).sort()).toEqual([
        'alice@example.com hard', 'bounced@resend.dev hard', 'example@test.com complaint', 'full@example.com soft',
        'john@example.com hard', 'later@test.com soft', 'nobody@test.com hard', 'spam.clicker@example.com complaint',
      ]);
    } finally {
      await drop();
    }
  });

  it('Amazon SES through SNS: a certificate-signed bounce and complaint from the named topic suppress; another topic, a forged signature or a foreign certificate host changes nothing', { timeout: 120_000 }, async () => {
    const { database, drop } = await backend.create();
    // A test signing key and its self-signed certificate, served to the handler as SNS would serve its own.
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-sns-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=sns.amazonaws.com', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-notifications';
      const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';
      const fetched: string[] = [];
      const confirmed: string[] = [];
      const handler = providerWebhookHandler({
        provider: 'ses', topicArn: TOPIC, database,
        fetchCertificate: async (url) => (fetched.push(url), cert),
        confirmSubscription: async (url) => void confirmed.push(url),
      });
      const signed = (fields: Record<string, string>) => {
        const order = fields.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
        const text = order.filter((f) => fields[f] !== undefined).map((f) => `${f}\n${fields[f]}\n`).join('');
        const signature = createSign('RSA-SHA256').update(text).sign(key, 'base64');
        return JSON.stringify({ ...fields, SignatureVersion: '2', Signature: signature, SigningCertURL: CERT_URL });
      };
      // SES's documented bounce notification (trimmed)
      const bounce = {
        notificationType: 'Bounce',
        bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'recipient@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }], timestamp: '2016-01-27T14:59:38.237Z', feedbackId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000' },
        mail: { timestamp: '2016-01-27T14:59:38.237Z', messageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000', source: 'john@example.com', destination: ['recipient@example.com'], headers: [{ name: 'Message-ID', value: '<custom-message-ID@example.com>' }] },
      };
      const complaint = {
        notificationType: 'Complaint',
        complaint: { complainedRecipients: [{ emailAddress: 'richard@example.com' }], timestamp: '2016-01-27T14:59:38.237Z', feedbackId: '0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000', complaintFeedbackType: 'abuse' },
        mail: { timestamp: '2016-01-27T14:59:38.237Z', messageId: '0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000', source: 'john@example.com', destination: ['richard@example.com'] },
      };
      const note = (message: object, id: string, topic = TOPIC) => ({ Type: 'Notification', MessageId: id, TopicArn: topic, Message: JSON.stringify(message), Timestamp: '2016-01-27T14:59:38.237Z' });
      const list = async () => (await listSuppressions(database.db)).map((s) => `${s.address} ${s.reason} ${s.source}`);

      expect((await handler(post(signed(note(bounce, 'a1', 'arn:aws:sns:us-east-1:999999999999:someone-else'))))).status).toBe(401);
      const forged = JSON.parse(signed(note(bounce, 'a2')));
      forged.Message = forged.Message.replace('recipient@', 'victim@');
      expect((await handler(post(JSON.stringify(forged)))).status).toBe(401);
      const foreignHost = JSON.parse(signed(note(bounce, 'a3')));
      foreignHost.SigningCertURL = 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem';
      expect((await handler(post(JSON.stringify(foreignHost)))).status).toBe(401);
      expect(await list()).toEqual([]);

      expect((await handler(post(signed(note(bounce, 'b1'))))).status).toBe(200);
      expect((await handler(post(signed(note(complaint, 'c1'))))).status).toBe(200);
      expect(await list()).toEqual(['recipient@example.com hard-bounce ses', 'richard@example.com complaint ses']);
      expect(new Set(fetched)).toEqual(new Set([CERT_URL]));

      const subscribeUrl = 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=t';
      expect((await handler(post(signed({ Type: 'SubscriptionConfirmation', MessageId: 's1', Token: 't', TopicArn: TOPIC, Message: 'confirm', SubscribeURL: subscribeUrl, Timestamp: '2016-01-27T14:59:38.237Z' })))).status).toBe(200);
      expect(confirmed).toEqual([subscribeUrl]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    }
  });
});
