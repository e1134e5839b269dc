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
        async (database, smtp, signal) => {
          log(`worker started on ${database.label}`);
          const totals = await runWorker(database, {
            smtp,
            ...deliveryOptions(opts),
            signal,
            pollIntervalMs: opts.poll === undefined ? undefined : opts.poll * 1000,
            onDelivery: (message, delivery) => {
              // The drain fails a deferral that used the last attempt.
              const outcome = delivery.outcome === 'deferred' && message.attempts >= opts.maxAttempts ? 'failed' : delivery.outcome;
              log(`message ${message.id} ${outcome}${delivery.reply ? `: ${delivery.reply}` : ''}`);
            },
            onRun: (r) => log(`sent ${r.sent}, deferred ${r.deferred}, failed ${r.failed}`),
            onPause: (paused) => log(paused ? 'sending is paused: waiting for mailroom resume' : 'sending resumed'),
            // Embedded: the database is in this process, there is no connection to lose.
            ...(database.kind === 'postgres' && {
              onDatabaseLost: (error) => log(`${error.message.replace(/ Messages this run.*$/, '')} Reconnecting with backoff…`),
              onDatabaseBack: () => log('database connection restored'),
            }),
          });
          log(`worker stopped: sent ${totals.sent}, deferred ${totals.deferred}, failed ${totals.failed}`);
        },
        true,
        log,
      ),
    );
