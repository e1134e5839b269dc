import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { createQueueTransport } from 'mailroom';
import { backends } from './helpers/databases.js';
import { mailroom } from './helpers/cli.js';
import { dkimKeyPair, dkimVerifierAvailable, verifyDkim } from './helpers/dkim-verify.js';

/**
 * `mailroom send --transport MODULE` with the README's Amazon SES module: nodemailer's SES
 * transport and the real AWS SDK (@aws-sdk/client-sesv2), pointed at a local stand-in that
 * speaks the SES v2 SendEmail API (POST /v2/email/outbound-emails, JSON, a raw message).
 */

const ALL = await backends();
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface SesCall {
  path: string;
  authorization: string;
  body: { FromEmailAddress?: string; Destination?: { ToAddresses?: string[] }; Content?: { Raw?: { Data?: string } } };
}

async function startSesStandIn(refuse: (call: SesCall) => boolean): Promise<{ url: string; calls: SesCall[]; close(): Promise<void> }> {
  const calls: SesCall[] = [];
  let n = 0;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      const call: SesCall = { path: request.url ?? '', authorization: String(request.headers.authorization ?? ''), body: JSON.parse(text || '{}') };
      calls.push(call);
      if (request.method !== 'POST' || call.path !== '/v2/email/outbound-emails') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      } else if (refuse(call)) {
        response
          .writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'MessageRejected' })
          .end(JSON.stringify({ message: 'Email address is not verified.' }));
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ MessageId: `0100-standin-${++n}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.each(ALL)('Amazon SES through --transport on $name', (backend) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-ses-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends the stored bytes as SendEmail raw content, DKIM-signed; an SES refusal is deferred', async () => {
    const ses = await startSesStandIn((call) => call.body.Destination?.ToAddresses?.includes('unverified@dest.test') ?? false);
    const { url, database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const ok = await queue.sendMail({ from: 'Team <team@example.com>', to: 'ana@dest.test', cc: 'bo@dest.test', subject: 'Hola Núria ✓', text: 'Cos del missatge ✓' });
      await queue.sendMail({ from: 'team@example.com', to: 'unverified@dest.test', subject: 'refused', text: 'x' });
      await database.close();

      // The README's module, with the stand-in's endpoint and fixed credentials.
      const module = join(dir, 'ses-transport.mjs');
      writeFileSync(
        module,
        `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const { SESv2Client, SendEmailCommand } = require('@aws-sdk/client-sesv2');
export default { SES: { sesClient: new SESv2Client({ region: 'eu-west-1', endpoint: process.env.SES_ENDPOINT, credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'standin-secret' } }), SendEmailCommand } };
`,
      );
      const key = dkimKeyPair();
      const keyFile = join(dir, 'dkim.pem');
      writeFileSync(keyFile, key.privateKey);
      // The SDK otherwise warns on stderr, under Node 20, that it will need Node 22 from 2027.
      const result = await mailroom(['send', '--database', url, '--transport', module, '--dkim', `example.com:ses1:${keyFile}`], {
        SES_ENDPOINT: ses.url,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('sent 1, deferred 1, failed 0');

      const sends = ses.calls.filter((c) => c.body.Content?.Raw?.Data && c.body.FromEmailAddress !== 'invalid@invalid');
      expect(sends.map((c) => c.body.Destination?.ToAddresses)).toEqual(expect.arrayContaining([['ana@dest.test', 'bo@dest.test'], ['unverified@dest.test']]));
      const call = sends.find((c) => c.body.Destination?.ToAddresses?.includes('ana@dest.test'))!;
      expect(call.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/eu-west-1\/ses\/aws4_request/);
      const raw = Buffer.from(call.body.Content!.Raw!.Data!, 'base64');
      expect(raw.toString()).toContain(`Message-ID: ${ok.messageId}`);
      expect(raw.toString()).toContain('Subject: =?UTF-8?');
      if (dkimVerifierAvailable()) {
        expect(verifyDkim([raw], { 'ses1._domainkey.example.com': key.record })[0]!.map((s) => [s.ok, s.d])).toEqual([[true, 'example.com']]);
      }
      const status = JSON.parse((await mailroom(['status', '--json', '--database', url])).stdout);
      expect(status).toMatchObject({ sent: 1, deferred: 1 });
    } finally {
      await ses.close();
      await drop();
    }
  });
});
