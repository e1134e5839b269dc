import { describe, expect, it } from 'vitest';
import { createSmtpTransport } from 'mailroom/drain';
import { sendStored } from '../src/drain/raw-send.js';
import { startScriptedSmtp } from './helpers/scripted-smtp.js';
import { waitFor } from './helpers/wait.js';

// The drain hands stored bytes straight to the SMTP pool it made (src/drain/raw-send.ts),
// and holds back a message's final dot until the outcome write before it has committed.

const RAW = Buffer.from(
  'From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: <raw-1@example.com>\r\nSubject: dots\r\n\r\n' +
    '.a line that starts with a dot\r\n..two of them\r\nCafè ✓\r\n.\r\nend\r\n',
  'utf8',
);
const ENVELOPE = { from: 'a@example.com', to: ['b@example.com'] };

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}

describe('stored bytes straight to our own pool', () => {
  it('sends the bytes as stored (dots stuffed on the wire, undone by the server) and completes the message only after endAfter', async () => {
    let dataSeen = false;
    const server = await startScriptedSmtp(({ stage }) => {
      if (stage === 'data') dataSeen = true;
      return undefined;
    });
    const smtp = createSmtpTransport(server.url, { concurrency: 1 });
    try {
      const gate = deferred();
      const sending = sendStored(smtp, ENVELOPE, RAW, '<raw-1@example.com>', gate.promise);
      await waitFor(() => dataSeen, 'DATA to be accepted');
      // The bytes may be there, but without the dot the server has no message yet.
      await new Promise((r) => setTimeout(r, 300));
      expect(server.bodies).toBe(0);
      gate.resolve();
      const info = await sending;
      expect(info.accepted).toEqual(['b@example.com']);
      expect(info.response).toMatch(/^250/);
      expect(server.delivered).toHaveLength(1);
      expect(server.delivered[0]!.raw.equals(RAW)).toBe(true);
      expect(server.delivered[0]!.to).toEqual(['b@example.com']);
    } finally {
      smtp.close();
      await server.close();
    }
  });

  it('a refused wait abandons the message before its dot: the server keeps nothing, the pool sends the next one', async () => {
    const server = await startScriptedSmtp();
    const smtp = createSmtpTransport(server.url, { concurrency: 1 });
    try {
      const gate = deferred();
      const sending = sendStored(smtp, ENVELOPE, RAW, '<raw-1@example.com>', gate.promise);
      gate.reject(new Error('the outcome write before it failed'));
      await expect(sending).rejects.toThrow();
      const next = await sendStored(smtp, ENVELOPE, RAW, '<raw-1@example.com>');
      expect(next.accepted).toEqual(['b@example.com']);
      expect(server.delivered).toHaveLength(1);
    } finally {
      smtp.close();
      await server.close();
    }
  });

  it('a transporter with a plugin (or DKIM, a proxy, or not made by createSmtpTransport) still goes through sendMail', async () => {
    const server = await startScriptedSmtp();
    const smtp = createSmtpTransport(server.url, { concurrency: 1 });
    try {
      let compiled = 0;
      smtp.use('compile', (_mail, done) => {
        compiled++;
        done();
      });
      await sendStored(smtp, ENVELOPE, RAW, '<raw-1@example.com>');
      expect(compiled).toBe(1);
      expect(server.delivered[0]!.raw.equals(RAW)).toBe(true);
    } finally {
      smtp.close();
      await server.close();
    }
  });
});
