import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure, Row } from './lib/figure.js';
import { check, mailroomSend, run } from './lib/proc.js';
import { startSink, type Sink } from './lib/sink.js';
import { smtpSource } from './lib/smtp-source.js';
import { bundle } from './lib/bundle.js';
import { benchMessages, composeAll, fill, freshDatabase } from './lib/queue.js';
import { pglite, type Backend } from '../helpers/databases.js';
import { median, rotate, fmt, spread } from './lib/stats.js';
import { NODE, PROCS, scratch } from './lib/paths.js';
import type { ComposedMessage } from '../../src/transport/compose.js';

/**
 * `mailroom send` (the real CLI) draining `composed` from a fresh database, on Postgres
 * unless `backend` says otherwise; wall ms and peak RSS of the process.
 */
export async function drainProcess(sink: Sink, composed: ComposedMessage[], concurrency: number, backend?: Backend, measure = false) {
  const db = await freshDatabase(backend);
  try {
    await fill(db.database, composed);
    const embedded = backend?.name === 'pglite';
    if (embedded) await db.database.close(); // the CLI takes the embedded database's lock
    return await mailroomSend(db.url, sink.url, concurrency, composed.length, { measureRss: embedded || measure });
  } finally {
    await db.drop();
  }
}

/** The baseline process: nodemailer's pool sending the same messages, no queue; bundled and run by plain Node like the compiled CLI. */
export async function nodemailerProcess(sink: Sink, script: string, file: string, count: number, concurrency: number, measure = false) {
  const result = check(await run(NODE, [script, file, sink.url, String(concurrency)], { measureRss: measure }), 'nodemailer-send');
  if (!result.stdout.includes(`sent ${count}`)) throw new Error(`nodemailer sent: ${result.stdout}`);
  return result;
}

const rate = (n: number, ms: number[]) => (n / median(ms)) * 1000;
const list = (ms: number[]) => ms.map((x) => fmt(x)).join('/');

export const drainFigure: Figure = {
  name: 'drain',
  title: 'Drain throughput: mailroom send vs smtp-source (the wire) and nodemailer alone',
  async run({ quick, log }) {
    const n = quick ? 500 : 5000; // the head figure, c=10
    const sweepN = quick ? 300 : 2000;
    const rounds = quick ? 1 : 3;
    const sweepRounds = quick ? 1 : 3;
    const dir = scratch('drain');
    const mails = await benchMessages(n);
    const file = join(dir, 'messages.json');
    writeFileSync(file, JSON.stringify(mails));
    const sweepFile = join(dir, 'sweep.json');
    writeFileSync(sweepFile, JSON.stringify(mails.slice(0, sweepN)));
    const composed = await composeAll(mails);
    const bytes = composed.reduce((sum, m) => sum + m.raw.length, 0) / composed.length;
    const script = await bundle(join(PROCS, 'nodemailer-send.ts'));
    const sink = await startSink();
    const rows: Row[] = [];
    try {
      // The head figure: one run of each, side by side, per round.
      const runs = await rotate(rounds, {
        mailroom: () => drainProcess(sink, composed, 10, undefined, true),
        wire: () => smtpSource(sink, n, bytes, 10),
        nodemailer: () => nodemailerProcess(sink, script, file, n, 10, true),
        embedded: () => drainProcess(sink, composed, 10, pglite),
      });
      const head = { mailroom: runs.mailroom.map((r) => r.ms), wire: runs.wire.map((r) => r.ms), nodemailer: runs.nodemailer.map((r) => r.ms), embedded: runs.embedded.map((r) => r.ms) };
      // Why the wire is out of reach: each process's CPU per message, on 2 cores shared with Postgres and the sink.
      const cpu = (key: keyof typeof runs) => median(runs[key].map((r) => (r.cpuMs ?? NaN) / n));
      log(`c=10, ${n} msgs of ${fmt(bytes)} bytes: mailroom ${list(head.mailroom)} ms, smtp-source ${list(head.wire)} ms, nodemailer ${list(head.nodemailer)} ms, PGlite ${list(head.embedded)} ms`);
      const [mr, wire, nm, em] = [rate(n, head.mailroom), rate(n, head.wire), rate(n, head.nodemailer), rate(n, head.embedded)];
      rows.push(
        {
          figure: '1 drain vs the wire',
          measured: `mailroom send ${fmt(mr)} msg/s (${n} msgs, c=10)`,
          baseline: `smtp-source ${fmt(wire)} msg/s`,
          ratio: mr / wire,
          target: '≥ 0.5',
          pass: mr / wire >= 0.5,
          noise: spread(head.wire),
        },
        {
          figure: '1 drain CPU/msg c=10',
          measured: `mailroom ${fmt(cpu('mailroom'), 2)} ms (PGlite ${fmt(cpu('embedded'), 2)})`,
          baseline: `nodemailer ${fmt(cpu('nodemailer'), 2)} ms, smtp-source ${fmt(cpu('wire'), 3)} ms`,
          ratio: cpu('mailroom') / cpu('nodemailer'),
          target: '(why)',
        },
        { figure: '1 drain c=10', measured: `mailroom ${fmt(mr)} msg/s`, baseline: `nodemailer ${fmt(nm)} msg/s`, ratio: mr / nm, target: '', noise: spread(head.nodemailer) },
        {
          figure: '1 drain PGlite c=10',
          measured: `mailroom on PGlite ${fmt(em)} msg/s`,
          baseline: `on Postgres ${fmt(mr)} msg/s`,
          ratio: em / mr,
          target: '≥ 0.8',
          pass: em / mr >= 0.8,
          noise: spread(head.mailroom),
        },
      );
      const sweep = composed.slice(0, sweepN);
      for (const c of [1, 5, 20]) {
        const r = await rotate(sweepRounds, {
          mailroom: async () => (await drainProcess(sink, sweep, c)).ms,
          nodemailer: async () => (await nodemailerProcess(sink, script, sweepFile, sweepN, c)).ms,
        });
        log(`c=${c}, ${sweepN} msgs: mailroom ${list(r.mailroom)} ms, nodemailer ${list(r.nodemailer)} ms`);
        const [a, b] = [rate(sweepN, r.mailroom), rate(sweepN, r.nodemailer)];
        rows.push({
          figure: `1 drain c=${c}`,
          measured: `mailroom ${fmt(a)} msg/s`,
          baseline: `nodemailer ${fmt(b)} msg/s`,
          ratio: a / b,
          target: c === 1 ? '≥ 1.0' : '',
          pass: c === 1 ? a / b >= 1 : undefined,
          noise: spread(r.nodemailer),
        });
      }
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
