import { Command } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { PAUSED, setSetting } from '../../store/settings.js';
import { say } from '../terminal.js';

/** `pause` makes every `send`/`worker` exit 0 without sending (staging); `resume` undoes it. */
export const pauseCommands = () => [
  new Command('pause')
    .description('stop all sending (send and worker exit 0 without sending) until resume')
    .addOption(databaseOption())
    .action(async (opts: { database: string }) => {
      await withDatabase(opts.database, async ({ db }) => {
        await setSetting(db, PAUSED, new Date().toISOString());
        say('sending paused');
      });
    }),
  new Command('resume')
    .description('undo pause')
    .addOption(databaseOption())
    .action(async (opts: { database: string }) => {
      await withDatabase(opts.database, async ({ db }) => {
        await setSetting(db, PAUSED, null);
        say('sending resumed');
      });
    }),
];
