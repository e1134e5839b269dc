import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

export interface DrainExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `mailroom send` (the real CLI, in its own process) that a test can signal or kill. */
export interface DrainProcess {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<DrainExit>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `mailroom send ARGS` on the database at `database`. */
export function spawnDrain(database: string, args: string[], env: Record<string, string | undefined> = {}): DrainProcess {
  return spawnMailroom(database, ['send', ...args], env);
}

/** Starts any long-running `mailroom ARGS` (worker, preview) on the database at `database`. */
export function spawnMailroom(database: string, args: string[], env: Record<string, string | undefined> = {}): DrainProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DATABASE_URL: database, SMTP_URL: undefined, MAILROOM_PAUSED: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<DrainExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
