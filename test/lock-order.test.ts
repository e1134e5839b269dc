import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { messages } from '../src/store/schema.js';
import { claim, renew } from '../src/drain/claim.js';
import { recordOutcomes, type PlannedOutcome } from '../src/drain/outcome.js';
import { recordSafely } from '../src/drain/record.js';
import { rowsOf } from '../src/store/database.js';
import { backends, pg } from './helpers/databases.js';
import { seedMessages } from './helpers/seed.js';
import { waitFor } from './helpers/wait.js';

const ALL = await backends();
const OWNER = 'drain-under-test';

/** A sent outcome for a claimed message, as the drain plans it. */
const sent = (id: number): PlannedOutcome => ({
  id,
  state: 'sent',
  priority: null,
  recipient_status: {},
  last_error: null,
  delay_seconds: null,
  attempt: 1,
  outcome: 'sent',
  smtp_code: 250,
  reply: '250 ok',
  recipients: [],
  started_at: new Date().toISOString(),
});

// A drain's lease renewal and its outcome write run at once on two connections over the
// same claimed rows. Each used to lock rows in the order its plan met them, and under load
// two of them deadlocked (40P01) and ended the run. PGlite runs one statement at a time on
// one connection, so no two statements ever wait for each other there: Postgres only.
describe.skipIf(!ALL.includes(pg))('row lock order of a drain’s writes on postgres', () => {
  let fx: Awaited<ReturnType<typeof pg.create>>;
  /** A second session, standing in for another statement holding row locks. */
  let other: postgres.Sql;
  let ids: number[];

  beforeEach(async () => {
    fx = await pg.create();
    other = postgres(fx.url, { max: 1, onnotice: () => {} });
    await seedMessages(fx.database.db, 20);
    ids = (await claim(fx.database.db, OWNER, 20, 300)).messages.map((m) => m.id).sort((a, b) => a - b);
    expect(ids).toHaveLength(20);
    // The lowest id moved to the end of the table, so a plan reading in table order meets it last.
    await fx.database.db.execute(sql`update ${messages} set updated_at = now() where id = ${ids[0]}`);
    // Known to be small, the table is read whole, in table order (as under load, where a
    // renewal read it in table order and an outcome write in its own).
    await fx.database.db.execute(sql`analyze ${messages}`);
  });

  afterEach(async () => {
    await other.end({ timeout: 1 });
    await fx.drop();
  });

  /** Whether some other session of this database is waiting for a lock. */
  const someoneWaits = (session: postgres.Sql | postgres.TransactionSql) => async () =>
    (await session`select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`).length > 0;

  /**
   * Holds the lowest id's lock in another session while `write` runs over every id: a
   * write that locks in id order waits there holding nothing, so each other row is free.
   */
  async function rowsLockedWhileWaitingOnTheLowest(write: () => Promise<unknown>): Promise<number[]> {
    const lockedByWrite: number[] = [];
    let done: Promise<unknown> | undefined;
    await other.begin(async (tx) => {
      await tx`select id from mailroom_messages where id = ${ids[0]!} for update`;
      done = write();
      done.catch(() => {});
      await waitFor(someoneWaits(tx), 'the write to wait for the lowest id', 30_000);
      for (const id of ids.slice(1)) {
        const [free] = await tx`select exists (select 1 from mailroom_messages where id = ${id} for update skip locked) as free`;
        if (!free!.free) lockedByWrite.push(id);
      }
    });
    await done;
    return lockedByWrite;
  }

  it('an outcome write takes its row locks in id order, whatever the order of its outcomes', async () => {
    const reversed = [...ids].reverse().map(sent);
    expect(await rowsLockedWhileWaitingOnTheLowest(() => recordOutcomes(fx.database.db, OWNER, reversed))).toEqual([]);
    const states = await fx.database.db.select({ state: messages.state }).from(messages);
    expect(states.every((r) => r.state === 'sent')).toBe(true);
  });

  it('a lease renewal takes its row locks in id order, whatever the order of its ids', async () => {
    const reversed = [...ids].reverse();
    expect(await rowsLockedWhileWaitingOnTheLowest(() => renew(fx.database.db, OWNER, reversed, 300))).toEqual([]);
    expect((await renew(fx.database.db, OWNER, reversed, 300)).sort((a, b) => a - b)).toEqual(ids);
  });

  it('an outcome write chosen as a deadlock victim is written again, once', async () => {
    const [low, high] = [ids[0]!, ids[1]!];
    let written: Promise<unknown> | undefined;
    await other.begin(async (tx) => {
      // This session never detects the cycle: the write's session does, and is rolled back.
      await tx`set local deadlock_timeout = '60s'`;
      await tx`select id from mailroom_messages where id = ${high} for update`;
      written = recordSafely(fx.database.db, OWNER, [sent(low), sent(high)]);
      written.catch(() => {});
      await waitFor(someoneWaits(tx), 'the write to wait for the higher id', 30_000);
      // The write holds the lower id and waits for the higher: taking the lower closes the cycle.
      await tx`select id from mailroom_messages where id = ${low} for update`;
    });
    await expect(written).resolves.toEqual({ unrecorded: [] });
    const rows = await fx.database.db.execute(
      sql`select m.id::int as id, m.state, (select count(*) from mailroom_attempts a where a.message_id = m.id)::int as logged from ${messages} m where m.id in (${low}, ${high}) order by m.id`,
    );
    expect(rowsOf(rows)).toEqual([
      { id: low, state: 'sent', logged: 1 },
      { id: high, state: 'sent', logged: 1 },
    ]);
  });
});
