import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { enqueueMany, type Database } from 'mailroom';
import { composeMail, type ComposedMessage } from '../src/transport/compose.js';
import { believedLive, freshenStatistics } from '../src/drain/statistics.js';
import { backends } from './helpers/databases.js';

const ALL = await backends();

async function messagesOf(n: number): Promise<ComposedMessage[]> {
  const data = { from: 'a@example.com', to: 'b@example.com', subject: 'burst', text: 'x' };
  const one = await composeMail(data);
  return Array.from({ length: n }, (_, i) => ({ ...one, messageId: `<burst-${i}@example.com>` }));
}

describe.each(ALL)('planner statistics on $name', (backend) => {
  let db: Awaited<ReturnType<typeof backend.create>>;
  let database: Database;
  beforeEach(async () => {
    db = await backend.create();
    database = db.database;
  });
  afterEach(() => db.drop());

  it('a burst the planner has not seen gets the table analyzed once, then nothing more', async () => {
    // The quiet queue, as statistics last saw it: everything sent.
    await enqueueMany(database, (await messagesOf(50)).map((message) => ({ message })));
    await database.db.execute(sql`update mailroom_messages set state = 'sent'`);
    await database.db.execute(sql`analyze mailroom_messages`);
    await enqueueMany(database, (await messagesOf(5000)).map((message) => ({ message })));
    expect(await believedLive(database.db)).toBeLessThan(5000 / 4);

    const t0 = Date.now();
    expect(await freshenStatistics(database.db, t0)).toBe(true);
    expect(await believedLive(database.db)).toBeGreaterThan(5000 / 2);
    expect(await freshenStatistics(database.db, t0 + 1000)).toBe(false); // within the minute: not even checked
    expect(await freshenStatistics(database.db, t0 + 61_000)).toBe(false); // checked: the planner knows now
  });

  it('a small queue is never worth an ANALYZE', async () => {
    await database.db.execute(sql`analyze mailroom_messages`);
    await enqueueMany(database, (await messagesOf(500)).map((message) => ({ message })));
    expect(await freshenStatistics(database.db)).toBe(false);
  });
});
