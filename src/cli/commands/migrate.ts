import { Command } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { say } from '../terminal.js';

export const migrateCommand = () =>
  new Command('migrate')
    .description('create or update the queue tables (drizzle/ migrations)')
    .addOption(databaseOption())
    .action(async (opts: { database: string }) => {
      await withDatabase(opts.database, async (database) => {
        await database.migrate();
        say(`migrated ${database.label}`);
      }, false, false);
    });
