import { Command } from 'commander';
import { duration, wholeNumber } from '../options.js';
import { addDeliveryOptions, deliveryOptions, withDrain, type SendFlags } from './send.js';
import { runWorker } from '../../drain/worker.js';
import { say } from '../terminal.js';
import type { Db } from '../../store/database.js';

/** A worker runs for days under systemd or docker: each line says when, and which message. */
const log = (line: string) => say(`${new Date().toISOString()} ${line}`);

export const workerCommand = () =>
  addDeliveryOptions(
    new Command('worker').description('send continuously: woken by LISTEN/NOTIFY on Postgres, polling on the embedded database'),
  )
    .option('--poll <duration>', 'longest wait between looks at the queue (default: 30s on Postgres, 1s embedded)', duration)
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port)', wholeNumber(0, 65535))
    .option('--metrics-host <host>', 'address the metrics server binds', '127.0.0.1')
    .action((opts: SendFlags & { poll?: number; metricsPort?: number; metricsHost: string }) =>
      withDrain(
        opts,
        async (database, smtp, signal, out) => {
          out.info(`worker started on ${database.label}`, { event: 'start', database: database.label });
          // prom-client and the HTTP server load only when asked for.
          const metrics = opts.metricsPort === undefined ? undefined : await startMetrics(database.db, opts.metricsPort, opts.metricsHost);
          if (metrics) out.info(`metrics at ${metrics.server.url}`, { event: 'metrics', url: metrics.server.url });
          try {
            const totals = await runWorker(database, {
              smtp,
              ...deliveryOptions(opts),
              signal,
              pollIntervalMs: opts.poll === undefined ? undefined : opts.poll * 1000,
              // The drain fails a deferral that used the last attempt; the log says so too.
              onDelivery: (message, delivery) => {
                out.delivery(message, delivery, opts.maxAttempts);
                metrics?.observe(message, delivery, opts.maxAttempts);
              },
              onLeaseExpiries: (count) => {
                out.info(`took back ${count} message${count === 1 ? '' : 's'} whose lease ran out (another drain died or stalled)`, { event: 'lease-expiries', count });
                metrics?.leaseExpired(count);
              },
              onRun: (r) => out.info(`sent ${r.sent}, deferred ${r.deferred}, failed ${r.failed}`, { event: 'run', sent: r.sent, deferred: r.deferred, failed: r.failed }),
              onPause: (paused) => out.info(paused ? 'sending is paused: waiting for mailroom resume' : 'sending resumed', { event: paused ? 'paused' : 'resumed' }),
              // Embedded: the database is in this process, there is no connection to lose.
              ...(database.kind === 'postgres' && {
                onDatabaseLost: (error) => out.error(`${error.message.replace(/ Messages this run.*$/, '')} Reconnecting with backoff…`, { event: 'database-lost' }),
                onDatabaseBack: () => out.info('database connection restored', { event: 'database-back' }),
              }),
            });
            out.info(`worker stopped: sent ${totals.sent}, deferred ${totals.deferred}, failed ${totals.failed}`, { event: 'stop', ...totals });
          } finally {
            await metrics?.server.close();
          }
        },
        true,
        log,
        'worker',
      ),
    );

async function startMetrics(db: Db, port: number, host: string) {
  const [{ workerMetrics }, { serveMetrics }] = await Promise.all([import('../../metrics/prometheus.js'), import('../../metrics/server.js')]);
  const metrics = await workerMetrics(db);
  return { observe: metrics.observe, leaseExpired: metrics.leaseExpired, server: await serveMetrics(metrics, { port, host }) };
}
