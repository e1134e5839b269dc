import { existsSync } from 'node:fs';
import { check, run, type ProcResult } from './proc.js';
import type { Sink } from './sink.js';

const SMTP_SOURCE = ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'];

/**
 * The wire's limit on this machine: Postfix's smtp-source (C, comes with smtp-sink) sending
 * `count` messages of `bytes` each over `sessions` connections to the same sink. A whole
 * process, timed like `mailroom send`; -d keeps each session's connection for all its
 * messages, as a pool does.
 */
export async function smtpSource(sink: Sink, count: number, bytes: number, sessions: number): Promise<ProcResult> {
  const bin = SMTP_SOURCE.find((p) => existsSync(p));
  if (!bin) throw new Error('smtp-source not found: it comes with Postfix (apt-get install -y postfix).');
  const args = ['-d', '-s', String(sessions), '-m', String(count), '-l', String(Math.round(bytes)), '-f', 'bench@mailroom.test', '-t', 'user@example.test'];
  return check(await run(bin, [...args, `127.0.0.1:${sink.port}`], { measureRss: true }), 'smtp-source');
}
