import { Command } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { backedOffDomains, queueStatus } from '../../store/status.js';
import { getSetting, PAUSED } from '../../store/settings.js';
import { say, jsonForTerminal } from '../terminal.js';
import { anyReports, deliveryRates, ratesLine } from '../../bounces/rates.js';

/**
 * Whether sending is paused, and by what: `mailroom pause` (stored, with its time) or
 * MAILROOM_PAUSED=1 in this environment. A paused queue that only grows looks like a
 * broken drain otherwise.
 */
async function pausedBy(db: Parameters<typeof getSetting>[0]): Promise<{ paused: boolean; pausedSince: string | null; pausedBy: string | null }> {
  const since = await getSetting(db, PAUSED);
  if (since !== undefined) return { paused: true, pausedSince: since, pausedBy: 'mailroom pause' };
  if (process.env.MAILROOM_PAUSED === '1') return { paused: true, pausedSince: null, pausedBy: 'MAILROOM_PAUSED=1' };
  return { paused: false, pausedSince: null, pausedBy: null };
}

export const statusCommand = () =>
  new Command('status')
    .description('count messages by state and show the age of the oldest waiting one (and bounce and complaint rates, once any were read)')
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .option('--prometheus', 'print the queue gauges and the lease expiries counter in the Prometheus text format (for a cron job feeding a textfile collector or pushgateway)')
    .action(async (opts: { database: string; json?: boolean; prometheus?: boolean }) => {
      await withDatabase(opts.database, async ({ db }) => {
        if (opts.prometheus) {
          const { queueMetricsText } = await import('../../metrics/prometheus.js');
          process.stdout.write(await queueMetricsText(db));
          return;
        }
        const { counts, estimated, oldestQueuedSeconds } = await queueStatus(db);
        const pause = await pausedBy(db);
        // Bounce and complaint rates once `mailroom bounces` has recorded any in the last 7 days.
        // (Asked of the bounces table first: counting a week's sent messages reads a long history.)
        const rates = (await anyReports(db, 7)) ? { '1d': await deliveryRates(db, 1), '7d': await deliveryRates(db, 7) } : undefined;
        const backoffs = await backedOffDomains(db);
        if (opts.json) {
          const backedOff = backoffs.total ? { backedOff: backoffs.domains, backedOffTotal: backoffs.total } : {};
          say(jsonForTerminal({ ...counts, ...(estimated.length ? { estimated } : {}), oldestQueuedSeconds, ...pause, ...(rates ? { deliverability: rates } : {}), ...backedOff }));
          return;
        }
        if (pause.paused) {
          const since = pause.pausedSince ? ` since ${pause.pausedSince}` : '';
          const undo = pause.pausedBy === 'mailroom pause' ? 'run mailroom resume' : 'unset MAILROOM_PAUSED';
          say(`sending is paused (${pause.pausedBy}${since}): ${undo} to send`);
        }
        for (const [state, count] of Object.entries(counts)) say(`${state.padEnd(9)} ${estimated.includes(state as never) ? '≈' : ''}${count}`);
        say(`oldest waiting: ${oldestQueuedSeconds === null ? '-' : `${oldestQueuedSeconds}s`}`);
        if (rates) for (const [label, r] of Object.entries(rates)) say(ratesLine(label, r));
        // Per-domain throttles: a domain that said "try later" is not sent to until then.
        for (const b of backoffs.domains) say(`backed off: ${b.domain} until ${b.until.toISOString()} (${b.step} in a row)`);
        if (backoffs.total > backoffs.domains.length) say(`backed off: ${backoffs.total - backoffs.domains.length} more domains (mailroom status --json lists the first ${backoffs.domains.length})`);
      });
    });
