import type { Socket } from 'node:net';
import type { SMTPServer as SmtpServerType, SMTPServerSession } from 'smtp-server';
import type { ParsedMail } from 'mailparser';
import { loadOptional } from '../optional.js';
import { parseMail, type SentMail } from './parsed-mail.js';

/** The reply the capture gives one recipient: a 4xx defers the message, a 5xx fails it. */
export interface Fault {
  code: number;
  message: string;
}

/**
 * An in-process SMTP server standing in for the real one: it takes every message the
 * drain sends, parses it (mailparser) and keeps it in memory, in arrival order. It
 * answers RCPT TO for an address given a fault with that fault's code.
 */
export interface SmtpCapture {
  /** `smtp://127.0.0.1:PORT?tls=false`, for the drain or anything else that sends. */
  readonly url: string;
  readonly messages: SentMail[];
  readonly faults: Map<string, Fault>;
  close(): Promise<void>;
}

const load = () =>
  loadOptional(
    async () => {
      const [{ SMTPServer }, { simpleParser }] = await Promise.all([import('smtp-server'), import('mailparser')]);
      return { SMTPServer, simpleParser };
    },
    'mailroom/testing',
    ['smtp-server', 'mailparser'],
  );

export async function startCapture(): Promise<SmtpCapture> {
  const { SMTPServer, simpleParser } = await load();
  const messages: SentMail[] = [];
  const faults = new Map<string, Fault>();
  const server: SmtpServerType = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 0,
    onRcptTo(address, _session, callback) {
      const fault = faults.get(address.address.toLowerCase());
      if (!fault) return callback();
      const error = new Error(fault.message) as Error & { responseCode: number };
      error.responseCode = fault.code;
      callback(error);
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        // Parsed before the 250, so a message is in `messages` by the time the drain records it sent.
        simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true }).then(
          (parsed: ParsedMail) => {
            messages.push({ ...parseMail(parsed, raw, envelope), envelopeFrom: envelope.from, priority: null });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  // Closing waits for open connections (the drain's pooled ones linger after QUIT); a test
  // suite's process must be free to exit as soon as the test mailroom is closed.
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}?tls=false`,
    messages,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
