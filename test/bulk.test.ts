import { describe, expect, it } from 'vitest';
import { enqueueMail, enqueueMailMany, enqueueMany, InvalidMessageError } from 'mailroom';
import { messages } from 'mailroom/schema';
import { drain, createSmtpTransport } from 'mailroom/drain';
import { composeMail } from '../src/transport/compose.js';
import { WelcomeMail } from '../emails/_views/index.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();
const mail = (i: number, extra: object = {}) => ({ from: 'a@example.com', to: `user${i}@example.com`, subject: `bulk ${i}`, text: `hello ${i}`, ...extra });

describe.each(ALL)('bulk enqueue on $name', (backend) => {
  const fx = perTest(backend);

  const rows = () => fx.database.db.select().from(messages).orderBy(messages.id);

  it('queues many messages in chunks, results in input order, and the drain sends them as built', async () => {
    const composed = await Promise.all([0, 1, 2, 3, 4].map(async (i) => composeMail(mail(i))));
    const queued = await enqueueMany(fx.database, composed.map((message) => ({ message })), { rowsPerInsert: 2 });
    expect(queued.map((q) => q.messageId)).toEqual(composed.map((c) => c.messageId));
    expect(queued.every((q) => q.state === 'queued' && !q.duplicate && typeof q.id === 'number')).toBe(true);
    const stored = await rows();
    expect(stored.map((r) => r.id)).toEqual(queued.map((q) => q.id));
    expect(stored[3]!.raw.equals(composed[3]!.raw)).toBe(true);
    expect(stored[3]!.recipients).toEqual(['user3@example.com']);
    const transport = createSmtpTransport(fx.smtp.url, { concurrency: 2 });
    expect((await drain(fx.database.db, { smtp: transport })).sent).toBe(5);
    transport.close();
    expect(fx.smtp.received.map((m) => m.parsed.subject).sort()).toEqual(['bulk 0', 'bulk 1', 'bulk 2', 'bulk 3', 'bulk 4']);
  });

  it('splits inserts by size too, so large attachments do not make one huge statement', async () => {
    const big = Buffer.alloc(64 * 1024, 1);
    const queued = await enqueueMailMany(fx.database, [0, 1, 2].map((i) => mail(i, { attachments: [{ filename: 'a.bin', content: big }] })), {
      bytesPerInsert: 100 * 1024,
    });
    expect(queued).toHaveLength(3);
    expect(await rows()).toHaveLength(3);
  });

  // One row per INSERT, and all in one INSERT that mixes keyed and unkeyed rows.
  it.each([1, 1000])('an idempotency key queued before, or repeated in the batch, is stored once (%i rows per insert)', async (rowsPerInsert) => {
    const earlier = await enqueueMail(fx.database, { ...mail(0), idempotencyKey: 'k:0' });
    const queued = await enqueueMailMany(
      fx.database,
      [mail(1, { idempotencyKey: 'k:0' }), mail(2, { idempotencyKey: 'k:2' }), mail(3), mail(4, { idempotencyKey: 'k:2' })],
      { rowsPerInsert },
    );
    expect(queued[0]).toMatchObject({ id: earlier.id, duplicate: true, messageId: earlier.messageId });
    expect(queued[1]!.duplicate).toBe(false);
    expect(queued[2]!.duplicate).toBe(false);
    expect(queued[3]).toMatchObject({ id: queued[1]!.id, duplicate: true });
    expect((await rows()).map((r) => r.subject)).toEqual(['bulk 0', 'bulk 2', 'bulk 3']);
  });

  it('honors sendAt and priority, like one-by-one enqueue', async () => {
    const view = new WelcomeMail({ name: 'Núria', loginUrl: 'https://example.com/l' });
    const later = new Date(Date.now() + 3600_000);
    await enqueueMailMany(fx.database, [{ ...(await view.toMessage({ to: 'b@example.com' })), sendAt: later }, { ...mail(1), headers: { 'X-Mail-Queue-Priority': 'low' } }]);
    const [welcome, low] = await rows();
    expect(welcome!.sendAt.getTime()).toBe(later.getTime());
    expect(welcome!.nextAttemptAt.getTime()).toBe(later.getTime());
    expect(low!.priority).toBe(3);
    expect(Math.abs(low!.sendAt.getTime() - Date.now())).toBeLessThan(60_000); // the unscheduled row in the same INSERT is due now
    expect(low!.raw.toString()).not.toContain('X-Mail-Queue-Priority');
  });

  it('is all or nothing: a bad message stores none, and so does a rolled-back app transaction', async () => {
    await expect(enqueueMailMany(fx.database, [mail(1), mail(2, { to: 'not-an-address' })])).rejects.toBeInstanceOf(InvalidMessageError);
    // Only the app's own error may come out: a failing rollback would be another.
    await expect(
      fx.database.db.transaction(async (tx) => {
        await enqueueMailMany(tx, [mail(1), mail(2)]);
        throw new Error('business change failed');
      }),
    ).rejects.toThrow(/^business change failed$/);
    expect(await rows()).toHaveLength(0);
    await fx.database.db.transaction((tx) => enqueueMailMany(tx, [mail(3)]));
    expect((await rows()).map((r) => r.subject)).toEqual(['bulk 3']);
  });
});
