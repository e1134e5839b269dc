import { createServer, type Server } from 'node:http';
import type { WorkerMetrics } from './prometheus.js';
import { redact } from '../store/redact.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` for Prometheus; anything else is 404. A scrape whose queue read
 * fails (the database is away) is a 503 with the reason, so the scrape shows as failed
 * rather than as stale numbers.
 */
export async function serveMetrics(metrics: WorkerMetrics, options: { port: number; host: string }): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${redact((error as Error)?.message ?? String(error))}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a scraper's keep-alive connection must not hold the worker's exit
      }),
  };
}
