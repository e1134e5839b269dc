import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nodemailer, { type Transporter } from 'nodemailer';
import { sql } from 'drizzle-orm';
import { createQueueTransport, enqueueMail, DatabaseError, InvalidMessageError, type QueuedInfo } from 'mailroom';
import { rowsOf } from '../src/store/rows.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();

/**
 * Concurrent `sendMail` calls on the queue transport share one commit (store/group-commit.ts).
 * Each must resolve only once its row is committed, and one message's failure is its own.
 */
describe.each(ALL)('group commit on $name', (backend) => {
  const fx = perTest(backend);
  let queue: Transporter<QueuedInfo>;
  beforeEach(() => {
    queue = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
  });
  afterEach(() => queue.close());

  const mail = (i: number, extra: object = {}) => ({ from: 'a@example.com', to: `user${i}@example.com`, subject: `m${i}`, text: `body ${i}`, ...extra });
  /** Each stored row with the transaction that wrote it (xmin): rows of one commit share it. */
  const stored = async () =>
    rowsOf<{ id: string | number; message_id: string; subject: string; commit: string }>(
      await fx.database.db.execute(sql`select id, message_id, subject, xmin::text as commit from mailroom_messages order by id`),
    );

  it('concurrent sends share commits, and each resolved send is in the table', async () => {
    const infos = await Promise.all(Array.from({ length: 40 }, (_, i) => queue.sendMail(mail(i))));
    const rows = await stored();
    expect(rows).toHaveLength(40);
    // Durable: every resolved id is a committed row holding that message.
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    infos.forEach((info, i) => {
      expect(info).toMatchObject({ state: 'queued', duplicate: false });
      expect(byId.get(info.id)).toMatchObject({ message_id: info.messageId, subject: `m${i}` });
    });
    // Grouped: far fewer commits than sends (one each without grouping).
    expect(new Set(rows.map((r) => r.commit)).size).toBeLessThanOrEqual(20);
  });

  it('a message the database refuses rejects alone; the others in its group are stored', async () => {
    await fx.database.db.execute(sql`alter table mailroom_messages add constraint bench_refuse check (subject <> 'refuse me')`);
    const sends = Array.from({ length: 12 }, (_, i) => queue.sendMail(mail(i, i === 5 ? { subject: 'refuse me' } : {})));
    const settled = await Promise.allSettled(sends);
    expect(settled.map((s) => s.status)).toEqual(settled.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    const reason = (settled[5] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(DatabaseError);
    expect(String(reason.message)).toMatch(/bench_refuse/);
    expect((await stored()).map((r) => r.subject).sort()).toEqual(['m0', 'm1', 'm10', 'm11', 'm2', 'm3', 'm4', 'm6', 'm7', 'm8', 'm9']);
  });

  it('a bad option rejects alone, before it joins a group', async () => {
    const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => queue.sendMail(mail(i, i === 2 ? { sendAt: new Date(NaN) } : {}))));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidMessageError);
    expect(await stored()).toHaveLength(5);
  });

  it('idempotency keys in a group: a key queued before and a key repeated in the group are each stored once', async () => {
    const earlier = await queue.sendMail(mail(0, { idempotencyKey: 'k:old' }));
    const infos = await Promise.all([
      queue.sendMail(mail(1)),
      queue.sendMail(mail(2, { idempotencyKey: 'k:old' })),
      queue.sendMail(mail(3, { idempotencyKey: 'k:new' })),
      queue.sendMail(mail(4, { idempotencyKey: 'k:new' })),
      queue.sendMail(mail(5)),
    ]);
    expect(infos.map((i) => i.duplicate)).toEqual([false, true, false, true, false]);
    expect(infos[1]!.id).toBe(earlier.id);
    expect(infos[3]!.id).toBe(infos[2]!.id);
    expect((await stored()).map((r) => r.subject)).toEqual(['m0', 'm1', 'm3', 'm5']);
  });

  it("a send inside the app's transaction is not grouped: it commits or rolls back with the app", async () => {
    const outside = Array.from({ length: 10 }, (_, i) => queue.sendMail(mail(i)));
    await expect(
      fx.database.db.transaction(async (tx) => {
        await enqueueMail(tx, mail(99, { subject: 'rolled back' }));
        throw new Error('business change failed');
      }),
    ).rejects.toThrow(/^business change failed$/);
    await Promise.all(outside);
    const rows = await stored();
    expect(rows).toHaveLength(10);
    expect(rows.map((r) => r.subject)).not.toContain('rolled back');
  });
});
