import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { Command, InvalidArgumentError, Option } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { say } from '../terminal.js';
import { loadOptional } from '../../optional.js';
import { ConfigError } from '../../errors.js';

function port(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError(`"${value}" is not a port: use 1-65535 (0 for any free port).`);
  return Number(value);
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter(Boolean)];

interface PreviewFlags {
  database: string;
  port: number;
  host: string;
  emails: string;
  smtp?: string;
  allowedHost?: string[];
  readOnly?: boolean;
  hashPassword?: boolean;
  secureCookie?: boolean;
}

/**
 * The preview's login from the environment (never from flags, which `ps` shows):
 * MAILROOM_PREVIEW_PASSWORD (one shared password) or MAILROOM_PREVIEW_USERS
 * (`user:scrypt$…` entries), and MAILROOM_PREVIEW_SECRET to keep sessions across restarts.
 */
async function authFromEnv() {
  const password = process.env.MAILROOM_PREVIEW_PASSWORD || undefined;
  const usersText = process.env.MAILROOM_PREVIEW_USERS || undefined;
  if (password === undefined && usersText === undefined) return undefined;
  const { parseUsers } = await import('../../preview/auth/password.js');
  return { password, users: usersText === undefined ? undefined : parseUsers(usersText), secret: process.env.MAILROOM_PREVIEW_SECRET || undefined };
}

export const previewCommand = () => {
  const command: Command = new Command('preview')
    .description('web preview of the templates (live reload) and of the outbox')
    .option('--port <port>', 'port to listen on', port, 3000)
    .option('--host <host>', 'address to bind; anything but loopback needs a login (MAILROOM_PREVIEW_PASSWORD or MAILROOM_PREVIEW_USERS)', '127.0.0.1')
    .addOption(
      new Option('--allowed-host <name>', 'a Host name the preview answers to (repeatable; *.example.com for subdomains); required with --host 0.0.0.0')
        .env('MAILROOM_PREVIEW_ALLOWED_HOSTS')
        .argParser(collect),
    )
    .option('--read-only', 'no retry, delete or send now')
    .option('--secure-cookie', 'mark the login cookie Secure (HTTPS only): use when TLS ends at a proxy in front')
    .option('--hash-password', 'read a password on standard input, print its hash for MAILROOM_PREVIEW_USERS (user:hash) and exit')
    .option('--emails <dir>', 'folder of React Email templates, with _views/index.ts registering mail views', 'emails')
    .addOption(databaseOption())
    .addOption(new Option('--smtp <url>', '"Send now" delivers at once through this server (else it makes the message due)').env('SMTP_URL'))
    .addHelpText(
      'after',
      '\nEnvironment: MAILROOM_PREVIEW_PASSWORD (one shared password) or MAILROOM_PREVIEW_USERS ("alice:scrypt$…,bob:scrypt$…"),\n' +
        'MAILROOM_PREVIEW_SECRET (32+ characters: sessions survive a restart), MAILROOM_PREVIEW_ALLOWED_HOSTS (comma-separated).',
    )
    .action(async (opts: PreviewFlags) => {
      if (opts.hashPassword) {
        const { hashPreviewPassword } = await import('../../preview/auth/password.js');
        const password = (await text(process.stdin)).replace(/\r?\n$/, '');
        console.log(await hashPreviewPassword(password));
        return;
      }
      const fromEnv = await authFromEnv();
      const auth = fromEnv && { ...fromEnv, secureCookie: opts.secureCookie || undefined };
      const allowedHosts = opts.allowedHost ?? [];
      // The default folder may be absent (an outbox-only staging box); one asked for must exist.
      const explicit = command.getOptionValueSource('emails') !== 'default';
      const emailsDir = explicit || existsSync(resolve(opts.emails)) ? opts.emails : undefined;
      // Before the database opens: a typo in --emails must not create an embedded database.
      if (emailsDir !== undefined && !existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: pass --emails DIR (the folder with your templates).`);
      await withDatabase(opts.database, async (database) => {
        const { startPreviewServer } = await loadOptional(
          // tsx too: the preview loads templates through it on the first request.
          () => import('tsx/esm/api').then(() => import('../../preview/server.js')),
          'mailroom preview',
          ['hono', '@hono/node-server', 'mailparser', 'tsx'],
        );
        const server = await startPreviewServer({
          database,
          emailsDir,
          port: opts.port,
          host: opts.host,
          smtp: opts.smtp,
          auth,
          allowedHosts,
          readOnly: opts.readOnly,
        });
        const notes = [auth ? 'login required' : '', opts.readOnly ? 'read-only' : ''].filter(Boolean).join(', ');
        say(`mailroom preview: ${server.url}  (templates from ${emailsDir ? resolve(emailsDir) : 'nowhere: no emails folder'}, outbox of ${database.label}${notes ? `; ${notes}` : ''})`);
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
