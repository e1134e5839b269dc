import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Received {
  from: string;
  to: string[];
  raw: Buffer;
  parsed: ParsedMail;
  /** Date.now() when the whole body had arrived, before any onData delay. */
  at: number;
}

export interface TestSmtpOptions {
  /** Reply to RCPT TO: return an Error with responseCode to refuse that recipient. */
  onRcpt?: (address: string, session: SMTPServerSession) => Error | void;
  /** Reply after DATA: return an Error with responseCode to refuse the message. */
  onData?: (raw: Buffer, session: SMTPServerSession) => Error | void | Promise<Error | void>;
}

export interface TestSmtp {
  port: number;
  url: string;
  received: Received[];
  /** Date.now() of each connection accepted, in order. */
  connections: number[];
  close(): Promise<void>;
}

export function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A real SMTP server in-process, keeping and parsing every message it accepts. */
export async function startSmtp(options: TestSmtpOptions = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  const connections: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, callback) {
      connections.push(Date.now());
      callback();
    },
    onRcptTo(address: SMTPServerAddress, session, callback) {
      const error = options.onRcpt?.(address.address, session);
      callback(error ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const at = Date.now();
        const raw = Buffer.concat(chunks);
        const error = await options.onData?.(raw, session);
        if (error) return callback(error);
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          at,
          parsed: await simpleParser(raw),
        });
        callback();
      });
    },
  });
  // A client cut mid-session (a test's proxy going down) makes writes fail with EPIPE;
  // smtp-server reports them here, and unheard they would crash the test run.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `smtp://127.0.0.1:${port}?tls=false`,
    received,
    connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
