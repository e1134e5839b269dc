import type postgres from 'postgres';
import type { Figure } from './lib/figure.js';
import { benchMessages, composeAll, freshDatabase } from './lib/queue.js';
import { median, sideBySide, fmt, spread } from './lib/stats.js';
import { enqueueMany } from '../../src/store/bulk.js';
import { priorityRank } from '../../src/store/priority-rank.js';
import type { ComposedMessage } from '../../src/transport/compose.js';

const CHUNK = 1000;

/** The baseline: the same rows, the same chunks, one transaction, postgres.js alone. */
async function insertWithPostgresJs(sql: postgres.Sql, composed: ComposedMessage[]) {
  await sql.begin(async (tx) => {
    for (let i = 0; i < composed.length; i += CHUNK) {
      const rows = composed.slice(i, i + CHUNK).map((m) => ({
        message_id: m.messageId,
        priority: priorityRank(m.priority),
        subject: m.subject,
        from_address: m.from,
        envelope_from: m.envelope.from,
        recipients: m.envelope.to,
        raw: m.raw,
        size: m.raw.length,
      }));
      await tx`insert into mailroom_messages ${tx(rows)} returning id`;
    }
  });
}

export const bulkFigure: Figure = {
  name: 'bulk',
  title: 'Bulk enqueue: enqueueMany vs postgres.js multi-row inserts',
  async run({ quick, log }) {
    const n = quick ? 1000 : 10_000;
    const rounds = quick ? 1 : 5;
    // Rendered once, built (RFC 822) per recipient: both sides store identical rows.
    const composed = await composeAll(await benchMessages(n, 'bulk'));
    const db = await freshDatabase();
    const sql = db.database.sql!;
    const empty = () => sql`truncate mailroom_messages restart identity cascade`;
    try {
      const { a, b } = await sideBySide(
        rounds,
        async () => {
          await empty();
          const t0 = performance.now();
          const queued = await enqueueMany(db.database, composed.map((message) => ({ message })), { rowsPerInsert: CHUNK });
          const ms = performance.now() - t0;
          if (queued.length !== n) throw new Error(`enqueueMany queued ${queued.length}`);
          return ms;
        },
        async () => {
          await empty();
          const t0 = performance.now();
          await insertWithPostgresJs(sql, composed);
          return performance.now() - t0;
        },
      );
      log(`enqueueMany ${a.map((x) => fmt(x)).join('/')} ms, postgres.js ${b.map((x) => fmt(x)).join('/')} ms`);
      const ours = (n / median(a)) * 1000;
      const base = (n / median(b)) * 1000;
      return [
        {
          figure: '3 bulk enqueue',
          measured: `enqueueMany ${fmt(ours)} msg/s (${n} msgs)`,
          baseline: `postgres.js ${fmt(base)} msg/s`,
          ratio: ours / base,
          target: '≥ 0.8',
          pass: ours / base >= 0.8,
          noise: spread(b),
        },
      ];
    } finally {
      await db.drop();
    }
  },
};
