import { Command, CommanderError } from 'commander';
import { sendCommand } from './commands/send.js';
import { statusCommand } from './commands/status.js';
import { retryCommand } from './commands/retry.js';
import { migrateCommand } from './commands/migrate.js';
import { fail } from './run.js';

export function program(): Command {
  const root = new Command('mailroom')
    .description('typed email templates with queued delivery')
    .showHelpAfterError()
    .exitOverride();
  for (const make of [sendCommand, statusCommand, retryCommand, migrateCommand]) {
    root.addCommand(make().showHelpAfterError().exitOverride());
  }
  return root;
}

/** Runs the CLI: usage errors and MailroomErrors print one line and exit non-zero. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    fail(error);
  }
}
