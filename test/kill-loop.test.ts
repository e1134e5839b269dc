import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { messages } from '../src/store/schema.js';
import { seedMessages } from './helpers/seed.js';
import { startScriptedSmtp, messageIdOf, type ScriptedSmtp } from './helpers/scripted-smtp.js';
import { spawnDrain } from './helpers/spawn-drain.js';
import { drain } from '../src/drain/drain.js';
import { createSmtpTransport } from '../src/drain/smtp.js';
import { waitFor } from './helpers/wait.js';
import { seededRandom } from './helpers/seeded-random.js';

/**
 * SIGKILL at seeded random moments of enqueue and of drain, on the embedded database:
 * after each kill the database opens, and every committed message is there. The seed
 * is printed; KILL_LOOP_SEED=<seed> replays the same moments.
 */
const SEED = Number(process.env.KILL_LOOP_SEED ?? Date.now() % 2 ** 31);
console.log(`kill-loop seed ${SEED} (KILL_LOOP_SEED=${SEED} replays it)`);

const next = seededRandom(SEED);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CHILD = fileURLToPath(new URL('./helpers/enqueue-child.ts', import.meta.url));
const KILLS = 3;

let dir: string;
let url: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-kill-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function storedIds(database: string): Promise<Map<string, string>> {
  const db = await openDatabase(database);
  try {
    const rows = await db.db.select({ messageId: messages.messageId, state: messages.state }).from(messages);
    return new Map(rows.map((r) => [r.messageId, r.state]));
  } finally {
    await db.close();
  }
}

describe('SIGKILL on the embedded database', () => {
  it('mid-enqueue: the database opens again with every acknowledged message', { timeout: 240_000 }, async () => {
    url = `file:${join(dir, 'enqueue')}`;
    await (await openDatabase(url)).close(); // created here: the kills are of enqueue, not of initdb
    const acknowledged: string[] = [];
    const t0 = Date.now();
    for (let round = 0; round < KILLS; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, `k${round}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise((resolve) => child.on('close', resolve));
      onTestFinished(() => void child.kill('SIGKILL'));
      const lines = () => out.split('\n').slice(0, -1); // a line is acknowledged once its newline arrived
      // Kill at a random moment once it is working: after its first acknowledgement.
      await waitFor(() => lines().length > 1 || child.exitCode !== null, `round ${round} enqueueing`, 120_000);
      expect(child.exitCode, err).toBeNull();
      await sleep(next() * 400);
      expect(child.exitCode, err).toBeNull(); // killed mid-work, not after a crash
      child.kill('SIGKILL');
      console.log(`enqueue kill ${round} at ${Date.now() - t0} ms, ${lines().length - 1} acknowledged`);
      await exited;
      const acks = lines().filter((line) => line !== 'ready');
      expect(acks.length).toBeGreaterThan(0);
      acknowledged.push(...acks);
    }
    const stored = await storedIds(url);
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost, `seed ${SEED}`).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(KILLS);
  });

  // On the database the enqueue kills left behind: what they committed must now go out.
  describe('mid-drain', () => {
    let smtp: ScriptedSmtp;
    beforeAll(async () => {
      smtp = await startScriptedSmtp();
    });
    afterAll(() => smtp.close());

    it('the database opens again, nothing is lost, every message is delivered in the end', { timeout: 240_000 }, async () => {
      expect(url, 'the enqueue kill loop ran first').toMatch(/^file:/);
      const database = await openDatabase(url);
      const count = (await database.db.select({ id: messages.id }).from(messages)).length;
      await seedMessages(database.db, Math.max(0, 400 - count), { bodyBytes: 2_000 }); // enough that no run ends before its kill
      await database.close();
      const queued = await storedIds(url);
      const t0 = Date.now();
      for (let round = 0; round < KILLS; round++) {
        const delivered = smtp.delivered.length;
        const run = spawnDrain(url, ['--smtp', smtp.url, '--lease', '1', '--rate', '100']);
        onTestFinished(() => run.kill('SIGKILL'));
        await waitFor(() => smtp.delivered.length > delivered || run.child.exitCode !== null, `round ${round} delivering`, 120_000);
        await sleep(next() * 500);
        expect(run.child.exitCode, run.stderr()).toBeNull(); // killed mid-run, not after it ended
        run.kill('SIGKILL');
        console.log(`drain kill ${round} at ${Date.now() - t0} ms, ${smtp.delivered.length} delivered so far`);
        await run.exited;
      }
      // The killed runs' claims come back when their 1 s lease ends: drain until all are sent.
      const reopened = await openDatabase(url);
      const transport = createSmtpTransport(smtp.url);
      try {
        await waitFor(
          async () => {
            await drain(reopened.db, { smtp: transport });
            const states = await reopened.db.select({ state: messages.state }).from(messages);
            return states.every((row) => row.state === 'sent');
          },
          'every message sent',
          30_000,
          200,
        );
      } finally {
        transport.close();
        await reopened.close();
      }
      const stored = await storedIds(url);
      expect([...stored.keys()].sort()).toEqual([...queued.keys()].sort());
      const received = new Set(smtp.delivered.map((m) => messageIdOf(m.raw)));
      expect([...queued.keys()].filter((id) => !received.has(id)), `seed ${SEED}`).toEqual([]);
    });
  });
});
