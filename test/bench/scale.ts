import { chmodSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Figure, Row } from './lib/figure.js';
import { check, sentBy, start } from './lib/proc.js';
import { startSink } from './lib/sink.js';
import { benchMessages, composeAll, fill, freshDatabase } from './lib/queue.js';
import { median, fmt, spread } from './lib/stats.js';
import { BIN, NODE, cliEnv, scratch } from './lib/paths.js';
import type { ComposedMessage } from '../../src/transport/compose.js';

/** `drains` concurrent `mailroom send` processes on one fresh queue; smtp-sink dumps what arrives. */
async function runDrains(composed: ComposedMessage[], drains: number, dir: string, round: number) {
  const dump = join(dir, `dump-${drains}-${round}.txt`);
  const sink = await startSink({ dump });
  const db = await freshDatabase();
  try {
    await fill(db.database, composed);
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: drains }, () => start(NODE, [BIN, 'send', '--concurrency', '5'], { env: cliEnv(db.url, sink.url) }).done),
    );
    const ms = performance.now() - t0;
    const sent = results.reduce((sum, r) => sum + sentBy(check(r, 'mailroom send')), 0);
    await sink.close(); // flushes the dump
    const ids = sink.messageIds();
    const unique = new Set(ids).size;
    if (sent !== composed.length) throw new Error(`${drains} drains reported ${sent} sent of ${composed.length}`);
    return { ms, sent, received: ids.length, duplicates: ids.length - unique, missing: composed.length - unique };
  } finally {
    await sink.close();
    await db.drop();
    rmSync(dump, { force: true });
  }
}

export const scaleFigure: Figure = {
  name: 'scale',
  title: 'Scale: 1, 2 and 4 concurrent mailroom send processes on one Postgres',
  async run({ quick, log }) {
    const n = quick ? 500 : 3000;
    const rounds = quick ? 1 : 3;
    const counts = [1, 2, 4];
    const dir = scratch('scale');
    chmodSync(dir, 0o777); // smtp-sink drops to user nobody before writing its dump
    const composed = await composeAll(await benchMessages(n, 'scale'));
    const times = new Map<number, number[]>(counts.map((c) => [c, []]));
    let duplicates = 0;
    let missing = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        for (const drains of round % 2 ? [...counts].reverse() : counts) {
          const r = await runDrains(composed, drains, dir, round);
          log(`${drains} drain(s): ${fmt(r.ms)} ms, sent ${r.sent}, received ${r.received}, duplicates ${r.duplicates}, missing ${r.missing}`);
          times.get(drains)!.push(r.ms);
          duplicates += r.duplicates;
          missing += r.missing;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rate = (c: number) => (n / median(times.get(c)!)) * 1000;
    // The issue asks for total throughput, not a ratio. On this machine one drain at c=5
    // already keeps ~1.5 of 2 cores busy with Postgres and the sink, so more drains share
    // the same CPU: the ratio says whether they cost anything, the duplicates row is the target.
    const cores = availableParallelism();
    const rows: Row[] = counts.slice(1).map((c) => ({
      figure: `7 scale ${c} drains`,
      measured: `${fmt(rate(c))} msg/s total`,
      baseline: `1 drain ${fmt(rate(1))} msg/s`,
      ratio: rate(c) / rate(1),
      target: `none (${cores} cores)`,
      noise: spread(times.get(1)!),
    }));
    rows.push({
      figure: '7 scale duplicates',
      measured: `${duplicates} duplicate, ${missing} missing`,
      baseline: `${n} msgs × ${rounds * counts.length} runs`,
      ratio: null,
      target: '0 and 0',
      pass: duplicates === 0 && missing === 0,
    });
    return rows;
  },
};
