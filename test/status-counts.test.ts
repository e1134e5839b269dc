import { describe, expect, it } from 'vitest';
import { inArray, sql } from 'drizzle-orm';
import { messages } from 'mailroom/schema';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';
import { seedMessages } from './helpers/seed.js';
import { countStates } from '../src/store/status.js';

// `mailroom status` and the outbox count every state; on a table with a long history the
// sent ones are estimated (counting them reads the whole table), the rest stay exact.
describe.each(await backends())('state counts on $name', (backend) => {
  const fx = perTest(backend);

  it('are exact on a small table, and estimate only `sent` on a large one', async () => {
    const db = fx.database.db;
    const ids = await seedMessages(db, 80);
    const rows = await db.select({ id: messages.id }).from(messages).orderBy(messages.id);
    await db.update(messages).set({ state: 'sent' }).where(inArray(messages.id, rows.slice(0, 70).map((r) => r.id)));
    await db.update(messages).set({ state: 'failed' }).where(inArray(messages.id, rows.slice(70, 73).map((r) => r.id)));
    expect(ids).toHaveLength(80);
    await db.execute(sql`analyze mailroom_messages`);
    const exact = await countStates(db);
    expect(exact).toEqual({ counts: { queued: 7, sending: 0, deferred: 0, sent: 70, failed: 3 }, estimated: [] });
    // Past the threshold: the planner's row count (exact here, just analyzed) less the exact others.
    const large = await countStates(db, 50);
    expect(large.estimated).toEqual(['sent']);
    expect(large.counts).toEqual({ queued: 7, sending: 0, deferred: 0, sent: 70, failed: 3 });
    // An estimate, not a count: until the next ANALYZE (autovacuum's, or the drain's after a
    // burst), five rows more counted exactly are five less in the estimate of the rest.
    await seedMessages(db, 5);
    expect((await countStates(db, 50)).counts).toMatchObject({ queued: 12, sent: 65 });
  });
});
