import { Command } from 'commander';
import { databaseOption, positiveInt } from '../options.js';
import { withDatabase } from '../run.js';
import { retryMessages } from '../../store/retry.js';
import { say } from '../terminal.js';

export const retryCommand = () =>
  new Command('retry')
    .description('make deferred messages due now (--failed: failed ones too)')
    .addOption(databaseOption())
    .option('--failed', 'also retry failed messages')
    .option('--id <id...>', 'only these message ids', (v: string, prev: number[] = []) => [...prev, positiveInt(v)])
    .action(async (opts: { database: string; failed?: boolean; id?: number[] }) => {
      await withDatabase(opts.database, async ({ db }) => {
        const count = await retryMessages(db, { failed: opts.failed, ids: opts.id });
        say(`${count} message${count === 1 ? '' : 's'} due now`);
      });
    });
