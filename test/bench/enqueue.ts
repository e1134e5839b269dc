import nodemailer from 'nodemailer';
import type postgres from 'postgres';
import type { Figure } from './lib/figure.js';
import { freshDatabase } from './lib/queue.js';
import { pglite } from '../helpers/databases.js';
import { median, percentile, fmt, spread } from './lib/stats.js';
import { createQueueTransport } from '../../src/transport/queue-transport.js';
import { WelcomeMail } from '../../emails/views/index.js';

const view = (i: number) => new WelcomeMail({ name: `Núria ${i}`, loginUrl: `https://example.com/login/${i}` });

async function time(body: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await body();
  return performance.now() - t0;
}

/**
 * The floor under any durable queue: the view rendered, then its bytes stored by one
 * prepared INSERT through postgres.js alone (no composing, no Drizzle, no nodemailer).
 */
async function renderAndInsert(sql: postgres.Sql, i: number) {
  const rendered = await view(i).render();
  const raw = Buffer.from(rendered.html + rendered.text);
  await sql`insert into mailroom_messages (message_id, subject, recipients, raw, size)
    values (${`<floor-${i}@bench>`}, ${rendered.subject}, ${[`user${i}@example.test`]}, ${raw}, ${raw.length})`;
}

export const enqueueFigure: Figure = {
  name: 'enqueue',
  title: 'Enqueue latency: view.send() through the queue transport vs view.render()',
  async run({ quick, log }) {
    const perRound = quick ? 200 : 1000;
    const rounds = quick ? 1 : 5;
    const db = await freshDatabase();
    const embedded = await pglite.create();
    const sql = db.database.sql!;
    const transporter = nodemailer.createTransport(createQueueTransport({ database: db.database }));
    const local = nodemailer.createTransport(createQueueTransport({ database: embedded.database }));
    const keys = ['render', 'send', 'floor', 'embedded', 'trip'] as const;
    const stats = Object.fromEntries(keys.map((key) => [key, [] as number[][]])) as Record<(typeof keys)[number], number[][]>;
    try {
      // Warm up all paths (JIT, connection pool, prepared plans).
      for (let i = 0; i < 100; i++) {
        await view(i).render();
        await view(i).send(transporter, { to: `warm${i}@example.test` });
        await view(i).send(local, { to: `warm${i}@example.test` });
        await renderAndInsert(sql, i);
      }
      let n = 0;
      for (let round = 0; round < rounds; round++) {
        const times = Object.fromEntries(keys.map((key) => [key, [] as number[]])) as Record<(typeof keys)[number], number[]>;
        const steps = [
          () => time(() => view(n).render()).then((ms) => times.render.push(ms)),
          () => time(() => view(n).send(transporter, { to: `user${n}@example.test` })).then((ms) => times.send.push(ms)),
          () => time(() => renderAndInsert(sql, n)).then((ms) => times.floor.push(ms)),
          () => time(() => view(n).send(local, { to: `user${n}@example.test` })).then((ms) => times.embedded.push(ms)),
          () => time(() => sql`select 1`).then((ms) => times.trip.push(ms)),
        ];
        // Interleaved one by one, rotating which goes first: every step sees the same noise.
        for (let i = 0; i < perRound; i++, n++) {
          for (let k = 0; k < steps.length; k++) await steps[(i + round + k) % steps.length]!();
        }
        for (const key of keys) stats[key].push(times[key]);
        const show = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 2)} p99 ${fmt(percentile(xs, 99), 2)}`;
        log(`round ${round + 1}: render ${show(times.render)}, send ${show(times.send)}, render + INSERT ${show(times.floor)}, send on PGlite ${show(times.embedded)} ms`);
      }
    } finally {
      transporter.close();
      local.close();
      await db.drop();
      await embedded.drop();
    }
    const at = (key: keyof typeof stats, p: number) => median(stats[key].map((xs) => percentile(xs, p)));
    const [r50, r99, s50, s99, f50, f99] = [at('render', 50), at('render', 99), at('send', 50), at('send', 99), at('floor', 50), at('floor', 99)];
    const [e50, e99, t50] = [at('embedded', 50), at('embedded', 99), at('trip', 50)];
    const react = process.env.NODE_ENV === 'production' ? 'React production build' : `NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}: React development build`;
    log(`${react}; floor = the render plus one prepared INSERT of its bytes in postgres.js alone`);
    return [
      {
        figure: '2 enqueue p50',
        measured: `send ${fmt(s50, 2)} ms (${perRound}×${rounds})`,
        baseline: `render ${fmt(r50, 2)} ms`,
        ratio: s50 / r50,
        target: '≤ 1.25',
        pass: s50 / r50 <= 1.25,
        noise: spread(stats.render.map((xs) => percentile(xs, 50))),
      },
      { figure: '2 enqueue floor', measured: `render + INSERT ${fmt(f50, 2)} ms (p99 ${fmt(f99, 2)})`, baseline: `render ${fmt(r50, 2)} ms`, ratio: f50 / r50, target: '(any durable queue)' },
      {
        figure: '2 enqueue budget',
        measured: `25% of render ${fmt(r50 * 0.25, 2)} ms`,
        baseline: `one round trip (select 1) ${fmt(t50, 2)} ms`,
        ratio: (r50 * 0.25) / t50,
        target: '(room for one INSERT)',
      },
      { figure: '2 enqueue above floor', measured: `send ${fmt(s50, 2)} ms`, baseline: `render + INSERT ${fmt(f50, 2)} ms`, ratio: s50 / f50, target: '' },
      { figure: '2 enqueue p99', measured: `send ${fmt(s99, 2)} ms`, baseline: `render ${fmt(r99, 2)} ms`, ratio: s99 / r99, target: '≤ 1.25', pass: s99 / r99 <= 1.25 },
      { figure: '2 enqueue PGlite', measured: `send ${fmt(e50, 2)} ms (p99 ${fmt(e99, 2)})`, baseline: `render ${fmt(r50, 2)} ms`, ratio: e50 / r50, target: '(embedded default)' },
      { figure: '2 enqueue tail', measured: `send p99 ${fmt(s99, 2)} ms`, baseline: `send p50 ${fmt(s50, 2)} ms`, ratio: s99 / s50, target: '≤ 2.0', pass: s99 / s50 <= 2 },
    ];
  },
};
