import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { redact } from '../src/store/redact.js';
import { parseSmtpUrl } from '../src/drain/smtp.js';
import { ConfigError } from '../src/errors.js';
import { forTerminal, jsonForTerminal } from '../src/cli/terminal.js';
import { startScriptedSmtp } from './helpers/scripted-smtp.js';
import { spawnDrain } from './helpers/spawn-drain.js';
import { seedMessages, stateCounts } from './helpers/seed.js';
import { openDatabase } from '../src/store/database.js';
import { waitFor } from './helpers/wait.js';
import { backends } from './helpers/databases.js';
import { mailroom } from './helpers/cli.js';

const ALL = await backends();
const BACKEND = ALL.find((b) => b.name === 'postgres') ?? ALL[0]!;

/** One database for every CLI case here (the flags and output under test do not depend on its content). */
let created: Awaited<ReturnType<typeof BACKEND.create>>;
beforeAll(async () => {
  created = await BACKEND.create();
  await created.database.close(); // the CLI opens it (PGlite: one process at a time)
});
afterAll(() => created.drop());

describe('passwords are hidden in every form a URL can take', () => {
  // [text, the password (must not appear), what must stay visible]
  const table: [string, string, string][] = [
    ['smtp://user:secret@host:587', 'secret', 'smtp://user:***@host:587'],
    ['postgres://user:p@ss@db.example.com:5432/app', 'p@ss', 'postgres://user:***@db.example.com:5432/app'],
    ['smtp://user:a@b@c@host', 'a@b@c', 'smtp://user:***@host'],
    ['smtp://user:pass word@host:587', 'pass word', 'smtp://user:***@host:587'],
    ['smtp://user:two  spaces here@host', 'two  spaces here', 'smtp://user:***@host'],
    ['smtp://user:100%@host', '100%', 'smtp://user:***@host'],
    ['smtp://user:%zz%@host', '%zz%', 'smtp://user:***@host'],
    ['smtp://user:pa%40ss@host', 'pa%40ss', 'smtp://user:***@host'],
    ['smtp:user:secret@host', 'secret', 'smtp:user:***@host'],
    ['smtp:user:p@ss word@host', 'p@ss word', 'smtp:user:***@host'],
    ['smtps://user:a/b?c#d@host', 'a/b?c#d', 'smtps://user:***@host'],
    ['smtp://:onlypass@host', 'onlypass', 'smtp://:***@host'],
    ['postgres://u@host/db?sslmode=require&password=hunter2', 'hunter2', 'postgres://u@host/db?sslmode=require&password=***'],
    ['Cannot connect to "smtp://u:s3cret@h:1": 535 auth failed for x@y.com', 's3cret', '535 auth failed for x@y.com'],
    ['first smtp://a:one@h1 then postgres://b:two@h2/db', 'one', 'then postgres://b:***@h2/db'],
    ['first smtp://a:one@h1 then postgres://b:two@h2/db', 'two', 'first smtp://a:***@h1'],
    ['line smtp://u:pa\nss@host', 'pa', 'smtp://u:'],
    ['SMTP_URL=smtp://user:ünï©ødé🔑@host', 'ünï©ødé🔑', 'smtp://user:***@host'],
  ];
  it.each(table)('%j', (text, password, visible) => {
    const out = redact(text);
    expect(out).not.toContain(password);
    expect(out).toContain(visible);
  });

  // Text that holds no password stays as it was: hosts, ports and replies are what one debugs with.
  it.each([
    'smtp://127.0.0.1:1025 refused mail for a@b.com',
    'smtp://127.0.0.1:1025?tls=false',
    'Cannot connect to Postgres at localhost:5432/app: password authentication failed for user@x',
    'mailroom: sent 3, deferred 0, failed 0 at 12:30:45',
    'mailto:someone@example.com',
  ])('leaves %j alone', (text) => {
    expect(redact(text)).toBe(text);
  });

  it('never throws, whatever it is given', () => {
    for (const text of ['%', 'smtp://u:%@h', 'smtp://u:\uD800@h', 'a:'.repeat(10_000), '@'.repeat(10_000), `smtp://u:${'x '.repeat(5_000)}@h`]) {
      expect(() => redact(text)).not.toThrow();
    }
    expect(redact(`smtp://u:${'x '.repeat(5_000)}@h`)).toBe('smtp://u:***@h');
  });

  it('stays linear on hostile text (an SMTP reply can be hundreds of KB)', () => {
    for (const text of ['a:'.repeat(200_000), `${'x:1 '.repeat(100_000)}@`, `${'a:1/'.repeat(100_000)}@h`, `${'s://u:p '.repeat(50_000)}`]) {
      const started = performance.now();
      redact(text);
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });

  it('a stray % in a password is a ConfigError that names the fix, never a URIError', () => {
    expect(() => parseSmtpUrl('smtp://user:100%@host')).toThrow(ConfigError);
    expect(() => parseSmtpUrl('smtp://user:100%@host')).toThrow(/write % as %25/);
    expect(parseSmtpUrl('smtp://user:100%25@host').auth).toEqual({ user: 'user', pass: '100%' });
  });

  describe('through the real CLI', () => {
    const cases: [string, string[], string][] = [
      ['smtp % password', ['send', '--smtp', 'smtp://user:100%sec@127.0.0.1:1'], '100%sec'],
      ['smtp without //', ['send', '--smtp', 'smtp:user:nodashes@127.0.0.1:1'], 'nodashes'],
      ['smtp password with @ and space', ['send', '--smtp', 'smtp://user:at@ sp ace@127.0.0.1:1'], 'sp ace'],
      ['smtp unknown scheme', ['send', '--smtp', 'smtpx://user:wrongscheme@127.0.0.1:1'], 'wrongscheme'],
      ['database % password', ['status', '--database', 'postgres://user:50%off@127.0.0.1:1/x'], '50%off'],
      ['database @ password', ['status', '--database', 'postgres://user:p@ss@127.0.0.1:1/x'], 'p@ss'],
      ['database unknown scheme', ['status', '--database', 'mysql://user:mysecret@127.0.0.1/x'], 'mysecret'],
    ];
    it.each(cases)('%s: one line, no password, no stack', async (_name, args, password) => {
      const { code, stderr, stdout } = await mailroom(args, { DATABASE_URL: created.url });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr + stdout).not.toContain(password);
      expect(stderr).not.toMatch(/URIError|\n\s+at /);
    });
  });
});

/** Anything a terminal would act on rather than show. */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('nothing from outside reaches the terminal as control characters', () => {
  const table: [string, string][] = [
    ['\x1b[31mred\x1b[0m', 'red'],
    ['\x1b]0;window title\x07after', 'after'],
    ['\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\', 'link'],
    ['\x1b[2J\x1b[H\x1b[3;1Hmoved', 'moved'],
    ['ok\rmailroom: sent 100', 'ok mailroom: sent 100'],
    ['ok\r\nmailroom: forged line', 'ok mailroom: forged line'],
    ['\x9b31mC1 CSI', 'C1 CSI'],
    ['nul\x00del\x7fbell\x07', 'nuldelbell'],
    ['\u202egnp.exe', 'gnp.exe'],
    ['Núria ✓ 🔑 日本\ttab', 'Núria ✓ 🔑 日本\ttab'],
  ];
  it.each(table)('%j', (text, shown) => {
    expect(forTerminal(text)).toBe(shown);
    expect(forTerminal(text)).not.toMatch(UNSAFE);
  });

  it('JSON keeps every character, escaped', () => {
    const value = { reason: '\x1b[2J\u202e\x9b ✓\n' };
    const json = jsonForTerminal(value);
    expect(json).not.toMatch(UNSAFE);
    expect(JSON.parse(json)).toEqual(value);
  });

  const hostile = '\x1b]0;pwned\x07\x1b[2J\x1b[31mbounced\x1b[0m\u202e\r\nmailroom: sent 999';

  it('usage errors quoting a flag value or a command name typed with escape sequences', async () => {
    for (const args of [['send', '--smtp', 'smtp://127.0.0.1:1', '--concurrency', `1${hostile}`], [`st${hostile}atus`], ['purge', '--older-than', hostile]]) {
      const { code, stderr } = await mailroom(args, { DATABASE_URL: created.url });
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^error: /);
      for (const line of stderr.split('\n')) expect(line, args.join(' ')).not.toMatch(UNSAFE);
    }
  });

  it('block list: reasons and addresses stored from outside', async () => {
    const env = { DATABASE_URL: created.url };
    expect((await mailroom(['block', 'add', 'spam@example.com', '--reason', hostile], env)).code).toBe(0);
    const list = await mailroom(['block', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(/\x1b|\r|\u202e/);
    expect(list.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^spam@example\.com\t.*bounced.* mailroom: sent 999$/)]);
    const json = await mailroom(['block', 'list', '--json'], env);
    expect(json.stdout).not.toMatch(/\x1b|\r|\u202e/);
    expect(JSON.parse(json.stdout)).toEqual([{ address: 'spam@example.com', reason: hostile }]);
    const bad = await mailroom(['block', 'add', `x\x1b[2J@example.com\nmailroom: forged`], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toMatch(/\x1b|\r/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an SMTP reply with escape sequences is shown as plain text', async () => {
    const smtp = await startScriptedSmtp(({ stage }) => (stage === 'greeting' ? `554 ${hostile.replace(/\r\n/g, ' ')} go away` : undefined));
    try {
      const { code, stderr } = await mailroom(['send', '--smtp', smtp.url], { DATABASE_URL: created.url });
      expect(code).toBe(1);
      expect(stderr).toContain('bounced');
      expect(stderr).not.toMatch(/\x1b|\x07|\r|\u202e/);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});

/** Runs `jobs` a few at a time: each is a CLI process, and the machine is shared. */
async function few<T>(jobs: (() => Promise<T>)[], atOnce = 3): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += atOnce) results.push(...(await Promise.all(jobs.slice(i, i + atOnce).map((job) => job()))));
  return results;
}

describe('absurd flag values are usage errors, or honoured', () => {
  const SMTP = 'smtp://127.0.0.1:1?tls=false';
  const refused: string[][] = [
    ['send', '--socket-timeout', '0'],
    ['send', '--socket-timeout', '0s'],
    ['send', '--lease', '2200000'], // 25.5 days: past a Node timer
    ['send', '--lease', '99999999999999999999'],
    ['send', '--rate', '1e-300'],
    ['send', '--rate', '0'],
    ['send', '--rate', '-5'],
    ['send', '--rate', 'Infinity'],
    ['send', '--time-limit', '0'],
    ['send', '--time-limit', '30d'],
    ['send', '--time-limit', '1e400d'],
    ['send', '--concurrency', '1000000'],
    ['send', '--batch-size', '10000000000'],
    ['send', '--backoff-base', '0'],
    ['send', '--backoff-cap', `${'9'.repeat(400)}d`],
    ['send', '--max-attempts', '3000000000'],
    ['purge', '--older-than', '1e400d'],
    ['purge', '--older-than', `${'9'.repeat(400)}d`],
    ['purge', '--older-than', '-5d'],
    ['purge', '--older-than', '0'],
    ['purge', '--older-than', '0d'],
    ['purge', '--older-than', '200000w'],
  ];
  it('refuses each with exit 2 and the usage, before touching anything', { timeout: 300_000 }, async () => {
    const results = await few(refused.map((args) => () => mailroom(args[0] === 'send' ? [...args, '--smtp', SMTP] : args, { DATABASE_URL: created.url })), 4);
    results.forEach((result, i) => {
      const args = refused[i]!.join(' ');
      expect(result.code, args).toBe(2);
      expect(result.stderr, args).toContain(`Usage: mailroom ${refused[i]![0]}`);
      expect(result.stderr, args).toMatch(/is not a (duration|number|whole number) from/);
    });
  });

  it('honours the largest and smallest values it accepts', { timeout: 180_000 }, async () => {
    const env = { DATABASE_URL: created.url, MAILROOM_PAUSED: '1' }; // parsed, run, nothing sent
    const accepted: string[][] = [
      ['send', '--smtp', SMTP, '--lease', '2073600', '--time-limit', '24d', '--socket-timeout', '24d', '--rate', '0.001'],
      ['send', '--smtp', SMTP, '--rate', '1e300', '--backoff-cap', '365d', '--concurrency', '1000'],
      ['purge', '--older-than', '36500d'],
      ['purge', '--older-than', '1s'],
    ];
    const results = await few(accepted.map((args) => () => mailroom(args, env)));
    results.forEach((result, i) => expect(result.code, `${accepted[i]!.join(' ')}: ${result.stderr}`).toBe(0));
  });

  it('--time-limit ends a run against a stalled server: in-flight sends are abandoned and deferred, none lost', { timeout: 180_000 }, async () => {
    const stalled = await startScriptedSmtp(({ stage }) => (stage === 'body' ? 'stall' : undefined));
    const healthy = await startScriptedSmtp();
    const database = await openDatabase(created.url);
    try {
      const ids = await seedMessages(database.db, 4);
      await database.close();
      const run = spawnDrain(created.url, ['--smtp', stalled.url, '--time-limit', '2s', '--socket-timeout', '10m', '--concurrency', '2']);
      onTestFinished(() => run.kill('SIGKILL'));
      // Measured from the moment the server holds a message, not from a fixed sleep.
      await waitFor(() => stalled.bodies > 0 || run.child.exitCode !== null, 'a message reaching the stalled server', 60_000);
      const stalledAt = Date.now();
      const exit = await run.exited;
      const seconds = (Date.now() - stalledAt) / 1000;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toMatch(/reached --time-limit/);
      expect(seconds).toBeLessThan(2 + 5 + 8); // the limit, the grace, and a loaded machine; not the 10 minute socket timeout
      const reopened = await openDatabase(created.url);
      const counts = await stateCounts(reopened.db);
      await reopened.close();
      expect(counts.sending ?? 0).toBe(0);
      expect((counts.deferred ?? 0) + (counts.queued ?? 0)).toBe(4);
      expect(counts.deferred).toBeGreaterThan(0);
      // Nothing lost: made due and sent to a server that answers, every message arrives.
      expect((await mailroom(['retry'], { DATABASE_URL: created.url })).code).toBe(0);
      const sent = await mailroom(['send', '--smtp', healthy.url], { DATABASE_URL: created.url });
      expect(sent.code, sent.stderr).toBe(0);
      expect(new Set(healthy.delivered.map((m) => m.messageId))).toEqual(new Set(ids));
    } finally {
      await stalled.close();
      await healthy.close();
    }
  });

  it('--rate far below one a second still ends at --time-limit', { timeout: 120_000 }, async () => {
    const smtp = await startScriptedSmtp();
    const database = await openDatabase(created.url);
    try {
      await seedMessages(database.db, 3);
      await database.close();
      const run = spawnDrain(created.url, ['--smtp', smtp.url, '--rate', '0.001', '--time-limit', '2s']);
      onTestFinished(() => run.kill('SIGKILL'));
      await waitFor(() => smtp.delivered.length > 0 || run.child.exitCode !== null, 'the first message', 60_000);
      const firstAt = Date.now();
      const exit = await run.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect((Date.now() - firstAt) / 1000).toBeLessThan(2 + 8); // not the 1000 s until the next slot
      expect(exit.stdout).toMatch(/sent 1, .*reached --time-limit/);
      expect(smtp.delivered).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});
