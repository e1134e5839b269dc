import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure, Row } from './lib/figure.js';
import { check, mailroomSend, run } from './lib/proc.js';
import { startSink, type Sink } from './lib/sink.js';
import { benchMessages, composeAll, fill, freshDatabase } from './lib/queue.js';
import { pglite, type Backend } from '../helpers/databases.js';
import { median, sideBySide, fmt, spread } from './lib/stats.js';
import { NODE, scratch, tsxArgs } from './lib/paths.js';
import type { ComposedMessage } from '../../src/transport/compose.js';

/**
 * `mailroom send` (the real CLI) draining `composed` from a fresh database, on Postgres
 * unless `backend` says otherwise; wall ms and peak RSS of the process.
 */
export async function drainProcess(sink: Sink, composed: ComposedMessage[], concurrency: number, backend?: Backend) {
  const db = await freshDatabase(backend);
  try {
    await fill(db.database, composed);
    const embedded = backend?.name === 'pglite';
    if (embedded) await db.database.close(); // the CLI takes the embedded database's lock
    return await mailroomSend(db.url, sink.url, concurrency, composed.length, { measureRss: embedded });
  } finally {
    await db.drop();
  }
}

/** The baseline process: nodemailer's pool sending the same messages, no queue. */
export async function timeNodemailer(sink: Sink, file: string, count: number, concurrency: number) {
  const result = check(await run(NODE, tsxArgs('nodemailer-send.ts', file, sink.url, String(concurrency))), 'nodemailer-send');
  if (!result.stdout.includes(`sent ${count}`)) throw new Error(`nodemailer sent: ${result.stdout}`);
  return result.ms;
}

export const drainFigure: Figure = {
  name: 'drain',
  title: 'Drain throughput: mailroom send vs nodemailer alone',
  async run({ quick, log }) {
    const n = quick ? 300 : 2000;
    const rounds = quick ? 1 : 5;
    const sweepRounds = quick ? 1 : 3;
    const dir = scratch('drain');
    const mails = await benchMessages(n);
    const file = join(dir, 'messages.json');
    writeFileSync(file, JSON.stringify(mails));
    const composed = await composeAll(mails);
    const sink = await startSink();
    const rows: Row[] = [];
    try {
      const pair = async (concurrency: number, times: number, backend?: Backend) => {
        const { a, b } = await sideBySide(
          times,
          () => drainProcess(sink, composed, concurrency, backend),
          () => timeNodemailer(sink, file, n, concurrency),
        );
        const ms = a.map((r) => r.ms);
        const peaks = a.flatMap((r) => (r.peakRssMb === undefined ? [] : [r.peakRssMb]));
        const mb = peaks.length ? `, peak ${peaks.map((x) => fmt(x)).join('/')} MB` : '';
        log(`${backend?.name === 'pglite' ? 'PGlite ' : ''}c=${concurrency}: mailroom ${ms.map((x) => fmt(x)).join('/')} ms${mb}, nodemailer ${b.map((x) => fmt(x)).join('/')} ms`);
        return { mr: (n / median(ms)) * 1000, nm: (n / median(b)) * 1000, noise: spread(b), peakMb: peaks.length ? median(peaks) : undefined };
      };
      const head = await pair(5, rounds);
      rows.push({
        figure: '1 drain',
        measured: `mailroom send ${fmt(head.mr)} msg/s (${n} msgs, c=5)`,
        baseline: `nodemailer ${fmt(head.nm)} msg/s`,
        ratio: head.mr / head.nm,
        target: '≥ 1.0',
        pass: head.mr / head.nm >= 1,
        noise: head.noise,
      });
      for (const c of [1, 5, 10, 20]) {
        const r = c === 5 ? head : await pair(c, sweepRounds);
        rows.push({
          figure: `1 drain c=${c}`,
          measured: `mailroom ${fmt(r.mr)} msg/s`,
          baseline: `nodemailer ${fmt(r.nm)} msg/s`,
          ratio: r.mr / r.nm,
          target: '',
          noise: r.noise,
        });
      }
      // The embedded default: the same drain with the queue in PGlite, in the drain's own process.
      const embedded = await pair(5, sweepRounds, pglite);
      rows.push({
        figure: '1 drain PGlite',
        measured: `mailroom ${fmt(embedded.mr)} msg/s, peak ${fmt(embedded.peakMb ?? NaN)} MB`,
        baseline: `nodemailer ${fmt(embedded.nm)} msg/s`,
        ratio: embedded.mr / embedded.nm,
        target: '(embedded default)',
        noise: embedded.noise,
      });
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
