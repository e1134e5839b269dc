import { Command } from 'commander';
import { databaseOption, durationBetween, wholeNumber } from '../options.js';
import { withDatabase } from '../run.js';
import { purge } from '../../store/purge.js';
import { say } from '../terminal.js';

export const purgeCommand = () =>
  new Command('purge')
    .description('delete sent messages, attempt logs and idle throttle state older than a duration, in batches')
    .addOption(databaseOption())
    .requiredOption('--older-than <duration>', 'e.g. 30d, 12h (1s to 100 years)', durationBetween(1, 36_500 * 86_400))
    .option('--failed', 'also delete failed messages')
    .option('--batch-size <n>', 'rows deleted per statement', wholeNumber(1, 100_000), 1000)
    .action(async (opts: { database: string; olderThan: number; failed?: boolean; batchSize: number }) => {
      await withDatabase(opts.database, async ({ db }) => {
        const removed = await purge(db, { olderThanSeconds: opts.olderThan, failed: opts.failed, batchSize: opts.batchSize });
        say(`purged ${removed.messages} messages and ${removed.attempts} attempt rows`);
      });
    });
