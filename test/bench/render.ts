import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Figure } from './lib/figure.js';
import { median, sideBySide, fmt, spread } from './lib/stats.js';
import { createRenderPool } from '../../src/views/render-pool.js';
import { WelcomeMail, InvoiceMail } from '../../emails/_views/index.js';
import Invoice from '../../emails/invoice.js';

const VIEWS = fileURLToPath(new URL('../../emails/_views/index.ts', import.meta.url));

/** Alternating welcome and invoice views, each with its own props. */
function jobs(n: number) {
  return Array.from({ length: n }, (_, i) =>
    i % 2
      ? { module: VIEWS, export: 'InvoiceMail', props: { ...Invoice.PreviewProps, number: `F-${i}` } }
      : { module: VIEWS, export: 'WelcomeMail', props: { name: `Núria ${i}`, loginUrl: `https://example.com/l/${i}` } },
  );
}

export const renderFigure: Figure = {
  name: 'render',
  title: 'Rendering on all cores: render pool (worker threads) vs one at a time',
  async run({ quick, log }) {
    const n = quick ? 200 : 1500;
    const rounds = quick ? 1 : 5;
    const cores = availableParallelism();
    const pool = createRenderPool({ size: cores });
    const list = jobs(n);
    try {
      const t0 = performance.now();
      await pool.renderAll(jobs(n * 2)); // start every worker and let its JIT warm up
      log(`pool of ${cores} started and warmed in ${fmt(performance.now() - t0)} ms`);
      for (const job of jobs(n)) await (job.export === 'InvoiceMail' ? new InvoiceMail(job.props as never) : new WelcomeMail(job.props as never)).render();
      const { a, b } = await sideBySide(
        rounds,
        async () => {
          const t = performance.now();
          const rendered = await pool.renderAll(list);
          if (rendered.length !== n) throw new Error('pool lost renders');
          return performance.now() - t;
        },
        async () => {
          const t = performance.now();
          for (const job of list) {
            const view = job.export === 'InvoiceMail' ? new InvoiceMail(job.props as never) : new WelcomeMail(job.props as never);
            await view.render();
          }
          return performance.now() - t;
        },
      );
      log(`pool ${a.map((x) => fmt(x)).join('/')} ms, serial ${b.map((x) => fmt(x)).join('/')} ms`);
      const speedup = median(b) / median(a);
      return [
        {
          figure: '4 render cores',
          measured: `pool ${fmt((n / median(a)) * 1000)} views/s (${cores} workers)`,
          baseline: `serial ${fmt((n / median(b)) * 1000)} views/s`,
          ratio: speedup,
          target: `≈ ${cores} (≥ ${fmt(0.8 * cores, 1)})`,
          pass: speedup >= 0.8 * cores,
          noise: spread(b),
        },
      ];
    } finally {
      await pool.close();
    }
  },
};
