import nodemailer from 'nodemailer';
import type { Figure } from './lib/figure.js';
import { run, start } from './lib/proc.js';
import { startArrivals } from './lib/arrivals.js';
import { benchMessages, freshDatabase } from './lib/queue.js';
import { percentile, fmt } from './lib/stats.js';
import { BIN, NODE, cliEnv } from './lib/paths.js';
import { createQueueTransport } from '../../src/transport/queue-transport.js';
import { createSmtpTransport } from '../../src/drain/smtp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether this checkout has `mailroom worker` (it lists in `mailroom --help`). */
async function hasWorker(): Promise<boolean> {
  const help = await run(NODE, [BIN, '--help']);
  return /^\s+worker\b/m.test(help.stdout + help.stderr);
}

export const workerFigure: Figure = {
  name: 'worker',
  title: 'Worker latency: queued → accepted by SMTP through mailroom worker, vs sending directly',
  async run({ quick, log }) {
    if (!(await hasWorker())) {
      return [{ figure: '6 worker latency', measured: 'n/a (no worker)', baseline: '', ratio: null, target: '' }];
    }
    const n = quick ? 50 : 400;
    const server = await startArrivals();
    const db = await freshDatabase();
    const worker = start(NODE, [BIN, 'worker', '--concurrency', '5'], { env: cliEnv(db.url, server.url) });
    const queue = nodemailer.createTransport(createQueueTransport({ database: db.database }));
    const direct = createSmtpTransport(server.url, { concurrency: 5 });
    const viaWorker: number[] = [];
    const viaSmtp: number[] = [];
    try {
      for (let i = 0; i < 200 && !worker.output().includes('worker started'); i++) await sleep(50);
      if (!worker.output().includes('worker started')) throw new Error(`mailroom worker did not start: ${worker.output()}`);
      const mails = await benchMessages(2 * n + 20, 'lat');
      // 20 warm-up sends, then one queued and one direct send at a time; each pair alternates which goes first.
      for (let i = 0; i < 2 * n + 20; i++) {
        const mail = mails[i]!;
        const id = mail.messageId as string;
        const t0 = performance.now();
        let t1: number;
        if ((i + (i >> 1)) % 2 === 0) {
          await queue.sendMail(mail);
          t1 = performance.now(); // committed: from here the worker must notice it
          (i >= 20 ? viaWorker : []).push((await server.wait(id)) - t1);
        } else {
          await direct.sendMail(mail);
          (i >= 20 ? viaSmtp : []).push((await server.wait(id)) - t0);
        }
        await sleep(5);
      }
    } finally {
      direct.close();
      queue.close();
      worker.child.kill('SIGTERM');
      const exit = await worker.done;
      if (exit.code !== 0) log(`worker exited ${exit.code}: ${exit.stderr.slice(0, 500)}`);
      await server.close();
      await db.drop();
    }
    const [w50, w99, s50, s99] = [percentile(viaWorker, 50), percentile(viaWorker, 99), percentile(viaSmtp, 50), percentile(viaSmtp, 99)];
    log(`worker p50 ${fmt(w50, 2)} p99 ${fmt(w99, 2)} ms; direct SMTP p50 ${fmt(s50, 2)} p99 ${fmt(s99, 2)} ms`);
    return [
      {
        figure: '6 worker latency',
        measured: `p50 ${fmt(w50, 1)} ms, p99 ${fmt(w99, 1)} ms (${viaWorker.length} msgs)`,
        baseline: `direct SMTP p50 ${fmt(s50, 1)} ms, p99 ${fmt(s99, 1)} ms`,
        ratio: w50 / s50,
        target: 'none set (p50 ratio)',
      },
    ];
  },
};
