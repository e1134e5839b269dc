/**
 * The enqueue figure's measurement, run bundled by plain Node (test/bench/lib/bundle.ts)
 * as a compiled app runs: under tsx, every render's `import('react-dom/server')` in
 * react-email passes tsx's loader (0.2 ms), which apps never pay. Prints one JSON object
 * of per-round timings. Usage: enqueue-timing.js PER_ROUND ROUNDS
 */
import nodemailer from 'nodemailer';
import type postgres from 'postgres';
import { pg, pglite } from '../../helpers/databases.js';
import { createQueueTransport } from '../../../src/transport/queue-transport.js';
import { WelcomeMail } from '../../../emails/views/index.js';

export const STEPS = ['render', 'send', 'floor', 'embedded', 'trip'] as const;
export type Timings = Record<(typeof STEPS)[number], number[][]>;

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

async function measure(perRound: number, rounds: number): Promise<Timings> {
  const db = await pg.create();
  const embedded = await pglite.create();
  const sql = db.database.sql!;
  const transporter = nodemailer.createTransport(createQueueTransport({ database: db.database }));
  const local = nodemailer.createTransport(createQueueTransport({ database: embedded.database }));
  const timings = Object.fromEntries(STEPS.map((step) => [step, [] as number[][]])) as Timings;
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
      const times = Object.fromEntries(STEPS.map((step) => [step, [] as number[]])) as Record<(typeof STEPS)[number], number[]>;
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
      for (const step of STEPS) timings[step].push(times[step]);
    }
  } finally {
    transporter.close();
    local.close();
    await db.drop();
    await embedded.drop();
  }
  return timings;
}

const [perRound, rounds] = process.argv.slice(2).map(Number);
console.log(JSON.stringify(await measure(perRound!, rounds!)));
