import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { mailroom } from './helpers/cli.js';
import { seedMessages } from './helpers/seed.js';
import { spawnMailroom } from './helpers/spawn-drain.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe.each(ALL)('CLI conventions on $name', (backend) => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    // The third message is refused for good: its line names it too.
    smtp = await startSmtp({ onRcpt: (address) => (address === 'r2@example.com' ? smtpError(550, 'no such user') : undefined) });
  });
  afterAll(() => smtp.close());

  async function seeded(count: number) {
    const created = await backend.create();
    await seedMessages(created.database.db, count);
    await created.database.close();
    smtp.received.length = 0;
    const env = { DATABASE_URL: created.url, SMTP_URL: smtp.url };
    return { ...created, env, cli: (...args: string[]) => mailroom(args, env) };
  }

  it('status says when sending is paused, by pause or MAILROOM_PAUSED, in text and JSON', async () => {
    const { cli, env, drop } = await seeded(1);
    try {
      const running = await cli('status', '--json');
      expect(JSON.parse(running.stdout)).toMatchObject({ queued: 1, paused: false, pausedBy: null });
      expect((await cli('status')).stdout).not.toContain('paused');

      expect((await cli('pause')).code).toBe(0);
      const text = await cli('status');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^sending is paused \(mailroom pause since \d{4}-\d\d-\d\dT[^)]+\): run mailroom resume to send\nqueued {4}1\n/);
      const json = JSON.parse((await cli('status', '--json')).stdout);
      expect(json).toMatchObject({ queued: 1, paused: true, pausedBy: 'mailroom pause' });
      expect(new Date(json.pausedSince).getTime()).toBeGreaterThan(Date.now() - 600_000);

      await cli('resume');
      const byEnv = await mailroom(['status', '--json'], { ...env, MAILROOM_PAUSED: '1' });
      expect(JSON.parse(byEnv.stdout)).toMatchObject({ paused: true, pausedBy: 'MAILROOM_PAUSED=1', pausedSince: null });
      expect((await mailroom(['status'], { ...env, MAILROOM_PAUSED: '1' })).stdout).toContain('sending is paused (MAILROOM_PAUSED=1): unset MAILROOM_PAUSED to send');
    } finally {
      await drop();
    }
  });

  it('worker lines carry an ISO timestamp, and each message its id and outcome', async () => {
    const { url, drop } = await seeded(3);
    try {
      const worker = spawnMailroom(url, ['worker', '--poll', '1s'], { SMTP_URL: smtp.url });
      await waitFor(() => /message 3 /.test(worker.stdout()) && /message 1 /.test(worker.stdout()) && /message 2 /.test(worker.stdout()), 'the worker to log all three');
      worker.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit.code).toBe(0);
      const lines = exit.stdout.trimEnd().split('\n');
      for (const line of lines) {
        expect(line).toMatch(ISO);
        expect(Math.abs(Date.parse(line.slice(0, 24)) - Date.now())).toBeLessThan(600_000);
      }
      const bodies = lines.map((line) => line.slice(25));
      expect(bodies[0]).toMatch(/^worker started on /);
      expect(bodies.some((b) => /^message 1 sent: 250 /.test(b))).toBe(true);
      expect(bodies.some((b) => /^message 2 sent: 250 /.test(b))).toBe(true);
      expect(bodies.some((b) => /^message 3 failed: 550 .*no such user/.test(b))).toBe(true);
      expect(bodies.at(-1)).toBe('worker stopped: sent 2, deferred 0, failed 1');
    } finally {
      await drop();
    }
  });
});

describe('a command that would create a new embedded database', () => {
  it('says where, on stderr, and nothing once it exists', async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'mailroom-cwd-')));
    try {
      const first = await mailroom(['status'], {}, cwd);
      expect(first.code).toBe(0);
      expect(first.stderr).toBe(`creating a new embedded database at ${join(cwd, '.mailroom', 'db')} (no DATABASE_URL)\n`);
      expect(first.stdout).toContain('queued    0');
      expect(existsSync(join(cwd, '.mailroom', 'db', 'PG_VERSION'))).toBe(true);

      const again = await mailroom(['status'], {}, cwd);
      expect(again.stderr).toBe('');

      const named = await mailroom(['status', '--database', 'file:elsewhere'], {}, cwd);
      expect(named.stderr).toBe(`creating a new embedded database at ${join(cwd, 'elsewhere')}\n`);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
