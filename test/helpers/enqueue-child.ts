/**
 * A process that enqueues until it is killed: single sends and 20-message bulks, as an
 * app does, on the database URL given as its argument. Each Message-ID is printed only
 * after its transaction committed (a pipe write is synchronous on Linux), so every
 * printed id is one the database promised to keep. Used by test/kill-loop.test.ts.
 */
import { openDatabase } from '../../src/store/database.js';
import { enqueueMail, enqueueMailMany } from '../../src/transport/queue-transport.js';

const [url, tag] = process.argv.slice(2) as [string, string];
const database = await openDatabase(url);
process.stdout.write('ready\n');

const mail = (n: string) => ({ from: 'app@example.com', to: `r${n}@example.com`, subject: `kill ${n} ✓`, text: `body ${n}\n`.repeat(20) });

for (let i = 0; ; i++) {
  if (i % 4 === 3) {
    const queued = await enqueueMailMany(database, Array.from({ length: 20 }, (_, j) => mail(`${tag}-${i}-${j}`)));
    process.stdout.write(queued.map((q) => `${q.messageId}\n`).join(''));
  } else {
    const queued = await enqueueMail(database, mail(`${tag}-${i}`));
    process.stdout.write(`${queued.messageId}\n`);
  }
}
