import { resolve } from 'node:path';
import { Command } from 'commander';
import { say } from '../terminal.js';
import { loadOptional } from '../../optional.js';

interface ExportFlags {
  out: string;
  emails: string;
}

/** `mailroom export --out DIR`: the templates and views as static files, for design review and as a CI artefact. */
export const exportCommand = () =>
  new Command('export')
    .description('write every template and view (and each named prop set) as .html, .txt and .eml, with an offline index.html')
    .requiredOption('--out <dir>', 'folder to write (new, empty, or an earlier export)')
    .option('--emails <dir>', 'folder of React Email templates, with _views/index.ts registering mail views', 'emails')
    .action(async (opts: ExportFlags) => {
      const { exportEmails } = await loadOptional(
        () => import('tsx/esm/api').then(() => import('../../preview/export/static-export.js')),
        'mailroom export',
        ['tsx', 'mailparser', 'prettier', 'highlight.js'],
      );
      const { entries, failed } = await exportEmails({ emailsDir: opts.emails, outDir: opts.out });
      for (const f of failed) say(`mailroom export: ${f.what} could not be rendered: ${f.error}`);
      say(`mailroom export: ${entries.length} email${entries.length === 1 ? '' : 's'} written to ${resolve(opts.out)} (open index.html)`);
      if (failed.length) process.exitCode = 1;
    });
