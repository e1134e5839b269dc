/**
 * The enqueue figure's measurement, run bundled by plain Node (test/bench/lib/bundle.ts)
 * as a compiled app runs: under tsx, every render's `import('react-dom/server')` in
 * react-email passes tsx's loader, which apps never pay (back to back, a render took
 * 1.2 ms under tsx and 0.55 ms bundled). Prints one JSON object
 * of per-round timings. Usage: enqueue-timing.js postgres|pglite PER_ROUND ROUNDS
 *
 * Each database gets its own process: with PGlite in the same process, the Postgres
 * sends measured 0.45 ms slower (its WebAssembly heap and garbage land on their turn).
 */
import nodemailer from 'nodemailer';
import type postgres from 'postgres';
import { pg, pglite, type Backend } from '../../helpers/databases.js';
import { createQueueTransport } from '../../../src/transport/queue-transport.js';
import { WelcomeMail } from '../../../emails/_views/index.js';

/** Per step, one list of milliseconds per round. `floor` and `trip` are measured on Postgres only. */
export type Timings = Record<'render' | 'send' | 'floor' | 'trip', number[][]>;

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

async function measure(backend: Backend, perRound: number, rounds: number): Promise<Partial<Timings>> {
  const db = await backend.create();
  const sql = db.database.sql;
  const transporter = nodemailer.createTransport(createQueueTransport({ database: db.database }));
  const steps: Partial<Record<keyof Timings, (n: number) => Promise<unknown>>> = {
    render: (n) => view(n).render(),
    send: (n) => view(n).send(transporter, { to: `user${n}@example.test` }),
    ...(sql && { floor: (n: number) => renderAndInsert(sql, n), trip: () => sql`select 1` }),
  };
  const names = Object.keys(steps) as (keyof Timings)[];
  const timings: Partial<Timings> = Object.fromEntries(names.map((name) => [name, []]));
  try {
    // Warm up all paths (JIT, connection pool, prepared plans).
    for (let i = 0; i < 100; i++) for (const name of names) await steps[name]!(-1 - i);
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      const times = names.map((name) => {
        const round: number[] = [];
        timings[name]!.push(round);
        return round;
      });
      // Interleaved one by one, rotating which goes first: every step sees the same noise.
      for (let i = 0; i < perRound; i++, n++) {
        for (let k = 0; k < names.length; k++) {
          const at = (i + round + k) % names.length;
          times[at]!.push(await time(() => steps[names[at]!]!(n)));
        }
      }
    }
  } finally {
    transporter.close();
    await db.drop();
  }
  return timings;
}

const [name, perRound, rounds] = process.argv.slice(2);
const backend = [pg, pglite].find((b) => b.name === name);
if (!backend) throw new Error('usage: enqueue-timing.js postgres|pglite PER_ROUND ROUNDS');
console.log(JSON.stringify(await measure(backend, Number(perRound), Number(rounds))));
