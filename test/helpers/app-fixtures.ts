// Fixture apps under test/fixtures/, each installed from one `npm pack` of this repo, as a
// user's app installs mailroom from the registry (no symlink, no src/, no devDependencies).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { POSTGRES_ADMIN_URL } from './databases.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = join(REPO, 'test/fixtures');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded by `timeoutMs`), never throwing on a non-zero exit. */
export function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: error && code === 1 && !stderr ? String(error) : stderr });
      },
    );
  });
}

/** Fails with everything the command printed. */
export async function succeed(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code} in ${options.cwd}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** One `npm pack` of the repo (it builds dist/ through `prepare`) into `dir`; the tarball's path. */
export async function pack(dir: string): Promise<string> {
  const out = await succeed('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, timeoutMs: 300_000 });
  const [packed] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  return join(dir, packed!.filename);
}

/**
 * Copies test/fixtures/NAME to `dir`/NAME, points its `mailroom` dependency at the tarball
 * and installs it; resolves to the app's folder. The npm cache is shared, so the fixtures
 * installing side by side download each package once.
 */
export async function installFixture(name: string, dir: string, tarball: string): Promise<string> {
  const app = join(dir, name);
  cpSync(join(FIXTURES, name), app, { recursive: true });
  const manifest = join(app, 'package.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('MAILROOM_TARBALL', `file:${tarball}`));
  await succeed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, timeoutMs: 600_000 });
  return app;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'mailroom-appfit-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh empty Postgres database for one fixture, or null when Postgres is not reachable outside CI. */
export async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await admin`select 1`;
  } catch (error) {
    await admin.end({ timeout: 1 });
    if (process.env.CI) throw error;
    console.warn(`[mailroom tests] Postgres not reachable at ${POSTGRES_ADMIN_URL}: skipping the Postgres fixture apps.`);
    return null;
  }
  const name = `mailroom_appfit_${randomBytes(6).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}
