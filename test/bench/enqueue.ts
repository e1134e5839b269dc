import nodemailer from 'nodemailer';
import type { Figure } from './lib/figure.js';
import { freshDatabase } from './lib/queue.js';
import { median, percentile, fmt, spread } from './lib/stats.js';
import { createQueueTransport } from '../../src/transport/queue-transport.js';
import { WelcomeMail } from '../../emails/views/index.js';

const view = (i: number) => new WelcomeMail({ name: `Núria ${i}`, loginUrl: `https://example.com/login/${i}` });

async function time(body: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await body();
  return performance.now() - t0;
}

export const enqueueFigure: Figure = {
  name: 'enqueue',
  title: 'Enqueue latency: view.send() through the queue transport vs view.render()',
  async run({ quick, log }) {
    const perRound = quick ? 200 : 1000;
    const rounds = quick ? 1 : 5;
    const db = await freshDatabase();
    const transporter = nodemailer.createTransport(createQueueTransport({ database: db.database }));
    const stats = { renderP50: [] as number[], renderP99: [] as number[], sendP50: [] as number[], sendP99: [] as number[] };
    try {
      // Warm up both paths (JIT, connection pool, prepared plans).
      for (let i = 0; i < 100; i++) {
        await view(i).render();
        await view(i).send(transporter, { to: `warm${i}@example.test` });
      }
      let n = 0;
      for (let round = 0; round < rounds; round++) {
        const render: number[] = [];
        const send: number[] = [];
        // Interleaved one by one, alternating which goes first: both see the same noise.
        for (let i = 0; i < perRound; i++, n++) {
          const r = () => time(() => view(n).render());
          const s = () => time(() => view(n).send(transporter, { to: `user${n}@example.test` }));
          if ((i + round) % 2 === 0) {
            render.push(await r());
            send.push(await s());
          } else {
            send.push(await s());
            render.push(await r());
          }
        }
        stats.renderP50.push(percentile(render, 50));
        stats.renderP99.push(percentile(render, 99));
        stats.sendP50.push(percentile(send, 50));
        stats.sendP99.push(percentile(send, 99));
        log(`round ${round + 1}: render p50 ${fmt(percentile(render, 50), 2)} p99 ${fmt(percentile(render, 99), 2)} ms, send p50 ${fmt(percentile(send, 50), 2)} p99 ${fmt(percentile(send, 99), 2)} ms`);
      }
    } finally {
      transporter.close();
      await db.drop();
    }
    const [r50, r99, s50, s99] = [stats.renderP50, stats.renderP99, stats.sendP50, stats.sendP99].map(median) as [number, number, number, number];
    return [
      {
        figure: '2 enqueue p50',
        measured: `send ${fmt(s50, 2)} ms (${perRound}×${rounds})`,
        baseline: `render ${fmt(r50, 2)} ms`,
        ratio: s50 / r50,
        target: '≤ 1.25',
        pass: s50 / r50 <= 1.25,
        noise: spread(stats.renderP50),
      },
      { figure: '2 enqueue p99', measured: `send ${fmt(s99, 2)} ms`, baseline: `render ${fmt(r99, 2)} ms`, ratio: s99 / r99, target: '≤ 1.25', pass: s99 / r99 <= 1.25 },
      { figure: '2 enqueue tail', measured: `send p99 ${fmt(s99, 2)} ms`, baseline: `send p50 ${fmt(s50, 2)} ms`, ratio: s99 / s50, target: '≤ 2.0', pass: s99 / s50 <= 2 },
    ];
  },
};
