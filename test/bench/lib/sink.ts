import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

const SMTP_SINK = ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink'];

/** Path of Postfix's smtp-sink, installing Debian's postfix package (as root) when missing. */
export function smtpSinkPath(): string {
  const found = SMTP_SINK.find((p) => existsSync(p));
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.error('[bench] smtp-sink missing: installing Debian package postfix (apt-get install -y postfix)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'postfix'], { stdio: 'inherit', env });
    const installed = SMTP_SINK.find((p) => existsSync(p));
    if (installed) return installed;
  }
  throw new Error(
    'smtp-sink not found: it comes with Postfix. Install it with\n' +
      '  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postfix\n' +
      '(the postfix daemon itself is not needed; smtp-sink is a standalone test server).',
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`smtp-sink did not listen on port ${port}`);
}

export interface Sink {
  url: string;
  port: number;
  /** Messages received so far (from smtp-sink's -c counters). */
  received(): number;
  /** With `dump`: every Message-ID received, in order. */
  messageIds(): string[];
  close(): Promise<void>;
}

/**
 * Postfix's smtp-sink: a C server that accepts and discards mail as fast as clients send.
 * `dump` appends every message to that file (-D), to count Message-IDs afterwards.
 */
export async function startSink(options: { dump?: string } = {}): Promise<Sink> {
  const port = await freePort();
  const args = ['-c', '-m', '1000'];
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  if (options.dump) args.push('-D', options.dump);
  args.push(`127.0.0.1:${port}`, '1000');
  const child = spawn(smtpSinkPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let last = 0;
  let tail = '';
  child.stdout.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-200);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    if (all.length) last = Number(all[all.length - 1]![1]);
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill();
    throw new Error(`${(error as Error).message}: ${stderr}`);
  }
  return {
    port,
    url: `smtp://127.0.0.1:${port}?tls=false`,
    received: () => last,
    messageIds: () =>
      options.dump && existsSync(options.dump)
        ? [...readFileSync(options.dump, 'latin1').matchAll(/^Message-ID: *(<[^>\r\n]*>)/gim)].map((m) => m[1]!)
        : [],
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
