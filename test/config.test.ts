import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backends } from './helpers/databases.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { defineConfig, type MailroomConfig } from 'mailroom';
import { seedMessages } from './helpers/seed.js';

const ALL = await backends();
const DEFINE = fileURLToPath(new URL('../src/config/define.ts', import.meta.url));

/** A fresh folder to run the CLI in, with `files` written into it. */
function folder(files: Record<string, string>) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mailroom-config-')));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const resolved = async (dir: string, args: string[] = [], env: Record<string, string> = {}) => {
  const result = await mailroom(['config', '--json', ...args], env, dir);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as { configFile: string | null; settings: Record<string, { value: unknown; from: string }> };
};

describe('mailroom.config.ts', () => {
  it('defineConfig, from mailroom, types the file and returns it unchanged', () => {
    const config: MailroomConfig = { database: 'file:.mailroom/db', drain: { concurrency: 2, backoffBase: '2m' }, preview: { allowedHosts: ['a.example.com'] } };
    expect(defineConfig(config)).toBe(config);
    // Checked by `tsc -p .` (npm test): a misspelt key or a wrong type does not compile.
    // @ts-expect-error unknown key
    defineConfig({ drain: { concurency: 3 } });
    // @ts-expect-error wrong type
    defineConfig({ preview: { port: '3000' } });
  });

  const typed = (body: string) => `import { defineConfig } from ${JSON.stringify(DEFINE)};\nexport default defineConfig(${body});\n`;

  it('flags beat environment variables beat the file beat defaults: database, smtp, drain.concurrency', async () => {
    using here = folder({
      'mailroom.config.ts': typed(`{ database: 'postgres://app:file-pw@db.internal:5432/app', smtp: 'smtp://mailer:file-pw@smtp.internal:587', drain: { concurrency: 7, lease: 120 } }`),
    });
    const file = join(here.dir, 'mailroom.config.ts');
    const fromFile = await resolved(here.dir);
    expect(fromFile.configFile).toBe(file);
    expect(fromFile.settings['database']).toEqual({ value: 'postgres://app:***@db.internal:5432/app', from: `config file ${file}` });
    expect(fromFile.settings['smtp']).toEqual({ value: 'smtp://mailer:***@smtp.internal:587', from: `config file ${file}` });
    expect(fromFile.settings['drain.concurrency']).toEqual({ value: 7, from: `config file ${file}` });
    expect(fromFile.settings['drain.lease']).toEqual({ value: 120, from: `config file ${file}` });
    expect(fromFile.settings['drain.maxAttempts']).toEqual({ value: 10, from: 'default' });

    const env = { DATABASE_URL: 'postgres://app:env-pw@env-db:5432/app', SMTP_URL: 'smtp://mailer:env-pw@env-smtp:587' };
    const fromEnv = await resolved(here.dir, [], env);
    expect(fromEnv.settings['database']).toEqual({ value: 'postgres://app:***@env-db:5432/app', from: 'environment DATABASE_URL' });
    expect(fromEnv.settings['smtp']).toEqual({ value: 'smtp://mailer:***@env-smtp:587', from: 'environment SMTP_URL' });

    const fromFlags = await resolved(here.dir, ['--database', 'file:flag-db', '--smtp', 'smtp://flag-smtp:25', '--concurrency', '3'], env);
    expect(fromFlags.settings['database']).toEqual({ value: 'file:flag-db', from: 'flag --database' });
    expect(fromFlags.settings['smtp']).toEqual({ value: 'smtp://flag-smtp:25', from: 'flag --smtp' });
    expect(fromFlags.settings['drain.concurrency']).toEqual({ value: 3, from: 'flag --concurrency' });

    using empty = folder({});
    const defaults = await resolved(empty.dir);
    expect(defaults.configFile).toBeNull();
    expect(defaults.settings['database']).toEqual({ value: 'file:.mailroom/db', from: 'default' });
    expect(defaults.settings['smtp']).toEqual({ value: null, from: 'not set' });
    expect(defaults.settings['drain.concurrency']).toEqual({ value: 5, from: 'default' });
  });

  it('mailroom config prints every setting, passwords hidden, with where it came from', async () => {
    using here = folder({ 'mailroom.config.mjs': `export default { smtp: 'smtp://mailer:p%40ss w0rd!@smtp.example.com:587', preview: { allowedHosts: ['mail.example.com'], readOnly: true }, drain: { backoffBase: '2m' } };\n` });
    const file = join(here.dir, 'mailroom.config.mjs');
    const printed = await mailroom(['config'], { DATABASE_URL: 'postgres://u:hunter2@db:5432/x' }, here.dir);
    expect(printed.code).toBe(0);
    expect(printed.stderr).toBe('');
    expect(printed.stdout).not.toMatch(/hunter2|w0rd|p%40ss/);
    const lines = printed.stdout.split('\n');
    expect(lines[0]).toBe(`config file: ${file}`);
    expect(lines).toContainEqual(expect.stringMatching(/^database +postgres:\/\/u:\*\*\*@db:5432\/x +\(environment DATABASE_URL\)$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^smtp +smtp://mailer:\\*\\*\\*@smtp\\.example\\.com:587 +\\(config file ${file}\\)$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^drain\.backoffBase +2m +\(config file /));
    expect(lines).toContainEqual(expect.stringMatching(/^drain\.lease +5m +\(default\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^preview\.allowedHosts +mail\.example\.com +\(config file /));
    expect(lines).toContainEqual(expect.stringMatching(/^preview\.readOnly +true +\(config file /));
    // The preview's environment variable beats the file too.
    const hosts = await resolved(here.dir, [], { MAILROOM_PREVIEW_ALLOWED_HOSTS: 'a.example.com, b.example.com' });
    expect(hosts.settings['preview.allowedHosts']).toEqual({ value: ['a.example.com', 'b.example.com'], from: 'environment MAILROOM_PREVIEW_ALLOWED_HOSTS' });
  });

  it('--config PATH names the file; a missing one is an error', async () => {
    using here = folder({ 'staging.config.mjs': `export default { drain: { rate: 2.5 } };\n`, 'mailroom.config.mjs': `export default { drain: { rate: 9 } };\n` });
    expect((await resolved(here.dir)).settings['drain.rate']!.value).toBe(9);
    const named = await resolved(here.dir, ['--config', 'staging.config.mjs']);
    expect(named.configFile).toBe(join(here.dir, 'staging.config.mjs'));
    expect(named.settings['drain.rate']).toEqual({ value: 2.5, from: `config file ${join(here.dir, 'staging.config.mjs')}` });
    const before = await mailroom(['--config', 'staging.config.mjs', 'config', '--json'], {}, here.dir);
    expect(JSON.parse(before.stdout).settings['drain.rate'].value).toBe(2.5);
    const missing = await mailroom(['status', '--config', 'nope.ts'], {}, here.dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`mailroom: Config file ${join(here.dir, 'nope.ts')} does not exist: check --config.\n`);
  });

  it('an unknown key, a wrong type or a value out of range is a ConfigError naming the key, for every command', async () => {
    const cases: [string, string][] = [
      [`{ drain: { concurency: 3 } }`, '"drain.concurency"'],
      [`{ databse: 'file:x' }`, '"databse"'],
      [`{ drain: { concurrency: '3' } }`, '"drain.concurrency" must be a number'],
      [`{ preview: { allowedHosts: 'a.example.com' } }`, '"preview.allowedHosts" must be an array of strings'],
      [`{ drain: { concurrency: 3000 } }`, '"drain.concurrency": "3000" is not a whole number from 1 to 1000'],
      [`{ drain: 5 }`, '"drain" must be an object'],
    ];
    for (const [body, named] of cases) {
      using here = folder({ 'mailroom.config.mjs': `export default ${body};\n` });
      const result = await mailroom(['status'], {}, here.dir);
      expect(result.code, body).toBe(1);
      expect(result.stderr, body).toContain(named);
      expect(result.stderr.split('\n')).toHaveLength(2); // one line
      expect(result.stdout).toBe('');
    }
  });
});

describe.each(ALL)('commands use the config file on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  it('send drains the database the file names through the SMTP server it names', async () => {
    const created = await backend.create();
    await seedMessages(created.database.db, 2);
    await created.database.close();
    smtp.received.length = 0;
    using here = folder({ 'mailroom.config.mjs': `export default ${JSON.stringify({ database: created.url, smtp: smtp.url, drain: { concurrency: 1 } })};\n` });
    try {
      const status = await mailroom(['status', '--json'], {}, here.dir);
      expect(status.stderr).toBe('');
      expect(JSON.parse(status.stdout)).toMatchObject({ queued: 2 });
      const sent = await mailroom(['send'], {}, here.dir);
      expect(sent.stderr).toBe('');
      expect(sent.stdout).toContain('sent 2, deferred 0, failed 0');
      expect(smtp.received).toHaveLength(2);
    } finally {
      await created.drop();
    }
  });
});
