// mailroom installed from its packed tarball into separate apps (test/fixtures/): an app
// with its own drizzle-kit migrations, its own schema and transactions on each driver,
// CommonJS (plain and TypeScript nodenext), React 18 and 19.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { installFixture, pack, postgresDatabase, REPO, run, succeed, tempDir } from './helpers/app-fixtures.js';
import { startSmtp } from './helpers/smtp.js';

const FIXTURES = ['esm-postgres-react19', 'cjs-ts-pg-react18', 'cjs-pglite'] as const;
const DRIZZLE_KIT = join(REPO, 'node_modules/drizzle-kit/bin.cjs');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const dir = tempDir();
const cleanup: (() => Promise<unknown>)[] = [];
// One pack for all; each fixture installs when its test first asks (the tests run side by
// side, so installs overlap; `-t` runs only what it names).
let packed: Promise<string> | undefined;
const installs = new Map<(typeof FIXTURES)[number], Promise<string>>();
function installed(name: (typeof FIXTURES)[number]): Promise<string> {
  packed ??= pack(dir.path);
  if (!installs.has(name)) installs.set(name, packed.then((tarball) => installFixture(name, dir.path, tarball)));
  return installs.get(name)!;
}

afterAll(async () => {
  await Promise.allSettled(installs.values()); // every install has ended before its folder goes
  for (const step of cleanup) await step().catch(() => {});
  dir.remove();
});

/** The module files a fresh `import(specifier)` loads in the app (test/fixtures/esm-postgres-react19/loaded-modules.mjs). */
async function loadedBy(app: string, specifier: string): Promise<string[]> {
  const result = await run('node', ['loaded-modules.mjs', specifier], { cwd: app });
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stderr.split('\n').filter((line) => line.startsWith('file:'));
}

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const tables = async (url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public' order by 1`).map((r) => r.name);
  } finally {
    await sql.end({ timeout: 1 });
  }
};

describe.concurrent('mailroom in an app, from its tarball', () => {
  it('ESM + postgres.js + React 19: migrates after the app’s drizzle-kit, its transactions queue or roll back, its code drains', async () => {
    const database = await postgresDatabase();
    if (!database) return;
    cleanup.push(() => database.drop());
    const app = await installed('esm-postgres-react19');
    const smtp = await startSmtp();
    cleanup.push(() => smtp.close());
    const env = { DATABASE_URL: database.url, SMTP_URL: smtp.url };
    // The app's own drizzle-kit migration first: newer than any of mailroom's.
    await succeed('node', [DRIZZLE_KIT, 'generate', '--config', 'drizzle.config.ts'], { cwd: app, env });
    await succeed('node', [DRIZZLE_KIT, 'migrate', '--config', 'drizzle.config.ts'], { cwd: app, env });
    expect(await succeed(join(app, 'node_modules/.bin/mailroom'), ['migrate'], { cwd: app, env })).toMatch(/migrated/);
    expect(await tables(database.url)).toEqual(['mailroom_attempts', 'mailroom_blocklist', 'mailroom_bounces', 'mailroom_domains', 'mailroom_messages', 'mailroom_settings', 'mailroom_suppressions', 'users']);
    // drizzle-kit push with `tablesFilter: ['!mailroom_*']` leaves mailroom's tables alone.
    await succeed('node', [DRIZZLE_KIT, 'push', '--force', '--config', 'drizzle.config.ts'], { cwd: app, env });
    expect(await tables(database.url)).toContain('mailroom_messages');
    // The app type-checks (its own tx accepted, wrong props refused) and runs.
    await succeed(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: app });
    const out = json(await succeed('node', ['dist/app.js'], { cwd: app, env }));
    expect(out.react).toMatch(/^19\./);
    expect(out.text).toMatch(/welcome, núria!/i);
    expect(out.html).toContain('Núria');
    expect(out).toMatchObject({ queued: 1, users: 1, rolledBack: true, sent: 1 });
    // Drained through mailroom/drain from the app's own code, to a real SMTP server.
    expect(smtp.received.map((m) => [m.to, m.parsed.subject])).toEqual([[['nuria@example.com'], 'Welcome, Núria']]);
  }, 900_000); // npm installs of the tarball: minutes on a loaded 2-core machine

  it('import "mailroom" loads what queueing needs: not the drain, Drizzle’s query builders, the preview or a driver', async () => {
    const app = await installed('esm-postgres-react19');
    const root = await loadedBy(app, 'mailroom');
    expect(root.some((url) => url.endsWith('/node_modules/mailroom/dist/index.js'))).toBe(true);
    const unwanted = [
      /\/mailroom\/dist\/drain\/(drain|attempt|claim|outcome)\.js$/,
      /\/mailroom\/dist\/(preview|cli)\//,
      /\/drizzle-orm\/pg-core\/index\.js$/,
      /\/node_modules\/(hono|@hono\/node-server|mailparser|@electric-sql\/pglite|postgres|tsx)\//,
    ];
    expect(root.filter((url) => unwanted.some((pattern) => pattern.test(url)))).toEqual([]);
    // The hook sees them when they are loaded: mailroom/drain brings the drain.
    expect((await loadedBy(app, 'mailroom/drain')).filter((url) => unwanted[0]!.test(url)).length).toBeGreaterThan(0);
  }, 900_000); // npm installs of the tarball: minutes on a loaded 2-core machine

  it('CommonJS TypeScript (nodenext) + node-postgres + React 18: require, transactions, one React', async () => {
    const database = await postgresDatabase();
    if (!database) return;
    cleanup.push(() => database.drop());
    const app = await installed('cjs-ts-pg-react18');
    const env = { DATABASE_URL: database.url };
    await succeed(join(app, 'node_modules/.bin/mailroom'), ['migrate'], { cwd: app, env });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await sql`create table orders (id serial primary key, customer text not null)`;
    await sql.end();
    await succeed(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: app });
    const out = json(await succeed('node', ['dist/app.js'], { cwd: app, env }));
    expect(out.module).toBe('object'); // ran as CommonJS
    expect(out.react).toMatch(/^18\./);
    expect(out.text).toMatch(/thank you, zoë!/i);
    expect(out.html).toContain('Zoë');
    expect(out).toMatchObject({ queued: 4, rolledBack: true, blocked: ['bounced@example.com'] });
    expect(out.subjects).toEqual(['Receipt for Ana', 'Receipt for Zoë', 'Receipt for Łukasz', 'Receipt for Łukasz']);
    // Optional packages not installed: a clear error naming what to install.
    expect(out.embedded).toMatch(/ConfigError: .*npm install @electric-sql\/pglite/);
    const preview = await run(join(app, 'node_modules/.bin/mailroom'), ['preview', '--port', '0'], { cwd: app, env });
    expect(preview.code).toBe(1);
    expect(preview.stderr).toMatch(/mailroom preview needs hono, @hono\/node-server, mailparser, tsx.*npm install/);
    const metrics = await run(join(app, 'node_modules/.bin/mailroom'), ['status', '--prometheus'], { cwd: app, env });
    expect(metrics.code).toBe(1);
    expect(metrics.stderr).toMatch(/Prometheus metrics needs prom-client, which is not installed: run npm install prom-client/);
    const logs = await run(join(app, 'node_modules/.bin/mailroom'), ['send', '--log', 'json', '--smtp', 'smtp://127.0.0.1:9?tls=false'], { cwd: app, env });
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(/--log json needs pino, which is not installed: run npm install pino/);
    expect((await succeed(join(app, 'node_modules/.bin/mailroom'), ['--version'], { cwd: app })).trim()).toBe(VERSION);
    // React is the app's: mailroom carries no copy of its own.
    expect(existsSync(join(app, 'node_modules/mailroom/node_modules/react'))).toBe(false);
  }, 900_000); // npm installs of the tarball: minutes on a loaded 2-core machine

  it('plain CommonJS + the app’s own PGlite: require of each entry point, migrateMailroom on its db, transactions, drained to SMTP', async () => {
    const app = await installed('cjs-pglite');
    const smtp = await startSmtp();
    cleanup.push(() => smtp.close());
    const out = json(await succeed('node', ['src/app.js', join(app, 'db')], { cwd: app, env: { SMTP_URL: smtp.url } }));
    expect(out.module).toBe('object');
    expect(out.html).toContain('Grüße ✉️');
    expect(out).toMatchObject({ queued: 1, rolledBack: true, sent: 1 });
    expect(smtp.received.map((m) => [m.to, m.parsed.subject])).toEqual([[['a@example.com'], 'A note']]);
  }, 900_000); // npm installs of the tarball: minutes on a loaded 2-core machine
});
