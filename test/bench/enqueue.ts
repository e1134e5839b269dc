import { join } from 'node:path';
import type { Figure } from './lib/figure.js';
import { check, run } from './lib/proc.js';
import { bundle } from './lib/bundle.js';
import { NODE, PROCS } from './lib/paths.js';
import { median, percentile, fmt, spread } from './lib/stats.js';
import type { Timings } from './procs/enqueue-timing.js';
import type { Backend } from '../helpers/databases.js';

export const enqueueFigure: Figure = {
  name: 'enqueue',
  title: 'Enqueue latency: view.send() through the queue transport vs render + one INSERT in postgres.js alone',
  async run({ quick, log }) {
    const perRound = quick ? 200 : 1000;
    const rounds = quick ? 1 : 5;
    const script = await bundle(join(PROCS, 'enqueue-timing.ts'));
    const measure = async (backend: Backend['name']) =>
      JSON.parse(check(await run(NODE, [script, backend, String(perRound), String(rounds)]), `enqueue timing on ${backend}`).stdout) as Timings;
    const stats = await measure('postgres');
    const embedded = await measure('pglite');
    const show = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 2)} p99 ${fmt(percentile(xs, 99), 2)}`;
    stats.render.forEach((_, round) => {
      const step = (name: keyof Timings) => show(stats[name][round]!);
      log(`round ${round + 1}: render ${step('render')}, send ${step('send')}, render + INSERT ${step('floor')}, select 1 ${step('trip')} ms`);
    });
    embedded.render.forEach((_, round) => log(`PGlite round ${round + 1}: render ${show(embedded.render[round]!)}, send ${show(embedded.send[round]!)} ms`));
    const at = (key: keyof Timings, p: number, from = stats) => median(from[key].map((xs) => percentile(xs, p)));
    const [r50, r99, s50, s99, f50, f99] = [at('render', 50), at('render', 99), at('send', 50), at('send', 99), at('floor', 50), at('floor', 99)];
    const [e50, e99, er50, t50] = [at('send', 50, embedded), at('send', 99, embedded), at('render', 50, embedded), at('trip', 50)];
    const react = process.env.NODE_ENV === 'production' ? 'React production build' : `NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}: React development build`;
    log(`bundled and run by plain Node, as a compiled app; ${react}; floor = the render plus one prepared INSERT of its bytes in postgres.js alone`);
    return [
      {
        figure: '2 enqueue p50',
        measured: `view.send() ${fmt(s50, 2)} ms (${perRound}×${rounds})`,
        baseline: `render + one INSERT ${fmt(f50, 2)} ms`,
        ratio: s50 / f50,
        target: '≤ 1.25',
        pass: s50 / f50 <= 1.25,
        noise: spread(stats.floor.map((xs) => percentile(xs, 50))),
      },
      { figure: '2 enqueue tail', measured: `send p99 ${fmt(s99, 2)} ms`, baseline: `send p50 ${fmt(s50, 2)} ms`, ratio: s99 / s50, target: '≤ 2.0', pass: s99 / s50 <= 2 },
      { figure: '2 enqueue floor', measured: `render + INSERT ${fmt(f50, 2)} ms (p99 ${fmt(f99, 2)})`, baseline: `render ${fmt(r50, 2)} ms (p99 ${fmt(r99, 2)})`, ratio: f50 / r50, target: '(any durable queue)' },
      { figure: '2 enqueue round trip', measured: `select 1 ${fmt(t50, 2)} ms`, baseline: `render ${fmt(r50, 2)} ms`, ratio: t50 / r50, target: '' },
      { figure: '2 enqueue PGlite', measured: `send ${fmt(e50, 2)} ms (p99 ${fmt(e99, 2)})`, baseline: `render ${fmt(er50, 2)} ms`, ratio: e50 / er50, target: '(embedded default)' },
    ];
  },
};
