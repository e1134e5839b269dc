import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, NODE, cliEnv } from './paths.js';

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  /** Peak resident set size in MB, when measured. */
  peakRssMb?: number;
  /** CPU time (user + system) of the process, when measured with measureRss. */
  cpuMs?: number;
}

export interface ProcOptions {
  env?: Record<string, string | undefined>;
  /** Wrap in /usr/bin/time -v to read the peak RSS (VmHWM) and the CPU time of the process. */
  measureRss?: boolean;
}

const TIME = '/usr/bin/time';

/** Starts a whole process; `done` resolves when it exits. */
export function start(command: string, args: string[], options: ProcOptions = {}) {
  const rss = options.measureRss && existsSync(TIME);
  const t0 = performance.now();
  const child = spawn(rss ? TIME : command, rss ? ['-v', command, ...args] : args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<ProcResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpu = user && system ? { cpuMs: (Number(user[1]) + Number(system[1])) * 1000 } : {};
      resolve({ code, stdout, stderr, ms, ...(kb ? { peakRssMb: Number(kb[1]) / 1024 } : {}), ...cpu });
    });
  });
  return { child, done, output: () => stdout };
}

export const run = (command: string, args: string[], options: ProcOptions = {}) => start(command, args, options).done;

/** Throws with the process's output when it did not exit 0. */
export function check(result: ProcResult, what: string): ProcResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`.slice(0, 4000));
  return result;
}

/** How many messages a `mailroom send` run says it sent. */
export const sentBy = (result: ProcResult) => Number(/sent (\d+)/.exec(result.stdout)?.[1]);

/** One `mailroom send` process (the compiled CLI) on a database; throws unless it exits 0 having sent `expected`. */
export async function mailroomSend(databaseUrl: string, smtpUrl: string, concurrency: number, expected: number, options: Pick<ProcOptions, 'measureRss'> = {}) {
  const result = check(await run(NODE, [BIN, 'send', '--concurrency', String(concurrency)], { env: cliEnv(databaseUrl, smtpUrl), ...options }), 'mailroom send');
  if (sentBy(result) !== expected) throw new Error(`mailroom send sent ${sentBy(result)} of ${expected}: ${result.stdout}`);
  return result;
}
