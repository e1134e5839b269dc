import { asc, inArray } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import type { Db } from '../store/database.js';
import { messages, type MessageState } from '../store/schema.js';
import type { Priority } from '../views/priority.js';
import { priorityFromRank } from '../store/priority-rank.js';
import { parseMail, type MailContent } from './parsed-mail.js';

/** A message in the queue: its content (parsed from the stored bytes) and where it is. */
export interface QueuedMail extends MailContent {
  id: number;
  state: MessageState;
  /** As stored: a `now` message that could not go out at once waits as `high`. */
  priority: Priority;
  /** Not sent before this time. */
  sendAt: Date;
  attempts: number;
  lastError: string | null;
}

type Parse = (raw: Buffer) => Promise<ParsedMail>;

/** Messages in `states`, oldest first, parsed. */
export async function listMessages(db: Db, parse: Parse, states: MessageState[]): Promise<QueuedMail[]> {
  const rows = await db
    .select({
      id: messages.id, state: messages.state, priority: messages.priority, sendAt: messages.sendAt, attempts: messages.attempts,
      lastError: messages.lastError, view: messages.view, recipients: messages.recipients, raw: messages.raw,
    })
    .from(messages)
    .where(inArray(messages.state, states))
    .orderBy(asc(messages.id));
  return Promise.all(
    rows.map(async (row) => ({
      ...parseMail(await parse(row.raw), row.raw, { to: row.recipients }, row.view),
      id: row.id,
      state: row.state,
      priority: priorityFromRank(row.priority),
      sendAt: row.sendAt,
      attempts: row.attempts,
      lastError: row.lastError,
    })),
  );
}

/** The view and priority the queue recorded for each of these Message-IDs. */
export async function recordedFor(db: Db, messageIds: string[]): Promise<Map<string, { view: string | null; priority: Priority }>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db
    .select({ messageId: messages.messageId, view: messages.view, priority: messages.priority })
    .from(messages)
    .where(inArray(messages.messageId, messageIds));
  return new Map(rows.map((r) => [r.messageId, { view: r.view, priority: priorityFromRank(r.priority) }]));
}
