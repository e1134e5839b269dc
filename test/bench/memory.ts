import { randomBytes } from 'node:crypto';
import type { Figure } from './lib/figure.js';
import { mailroomSend } from './lib/proc.js';
import { startSink } from './lib/sink.js';
import { benchMessages, composeAll, freshDatabase } from './lib/queue.js';
import { fmt } from './lib/stats.js';

/** Every BIG_EVERY-th queued message carries a 1 MB attachment. */
const BIG_EVERY = 250;

/** Fills the queue fast with plain SQL: `n` rows sharing two finished messages, a small and a large one. */
async function fillDirect(sql: NonNullable<Awaited<ReturnType<typeof freshDatabase>>['database']['sql']>, n: number) {
  const [small, big] = await composeAll([
    (await benchMessages(1, 'mem'))[0]!,
    { ...(await benchMessages(1, 'mem-big'))[0]!, attachments: [{ filename: 'report.bin', content: randomBytes(1024 * 1024) }] },
  ]);
  await sql`
    insert into mailroom_messages (message_id, subject, from_address, envelope_from, recipients, raw, size)
    select '<mem-' || i || '@bench.mailroom.test>', 'Memory #' || i, ${small!.from}, ${small!.envelope.from},
           array['user' || i || '@example.test'],
           case when i % ${BIG_EVERY} = 0 then ${big!.raw}::bytea else ${small!.raw}::bytea end,
           case when i % ${BIG_EVERY} = 0 then ${big!.raw.length}::int else ${small!.raw.length}::int end
    from generate_series(1, ${n}::int) as i`;
  return { small: small!.raw.length, big: big!.raw.length };
}

export const memoryFigure: Figure = {
  name: 'memory',
  title: 'Memory: peak RSS of mailroom send, small queue vs 10× larger queue',
  async run({ quick, log }) {
    const sizes = quick ? [1_000, 10_000] : [10_000, 100_000];
    const sink = await startSink();
    const peaks: number[] = [];
    try {
      for (const n of sizes) {
        const db = await freshDatabase();
        try {
          const t0 = performance.now();
          const bytes = await fillDirect(db.database.sql!, n);
          log(`${n} rows (1 in ${BIG_EVERY} of ${fmt(bytes.big / 1e6, 1)} MB, others ${fmt(bytes.small / 1e3, 1)} kB) filled in ${fmt(performance.now() - t0)} ms`);
          const result = await mailroomSend(db.url, sink.url, 10, n, { measureRss: true });
          if (result.peakRssMb === undefined) throw new Error('no peak RSS: /usr/bin/time is missing (apt-get install time)');
          log(`${n}: peak RSS ${fmt(result.peakRssMb)} MB, ${fmt(result.ms)} ms (${fmt((n / result.ms) * 1000)} msg/s)`);
          peaks.push(result.peakRssMb);
        } finally {
          await db.drop();
        }
      }
    } finally {
      await sink.close();
    }
    const [small, large] = peaks as [number, number];
    return [
      {
        figure: '5 memory',
        measured: `${fmt(sizes[1]!)} queued: ${fmt(large)} MB peak`,
        baseline: `${fmt(sizes[0]!)} queued: ${fmt(small)} MB`,
        ratio: large / small,
        target: '≤ 1.2 and < 200 MB',
        pass: large / small <= 1.2 && large < 200,
      },
    ];
  },
};
