import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { loadOptional } from '../../optional.js';

function port(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError(`"${value}" is not a port: use 1-65535 (0 for any free port).`);
  return Number(value);
}

interface PreviewFlags {
  database: string;
  port: number;
  host: string;
  emails: string;
  smtp?: string;
}

export const previewCommand = () => {
  const command: Command = new Command('preview')
    .description('web preview of the templates (live reload) and of the outbox')
    .option('--port <port>', 'port to listen on', port, 3000)
    .option('--host <host>', 'address to bind; anything but loopback exposes the outbox to the network', '127.0.0.1')
    .option('--emails <dir>', 'folder of React Email templates, with views/index.ts registering mail views', 'emails')
    .addOption(databaseOption())
    .addOption(new Option('--smtp <url>', '"Send now" delivers at once through this server (else it makes the message due)').env('SMTP_URL'))
    .action(async (opts: PreviewFlags) => {
      // The default folder may be absent (an outbox-only staging box); one asked for must exist.
      const explicit = command.getOptionValueSource('emails') === 'cli';
      const emailsDir = explicit || existsSync(resolve(opts.emails)) ? opts.emails : undefined;
      await withDatabase(opts.database, async (database) => {
        const { startPreviewServer } = await loadOptional(
          // tsx too: the preview loads templates through it on the first request.
          () => import('tsx/esm/api').then(() => import('../../preview/server.js')),
          'mailroom preview',
          ['hono', '@hono/node-server', 'mailparser', 'tsx'],
        );
        const server = await startPreviewServer({ database, emailsDir, port: opts.port, host: opts.host, smtp: opts.smtp });
        console.log(`mailroom preview: ${server.url}  (templates from ${emailsDir ? resolve(emailsDir) : 'nowhere: no emails folder'}, outbox of ${database.label})`);
        await new Promise<void>((done) => {
          const stop = () => {
            process.off('SIGINT', stop).off('SIGTERM', stop);
            done();
          };
          process.once('SIGINT', stop).once('SIGTERM', stop);
        });
        await server.close();
      });
    });
  return command;
};
