import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure, Row } from './lib/figure.js';
import { check, run } from './lib/proc.js';
import { startSink, type Sink } from './lib/sink.js';
import { benchMessages, composeAll, fill } from './lib/queue.js';
import { pg, pglite, type Backend } from '../helpers/databases.js';
import { median, sideBySide, fmt, spread } from './lib/stats.js';
import { BIN, NODE, cliEnv, scratch, tsxArgs } from './lib/paths.js';
import type { ComposedMessage } from '../../src/transport/compose.js';

/**
 * `mailroom send` (the real CLI) draining `composed` from a fresh database, on Postgres
 * unless `backend` says otherwise; wall ms and peak RSS of the process.
 */
export async function drainProcess(sink: Sink, composed: ComposedMessage[], concurrency: number, backend: Backend = pg) {
  const db = await backend.create();
  try {
    await fill(db.database, composed);
    if (backend.name === 'pglite') await db.database.close(); // the CLI takes the embedded database's lock
    const result = check(
      await run(NODE, [BIN, 'send', '--concurrency', String(concurrency)], { env: cliEnv(db.url, sink.url), measureRss: backend.name === 'pglite' }),
      'mailroom send',
    );
    const sent = Number(/sent (\d+)/.exec(result.stdout)?.[1]);
    if (sent !== composed.length) throw new Error(`mailroom send sent ${sent} of ${composed.length}: ${result.stdout}`);
    return result;
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
      const pair = async (concurrency: number, times: number) => {
        const { a, b } = await sideBySide(
          times,
          async () => (await drainProcess(sink, composed, concurrency)).ms,
          () => timeNodemailer(sink, file, n, concurrency),
        );
        const mr = (n / median(a)) * 1000;
        const nm = (n / median(b)) * 1000;
        log(`c=${concurrency}: mailroom ${a.map((x) => fmt(x)).join('/')} ms, nodemailer ${b.map((x) => fmt(x)).join('/')} ms`);
        return { mr, nm, noise: spread(b) };
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
      const embedded = await sideBySide(
        sweepRounds,
        () => drainProcess(sink, composed, 5, pglite),
        () => timeNodemailer(sink, file, n, 5),
      );
      const ms = median(embedded.a.map((r) => r.ms));
      log(`PGlite c=5: mailroom ${embedded.a.map((r) => `${fmt(r.ms)} ms/${fmt(r.peakRssMb ?? NaN)} MB`).join(', ')}; nodemailer ${embedded.b.map((x) => fmt(x)).join('/')} ms`);
      rows.push({
        figure: '1 drain PGlite',
        measured: `mailroom ${fmt((n / ms) * 1000)} msg/s, peak ${fmt(median(embedded.a.map((r) => r.peakRssMb ?? NaN)))} MB`,
        baseline: `nodemailer ${fmt((n / median(embedded.b)) * 1000)} msg/s`,
        ratio: median(embedded.b) / ms,
        target: '(embedded default)',
        noise: spread(embedded.b),
      });
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
