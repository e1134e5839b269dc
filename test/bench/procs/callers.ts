/**
 * The many-callers figure's measurement (a busy web server): `CALLERS` concurrent callers
 * for `SECONDS` each, bundled and run by plain Node like the enqueue figure. Steps, rotated
 * each round: the queue transport's `sendMail` of an already rendered message; the same
 * bytes INSERTed by postgres.js alone with a pool of 10; `view.send()`; `view.render()`
 * alone. Prints one JSON object: completions per second, one list per step.
 * Usage: callers.js CALLERS SECONDS ROUNDS
 */
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import { pg } from '../../helpers/databases.js';
import { createQueueTransport } from '../../../src/transport/queue-transport.js';
import { WelcomeMail } from '../../../emails/_views/index.js';

export type CallerRates = Record<'sendMail' | 'insert' | 'viewSend' | 'render', number[]>;

const [callers, seconds, rounds] = process.argv.slice(2).map(Number) as [number, number, number];
const view = (i: number) => new WelcomeMail({ name: `Núria ${i}`, loginUrl: `https://example.com/login/${i}` });

const db = await pg.create();
const alone = postgres(db.url, { max: 10, onnotice: () => {} });
const transporter = nodemailer.createTransport(createQueueTransport({ database: db.database }));
const rendered = await view(0).toMessage({ to: 'user@example.test' });
const raw = (await transporter.sendMail(rendered)) && (await db.database.sql!`select raw from mailroom_messages limit 1`)[0]!.raw as Buffer;

let n = 0;
const steps: Record<keyof CallerRates, () => Promise<unknown>> = {
  sendMail: () => transporter.sendMail({ ...rendered, to: `user${n++}@example.test` }),
  // The floor: the same stored bytes, one prepared INSERT each, nothing else.
  insert: () => alone`insert into mailroom_messages (message_id, subject, recipients, raw, size)
    values (${`<alone-${n++}@bench>`}, ${'Welcome'}, ${[`user${n}@example.test`]}, ${raw}, ${raw.length})`,
  viewSend: () => view(n++).send(transporter, { to: `user${n}@example.test` }),
  render: () => view(n++).render(),
};

/** Completions per second of `step` with `callers` callers looping for `seconds`. */
async function rate(step: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        await step();
        done++;
      }
    }),
  );
  return (done / (performance.now() - t0)) * 1000;
}

const names = Object.keys(steps) as (keyof CallerRates)[];
const rates = Object.fromEntries(names.map((name) => [name, [] as number[]])) as CallerRates;
try {
  for (const name of names) await rate(steps[name]).then(() => {}); // warm up: JIT, pools, plans
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      await alone`truncate mailroom_messages restart identity cascade`; // every step starts on an empty table
      rates[name].push(await rate(steps[name]));
    }
  }
} finally {
  transporter.close();
  await alone.end({ timeout: 1 });
  await db.drop();
}
console.log(JSON.stringify(rates));
