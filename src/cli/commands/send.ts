import { Command, Option } from 'commander';
import { databaseOption, durationBetween, MAX_INT4, MAX_TIMER_SECONDS, numberBetween, positiveInt, wholeNumber } from '../options.js';
import { withDatabase } from '../run.js';
import { drain, type DrainResult } from '../../drain/drain.js';
import type { SendMailOptions, Transporter } from 'nodemailer';
import type { Database, Db } from '../../store/database.js';
import { getSetting, PAUSED } from '../../store/settings.js';
import { DEFAULT_BACKOFF } from '../../drain/backoff.js';
import { DEFAULT_BATCH_SIZE_TEXT, DRAIN_DEFAULTS } from '../../drain/defaults.js';
import { say } from '../terminal.js';
import { dkimOption } from '../dkim-option.js';
import { failoverRetryOption, routeOption, transportOption } from '../delivery-flags.js';
import { openDelivery, planDelivery, type DeliveryFlags, type DeliveryPlan } from '../delivery.js';
import { domainConcurrencyOption, domainLimits, domainOption, domainRateOption, type DomainFlags } from '../domain-flags.js';
import { createRunLog, logLevelOption, logOption, type LogFormat, type LogLevel, type RunLog } from '../run-log.js';

export interface SendFlags extends DeliveryFlags, DomainFlags {
  database: string;
  smtp?: string;
  limit?: number;
  concurrency: number;
  lease: number;
  batchSize?: number;
  timeLimit?: number;
  maxDeferred?: number;
  rate?: number;
  maxAttempts: number;
  backoffBase: number;
  backoffCap: number;
  socketTimeout: number;
  log: LogFormat;
  logLevel: LogLevel;
}

/** The flags `send` and `worker` share. */
export function addDeliveryOptions(command: Command): Command {
  return command
    .addOption(databaseOption())
    .addOption(new Option('--smtp <url>', 'SMTP server, e.g. smtp://user:pass@host:587 (several, comma-separated: failover in that order)').env('SMTP_URL'))
    .addOption(routeOption())
    .addOption(transportOption())
    .addOption(failoverRetryOption())
    .option('--concurrency <n>', 'SMTP connections at once (1 to 1000)', wholeNumber(1, 1000), DRAIN_DEFAULTS.concurrency)
    .option('--lease <seconds>', 'seconds a claimed message stays ours before other drains may take it (at most 24 days)', wholeNumber(1, MAX_TIMER_SECONDS), DRAIN_DEFAULTS.leaseSeconds)
    .option('--batch-size <n>', `messages claimed per query (default: ${DEFAULT_BATCH_SIZE_TEXT})`, wholeNumber(1, 100_000))
    .option('--rate <n>', 'at most N messages started per second (0.001 or more)', numberBetween(0.001, Number.MAX_VALUE))
    .addOption(domainConcurrencyOption())
    .addOption(domainRateOption())
    .addOption(domainOption())
    .option('--max-attempts <n>', 'attempts before a message that keeps deferring is failed', wholeNumber(1, MAX_INT4), DEFAULT_BACKOFF.maxAttempts)
    .option('--backoff-base <duration>', 'first retry delay', durationBetween(1, 365 * 86_400), DEFAULT_BACKOFF.baseSeconds)
    .option('--backoff-cap <duration>', 'longest retry delay', durationBetween(1, 365 * 86_400), DEFAULT_BACKOFF.capSeconds)
    .option('--socket-timeout <duration>', 'give up on a silent SMTP server after this long', durationBetween(1, MAX_TIMER_SECONDS), DRAIN_DEFAULTS.socketTimeoutSeconds)
    .addOption(dkimOption())
    .addOption(logOption())
    .addOption(logLevelOption());
}

/** Why the run stopped, for the summary line. */
const STOPPED: Record<DrainResult['stopped'], string> = {
  empty: 'nothing more is due',
  limit: 'reached --limit',
  'time-limit': 'reached --time-limit',
  'max-deferred': 'reached --max-deferred: the server seems to be failing',
  signal: 'stopped by signal',
};

export function summary(result: DrainResult): string {
  const released = result.released ? `, released ${result.released}` : '';
  return `sent ${result.sent}, deferred ${result.deferred}, failed ${result.failed}${released} (${STOPPED[result.stopped]})`;
}

/** Paused by `mailroom pause` or MAILROOM_PAUSED=1: say so and send nothing. A worker waits out the former (`setting` false). */
async function pausedNotice(db: Db, setting = true): Promise<string | null> {
  if (process.env.MAILROOM_PAUSED === '1') return 'sending is paused (MAILROOM_PAUSED=1): nothing sent';
  if (setting && (await getSetting(db, PAUSED))) return 'sending is paused (run mailroom resume): nothing sent';
  return null;
}

/** Runs `body` with a signal that SIGTERM/SIGINT abort: finish in flight, release the rest. */
async function untilSignal<T>(body: (signal: AbortSignal) => Promise<T>, print: (line: string) => void): Promise<T> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    print(`${signal}: finishing messages in flight, releasing the rest (signal again to quit at once)`);
    controller.abort();
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGTERM', stop).off('SIGINT', stop);
  }
}

/** The run's transport (one server, failover, routes or a module), verified before anything is claimed (within --time-limit and its grace, when given). */
async function openSmtp(plan: DeliveryPlan, opts: SendFlags, log: RunLog): Promise<Transporter> {
  // Nothing may wait longer than the run may last, the verify included.
  const runBound = opts.timeLimit === undefined ? Infinity : opts.timeLimit + GRACE_SECONDS;
  const limits = {
    concurrency: opts.concurrency,
    socketTimeoutMs: Math.min(opts.socketTimeout, runBound) * 1000,
    connectionTimeoutMs: Math.min(15, runBound) * 1000,
  };
  return openDelivery(plan, limits, opts, log);
}

/**
 * What `send` and `worker` share around their run: a transport required before the database
 * opens, a paused queue reported and left alone, the pool verified, SIGTERM/SIGINT
 * turned into an abort, the pool closed at the end. `print` writes its lines (the worker's carry a timestamp).
 */
export async function withDrain(
  opts: SendFlags,
  body: (database: Database, smtp: Transporter, signal: AbortSignal, log: RunLog) => Promise<void>,
  waitOutPause = false,
  print: (line: string) => void = say,
  command: 'send' | 'worker' = 'send',
): Promise<void> {
  // Servers, routes, transport module and DKIM keys are checked before the database opens.
  const plan = await planDelivery(opts);
  domainLimits(opts); // two limits for one domain: refused before the database opens
  // In text, `send` prints no line per message (the worker does); JSON always has them.
  const log = await createRunLog(opts.log ?? 'text', opts.logLevel ?? 'info', print, command === 'worker', `mailroom ${command}`);
  await withDatabase(opts.database, async (database) => {
    const paused = await pausedNotice(database.db, !waitOutPause);
    if (paused) return log.info(paused, { event: 'paused' });
    const smtp = await openSmtp(plan, opts, log);
    try {
      await untilSignal((signal) => body(database, smtp, signal, log), (line) => log.info(line, { event: 'signal' }));
    } finally {
      smtp.close();
    }
  });
}

export const deliveryOptions = (opts: SendFlags) => ({
  concurrency: opts.concurrency,
  batchSize: opts.batchSize,
  leaseSeconds: opts.lease,
  rate: opts.rate,
  domains: domainLimits(opts),
  backoff: { maxAttempts: opts.maxAttempts, baseSeconds: opts.backoffBase, capSeconds: opts.backoffCap },
});

/** How long after --time-limit sends still in flight are abandoned. */
export const GRACE_SECONDS = 5;

/**
 * --time-limit bounds the whole run, a stalled SMTP server included: the drain stops
 * taking messages at the limit (the ones it claimed and did not start are released),
 * and GRACE_SECONDS later every send still in flight is aborted (nodemailer closes its
 * connection). An aborted send is deferred like a socket timeout: its attempt counts
 * and it is retried after its backoff, so no message is lost; as with any timeout, a
 * server that did take the message before stalling may get it twice.
 */
function timeLimited(smtp: Transporter, timeLimit: number | undefined, startedAt: number) {
  if (timeLimit === undefined) return { smtp, seconds: undefined, done: () => {} };
  const remaining = timeLimit - (Date.now() - startedAt) / 1000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, remaining + GRACE_SECONDS) * 1000);
  const aborting = new Proxy(smtp, {
    get(target, property, receiver) {
      if (property !== 'sendMail') return Reflect.get(target, property, receiver);
      return (mail: SendMailOptions, ...rest: unknown[]) =>
        (target.sendMail as (...args: unknown[]) => unknown).call(target, { ...mail, signal: controller.signal }, ...rest);
    },
  });
  // 0 would mean "no limit" to the drain: the verify may have used it all.
  return { smtp: aborting, seconds: Math.max(0.001, remaining), done: () => clearTimeout(timer) };
}

export const sendCommand = () =>
  addDeliveryOptions(new Command('send').description('drain the queue over SMTP once (run it from cron)'))
    .option('--limit <n>', 'send at most N messages this run', positiveInt)
    .option('--time-limit <duration>', `end the run after this long, e.g. 50s or 5m (sends still stalled ${GRACE_SECONDS}s later are abandoned)`, durationBetween(1, MAX_TIMER_SECONDS))
    .option('--max-deferred <n>', 'stop after N deferrals (a failing server)', positiveInt)
    .action((opts: SendFlags) => {
      const startedAt = Date.now();
      return withDrain(opts, async ({ db }, smtp, signal, log) => {
        const bounded = timeLimited(smtp, opts.timeLimit, startedAt);
        try {
          const result = await drain(db, {
            smtp: bounded.smtp,
            ...deliveryOptions(opts),
            limit: opts.limit,
            timeLimitSeconds: bounded.seconds,
            maxDeferred: opts.maxDeferred,
            signal,
            onDelivery: (message, delivery) => log.delivery(message, delivery, opts.maxAttempts),
          });
          log.info(summary(result), { event: 'summary', ...result });
        } finally {
          bounded.done();
        }
      });
    });
