import { stateCounts as countsByState } from '../../src/store/status.js';
import { randomBytes } from 'node:crypto';
import { inArray, sql } from 'drizzle-orm';
import { messages } from '../../src/store/schema.js';
import type { Db } from '../../src/store/database.js';

export interface SeedOptions {
  /** Extra bytes of body, to make DATA span several TCP chunks. */
  bodyBytes?: number;
  recipients?: (i: number) => string[];
  subject?: (i: number) => string;
}

/**
 * Queues `count` finished messages straight into the table, the way the queue
 * transport stores them (RFC 822 bytes + envelope), but fast enough for thousands.
 * Returns their Message-IDs in id order.
 */
export async function seedMessages(db: Db, count: number, options: SeedOptions = {}): Promise<string[]> {
  const run = randomBytes(4).toString('hex');
  const ids: string[] = [];
  const padding = options.bodyBytes ? `${'x'.repeat(76)}\r\n`.repeat(Math.ceil(options.bodyBytes / 78)) : '';
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const messageId = `<seed-${run}-${i}@mailroom.test>`;
      const to = options.recipients?.(i) ?? [`r${i}@example.com`];
      const subject = options.subject?.(i) ?? `seed ${i}`;
      const raw = Buffer.from(
        [
          'From: sender@example.com',
          `To: ${to.join(', ')}`,
          `Subject: ${subject}`,
          `Message-ID: ${messageId}`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          '',
          `message ${i}`,
          padding,
        ].join('\r\n'),
      );
      ids.push(messageId);
      rows.push({
        messageId,
        subject,
        fromAddress: 'sender@example.com',
        envelopeFrom: 'sender@example.com',
        recipients: to,
        raw,
        size: raw.length,
      });
    }
    await db.insert(messages).values(rows);
  }
  return ids;
}

/** Counts by state, only the states that have messages. */
export async function stateCounts(db: Db): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await countsByState(db)).filter(([, n]) => n > 0));
}

/** Rows by Message-ID. */
export async function byMessageId(db: Db, ids: string[]) {
  return db.select().from(messages).where(inArray(messages.messageId, ids));
}
