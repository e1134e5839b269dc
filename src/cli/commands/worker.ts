import { Command } from 'commander';
import { duration } from '../options.js';
import { addDeliveryOptions, deliveryOptions, withDrain, type SendFlags } from './send.js';
import { runWorker } from '../../drain/worker.js';
import { say } from '../terminal.js';

/** A worker runs for days under systemd or docker: each line says when, and which message. */
const log = (line: string) => say(`${new Date().toISOString()} ${line}`);

export const workerCommand = () =>
  addDeliveryOptions(
    new Command('worker').description('send continuously: woken by LISTEN/NOTIFY on Postgres, polling on the embedded database'),
  )
    .option('--poll <duration>', 'longest wait between looks at the queue (default: 30s on Postgres, 1s embedded)', duration)
    .action((opts: SendFlags & { poll?: number }) =>
      withDrain(
        opts,
        async (database, smtp, signal, out) => {
          out.info(`worker started on ${database.label}`, { event: 'start', database: database.label });
          const totals = await runWorker(database, {
            smtp,
            ...deliveryOptions(opts),
            signal,
            pollIntervalMs: opts.poll === undefined ? undefined : opts.poll * 1000,
            // The drain fails a deferral that used the last attempt; the log says so too.
            onDelivery: (message, delivery) => out.delivery(message, delivery, opts.maxAttempts),
            onRun: (r) => out.info(`sent ${r.sent}, deferred ${r.deferred}, failed ${r.failed}`, { event: 'run', sent: r.sent, deferred: r.deferred, failed: r.failed }),
            onPause: (paused) => out.info(paused ? 'sending is paused: waiting for mailroom resume' : 'sending resumed', { event: paused ? 'paused' : 'resumed' }),
            // Embedded: the database is in this process, there is no connection to lose.
            ...(database.kind === 'postgres' && {
              onDatabaseLost: (error) => out.error(`${error.message.replace(/ Messages this run.*$/, '')} Reconnecting with backoff…`, { event: 'database-lost' }),
              onDatabaseBack: () => out.info('database connection restored', { event: 'database-back' }),
            }),
          });
          out.info(`worker stopped: sent ${totals.sent}, deferred ${totals.deferred}, failed ${totals.failed}`, { event: 'stop', ...totals });
        },
        true,
        log,
        'worker',
      ),
    );
