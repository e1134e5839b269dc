import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { say, jsonForTerminal } from '../terminal.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type Check } from '../../check/check.js';
import { sizeBetween } from '../options.js';

/**
 * Every check `mailroom check` runs, in order. A new check is one module and one line here.
 * Loaded when the command runs: checks render templates (React, the composer, mailparser),
 * which no other command may load.
 */
async function checks(): Promise<Check[]> {
  const [{ translationsCheck }, { contentCheck }] = await Promise.all([import('../../i18n/check-translations.js'), import('../../check/content.js')]);
  return [translationsCheck, contentCheck];
}

interface CheckFlags {
  emails: string;
  json?: boolean;
  maxMessageSize: number;
}

export const checkCommand = () =>
  new Command('check')
    .description('check the emails folder before it ships (translations, content); exits 1 on any error')
    .option('--emails <dir>', 'folder of React Email templates, with _views/index.ts registering mail views', 'emails')
    .option('--json', 'print the problems as JSON')
    .option('--max-message-size <size>', 'largest whole message, attachments encoded (10MB, 500KB, bytes)', sizeBetween(1024, 1024 * 1024 * 1024), DEFAULT_MAX_MESSAGE_BYTES)
    .action(async (flags: CheckFlags) => {
      const emailsDir = resolve(flags.emails);
      if (!existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: pass --emails DIR.`);
      const [{ EmailCatalog }, { runChecks }] = await Promise.all([import('../../preview/templates.js'), import('../../check/check.js')]);
      const loader = new EmailCatalog(emailsDir);
      try {
        const reports = await runChecks(await checks(), { emailsDir, catalog: await loader.load(), options: { maxMessageBytes: flags.maxMessageSize } });
        const problems = reports.flatMap((r) => r.problems.map((p) => ({ check: r.check, ...p })));
        const errors = problems.filter((p) => p.severity === 'error').length;
        if (flags.json) say(jsonForTerminal(problems));
        else {
          for (const report of reports) {
            say(`${report.check}: ${report.problems.length ? `${report.problems.length} problem${report.problems.length > 1 ? 's' : ''}` : 'ok'}`);
            for (const p of report.problems) say(`  ${p.severity}: ${p.where}: ${p.message}`);
          }
          say(`${errors} error${errors === 1 ? '' : 's'}, ${problems.length - errors} warning${problems.length - errors === 1 ? '' : 's'}`);
        }
        if (errors) process.exitCode = 1;
      } finally {
        await loader.close();
      }
    });
