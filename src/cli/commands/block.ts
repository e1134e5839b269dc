import { Command } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { blockAddress, listBlocked, unblockAddress } from '../../store/blocklist.js';
import { checkedAddress as checked } from '../../transport/validate.js';
import { say, jsonForTerminal } from '../terminal.js';

export const blockCommand = () => {
  // `mailroom block` is `mailroom suppress` for every message with reason manual, kept for scripts that use it.
  const block = new Command('block').description('recipients that are never mailed (the suppression list\'s manual entries: see `suppress`)');
  block
    .command('add')
    .description('block an address: queued mail to it fails with the reason')
    .argument('<address>')
    .option('--reason <text>', 'why (kept on each message it stops)', '')
    .addOption(databaseOption())
    .action(async (address: string, opts: { database: string; reason: string }) => {
      await withDatabase(opts.database, async ({ db }) => {
        await blockAddress(db, checked(address), opts.reason);
        say(`blocked ${address}`);
      });
    });
  block
    .command('remove')
    .description('unblock an address')
    .argument('<address>')
    .addOption(databaseOption())
    .action(async (address: string, opts: { database: string }) => {
      await withDatabase(opts.database, async ({ db }) => {
        const removed = await unblockAddress(db, checked(address));
        say(removed ? `unblocked ${address}` : `${address} was not blocked`);
      });
    });
  block
    .command('list')
    .description('list blocked addresses')
    .option('--json', 'print JSON')
    .addOption(databaseOption())
    .action(async (opts: { database: string; json?: boolean }) => {
      await withDatabase(opts.database, async ({ db }) => {
        const rows = await listBlocked(db);
        if (opts.json) return say(jsonForTerminal(rows.map(({ address, reason }) => ({ address, reason }))));
        for (const row of rows) say(row.reason ? `${row.address}\t${row.reason}` : row.address);
      });
    });
  return block;
};
