import { Command } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { queueStatus } from '../../store/status.js';
import { say, jsonForTerminal } from '../terminal.js';

export const statusCommand = () =>
  new Command('status')
    .description('count messages by state and show the age of the oldest waiting one')
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .action(async (opts: { database: string; json?: boolean }) => {
      await withDatabase(opts.database, async ({ db }) => {
        const { counts, oldestQueuedSeconds } = await queueStatus(db);
        if (opts.json) {
          say(jsonForTerminal({ ...counts, oldestQueuedSeconds }));
          return;
        }
        for (const [state, count] of Object.entries(counts)) say(`${state.padEnd(9)} ${count}`);
        say(`oldest waiting: ${oldestQueuedSeconds === null ? '-' : `${oldestQueuedSeconds}s`}`);
      });
    });
