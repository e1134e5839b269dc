import { Command, CommanderError } from 'commander';
import { sendCommand } from './commands/send.js';
import { statusCommand } from './commands/status.js';
import { retryCommand } from './commands/retry.js';
import { migrateCommand } from './commands/migrate.js';
import { workerCommand } from './commands/worker.js';
import { purgeCommand } from './commands/purge.js';
import { blockCommand } from './commands/block.js';
import { suppressCommand } from './commands/suppress.js';
import { bouncesCommand } from './commands/bounces.js';
import { pauseCommands } from './commands/pause.js';
import { previewCommand } from './commands/preview.js';
import { configCommand } from './commands/config.js';
import { checkCommand } from './commands/check.js';
import { newCommand } from './commands/new.js';
import { exportCommand } from './commands/export.js';
import { applyConfigFile } from './config-file.js';
import { fail } from './run.js';
import { forTerminal } from './terminal.js';
import { DatabaseError } from '../errors.js';
import { isConnectionLost } from '../drain/guard.js';

/** Commander's usage errors quote what was typed (`--concurrency $'\e]0;…'`): shown plain, as every line is. */
const plainErrors = { outputError: (text: string, write: (text: string) => void) => write(text.split('\n').map(forTerminal).join('\n')) };

/** Usage errors print the usage and exit non-zero, in subcommands too. */
function strict(command: Command): Command {
  command.showHelpAfterError().exitOverride().configureOutput(plainErrors);
  for (const sub of command.commands) strict(sub);
  return command;
}

export function program(): Command {
  const root = new Command('mailroom')
    .description('typed email templates with queued delivery')
    .option('--config <path>', 'config file (default: mailroom.config.ts, .mts, .js or .mjs in the current directory)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput(plainErrors)
    // Flags and environment variables are set by now; the file fills in only what they left to defaults.
    .hook('preAction', async (_root, command) => {
      await applyConfigFile(root, command);
    });
  const commands = [sendCommand(), workerCommand(), statusCommand(), retryCommand(), purgeCommand(), blockCommand(), suppressCommand(), bouncesCommand(), ...pauseCommands(), previewCommand(), migrateCommand(), configCommand(), checkCommand(), exportCommand(), newCommand()];
  for (const command of commands) root.addCommand(strict(command));
  return root;
}

/** Runs the CLI: usage errors and MailroomErrors print one line and exit non-zero. */
export async function main(argv: string[] = process.argv): Promise<void> {
  // `mailroom status | head`: a closed pipe is the reader's choice, not our error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // postgres.js can throw from a socket callback when the server vanishes mid-transaction
  // (porsager/postgres#1208): still one line and a non-zero exit, never a bare stack, worded
  // as the drain's own report of a lost connection (guard.ts), whichever of the two sees it first.
  // Only a lost connection, or the driver's own socket callback, is reported as a lost
  // database; anything else uncaught is reported as what it is.
  process.on('uncaughtException', (error) => {
    const fromDriver = /[\\/]node_modules[\\/]postgres[\\/]/.test(String((error as Error)?.stack));
    fail(
      isConnectionLost(error) || fromDriver
        ? new DatabaseError(`Lost the database connection mid-run (${(error as Error).message}). Claimed messages come back when their lease ends.`, { cause: error })
        : error,
    );
    process.exit(1);
  });
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    fail(error);
    // A database that stopped answering can leave a socket postgres.js never closes
    // (end() does not destroy it): the run is over, so exit instead of hanging cron.
    if (error instanceof DatabaseError) process.exit(1);
  }
}
