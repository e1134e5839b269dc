import { createServer } from 'node:http';

export interface Recorder {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Every path requested, in order. */
  hits: string[];
  /** Serves `body` as text/html at `path`. */
  page(path: string, body: string): void;
  close(): Promise<void>;
}

/** A tiny HTTP server that records every request: proof of what a page did (or did not) fetch. */
export async function startRecorder(): Promise<Recorder> {
  const hits: string[] = [];
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const page = pages.get(path.split('?')[0]!);
    if (page !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    hits.push(path);
    res.writeHead(204, { 'Access-Control-Allow-Origin': '*' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    page: (path, body) => void pages.set(path, body),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
