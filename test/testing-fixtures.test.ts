// mailroom/testing in an app's own test suite, under each runner the README shows: vitest,
// jest (native ES modules) and node:test. Each fixture installs mailroom from its packed
// tarball and tests a tiny app: a signup that commits, one that rolls back, a password
// reset whose link is followed, and a failed expectation's message.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, installFixture, pack, run, tempDir } from './helpers/app-fixtures.js';

// The tiny app under test is one file, shared by the three runners' projects.
const APP = join(FIXTURES, 'testing-app', 'app.mjs');

const RUNNERS = [
  { fixture: 'testing-vitest', passed: /Tests\s+4 passed/ },
  { fixture: 'testing-jest', passed: /Tests:\s+4 passed, 4 total/ },
  { fixture: 'testing-node-test', passed: /# pass 4\n# fail 0/ },
] as const;

const dir = tempDir();
let packed: Promise<string> | undefined;
const installs: Promise<string>[] = [];
afterAll(async () => {
  await Promise.allSettled(installs);
  dir.remove();
});

describe.concurrent('mailroom/testing under each test runner, from the tarball', () => {
  it.each(RUNNERS)('$fixture: the fixture app’s email tests pass', async ({ fixture, passed }) => {
    packed ??= pack(dir.path);
    const install = packed.then((tarball) => installFixture(fixture, dir.path, tarball));
    installs.push(install);
    const app = await install;
    mkdirSync(join(app, 'src'), { recursive: true });
    cpSync(APP, join(app, 'src', 'app.mjs'));
    const result = await run('npm', ['test', '--silent'], { cwd: app, env: { CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' }, timeoutMs: 300_000 });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(passed);
  }, 900_000);
});
