import { SMTPServer } from 'smtp-server';

export interface Arrivals {
  url: string;
  /** performance.now() when each Message-ID's DATA was accepted. */
  at: Map<string, number>;
  /** Resolves when `messageId` has arrived. */
  wait(messageId: string): Promise<number>;
  close(): Promise<void>;
}

/** An in-process SMTP server noting when each Message-ID arrives (latency figures need the clock). */
export async function startArrivals(): Promise<Arrivals> {
  const at = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const t = performance.now();
        const id = /^Message-ID: *(<[^>]*>)/im.exec(head)?.[1] ?? '';
        at.set(id, t);
        waiters.get(id)?.(t);
        waiters.delete(id);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}?tls=false`,
    at,
    wait: (id) => {
      const t = at.get(id);
      return t !== undefined ? Promise.resolve(t) : new Promise((resolve) => waiters.set(id, resolve));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
