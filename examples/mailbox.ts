import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface Mailbox {
  /** smtp:// URL to hand to `mailroom send`. */
  url: string;
  folder: string;
  received: string[];
  close(): Promise<void>;
}

/**
 * A local SMTP server that accepts everything and writes each message to
 * `folder/NNNN.eml`, so a developer with no SMTP account can open what was sent.
 */
export async function startMailbox(folder: string, port = 0): Promise<Mailbox> {
  mkdirSync(folder, { recursive: true });
  const received: string[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const file = join(folder, `${stamp}-${String(received.length + 1).padStart(4, '0')}.eml`);
        writeFileSync(file, Buffer.concat(chunks));
        received.push(file);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `smtp://127.0.0.1:${actualPort}?tls=false`,
    folder,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
