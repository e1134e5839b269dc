import { sql } from 'drizzle-orm';
import type { Db } from '../store/database.js';
import { attempts, messages, type RecipientStatus } from '../store/schema.js';
import type { ClaimedMessage } from './claim.js';
import type { Delivery, Outcome } from './deliver.js';
import { backoffSeconds, type BackoffOptions } from './backoff.js';
import { priorityRank } from '../store/priority-rank.js';
import { cleanText } from './reply.js';

/** last_error holds a few replies at most: the per-recipient ones are in recipient_status. */
const ERROR_LIMIT = 2048;
/** Refused recipients named in last_error; the rest are counted. */
const NAMED_REFUSALS = 5;

/** Recipients still to be tried: not yet accepted and not permanently refused. */
export function pendingRecipients(message: Pick<ClaimedMessage, 'recipients' | 'recipientStatus'>): string[] {
  return message.recipients.filter((r) => {
    const state = message.recipientStatus[r]?.state;
    return state !== 'sent' && state !== 'failed';
  });
}

/** Who recorded an outcome, and the backoff rules that decide the next try. */
export interface OutcomeContext {
  owner: string;
  backoff: BackoffOptions;
  /** `now` messages: a temporary failure goes back to the queue as high priority, due at once. */
  requeueAsHigh?: boolean;
}

/** One attempt's result as the row values the outcome statement takes. */
export interface PlannedOutcome {
  id: number;
  state: 'queued' | 'sent' | 'deferred' | 'failed';
  priority: number | null;
  recipient_status: RecipientStatus;
  last_error: string | null;
  delay_seconds: number | null;
  attempt: number;
  outcome: Outcome;
  smtp_code: number | null;
  reply: string;
  recipients: string[];
  started_at: string;
}

/** One attempt to plan an outcome from: the message as claimed, what SMTP said, and when it started. */
export interface OutcomeInput {
  message: ClaimedMessage;
  delivery: Delivery;
  startedAt: Date;
}

/** Decides the message's next state from one attempt: give up, back off, requeue or done. */
export function planOutcome({ message, delivery, startedAt }: OutcomeInput, ctx: OutcomeContext): PlannedOutcome {
  const status: RecipientStatus = { ...message.recipientStatus, ...delivery.status };
  let outcome: Outcome = delivery.outcome;
  let lastError: string | null = outcome === 'sent' ? null : delivery.reply;
  if (outcome === 'deferred' && !ctx.requeueAsHigh && message.attempts >= ctx.backoff.maxAttempts) {
    outcome = 'failed';
    lastError = `gave up after ${message.attempts} attempts; last reply: ${delivery.reply}`;
    for (const r of delivery.recipients) if (status[r]?.state === 'deferred') status[r] = { state: 'failed', reply: lastError };
  }
  const refused = message.recipients.filter((r) => status[r]?.state === 'failed');
  if (outcome === 'sent' && refused.length) {
    const named = refused.slice(0, NAMED_REFUSALS).map((r) => `${r} (${status[r]?.reply})`);
    const more = refused.length - named.length;
    lastError = `refused: ${named.join('; ')}${more ? `; and ${more} more` : ''}`;
  }
  const requeue = outcome === 'deferred' && ctx.requeueAsHigh;
  return {
    id: message.id,
    state: requeue ? 'queued' : outcome,
    priority: requeue ? priorityRank('high') : null,
    recipient_status: status,
    last_error: lastError === null ? null : cleanText(lastError, ERROR_LIMIT),
    delay_seconds: outcome !== 'deferred' ? null : requeue ? 0 : backoffSeconds(message.attempts, ctx.backoff),
    attempt: message.attempts,
    outcome,
    smtp_code: delivery.code,
    reply: delivery.reply,
    recipients: delivery.recipients,
    started_at: startedAt.toISOString(),
  };
}

/**
 * Writes many attempts' results in ONE statement: the messages' new states and one
 * log row each. A data-modifying CTE, so both land or neither, without a
 * transaction (postgres.js 3.4 crashes the process when a connection drops inside
 * `begin()`, porsager/postgres#1208). The input is one jsonb parameter, so the
 * statement text never changes and stays prepared. Guarded by the lease: a message
 * another drain took after our lease ran out gets only its log row. The ids also go
 * as an array: the planner cannot see into the jsonb, guesses 100 rows, and on a
 * table of a few thousand chose a scan of the whole table for every write. The rows
 * are locked in id order first (`locked`), so concurrent writes never deadlock.
 */
export async function recordOutcomes(db: Db, owner: string, planned: PlannedOutcome[]): Promise<void> {
  if (planned.length === 0) return;
  await db.execute(sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(planned)}::jsonb) as x(
          id bigint, state mailroom_message_state, priority smallint, recipient_status jsonb, last_error text,
          delay_seconds float8, attempt int, outcome text, smtp_code int, reply text, recipients text[], started_at timestamptz)
      ),
      -- Our rows, locked in id order before any is updated (see lockedInOrder in claim.ts):
      -- in input order, this write and a lease renewal deadlocked over shared rows.
      locked as materialized (
        select id from ${messages}
        where id = any(${sql.param(planned.map((p) => p.id))}::bigint[]) and lease_owner = ${owner}
        order by id
        for update
      ),
      logged as (
        insert into ${attempts} (message_id, attempt, outcome, smtp_code, reply, recipients, worker, started_at)
        select id, attempt, outcome, smtp_code, reply, recipients, ${owner}, started_at from input
      )
      update ${messages} m set
        state = i.state,
        priority = coalesce(i.priority, m.priority),
        recipient_status = i.recipient_status,
        last_error = i.last_error,
        next_attempt_at = case when i.delay_seconds is null then m.next_attempt_at
                               else now() + make_interval(secs => i.delay_seconds) end,
        sent_at = case when i.state = 'sent' then now() else m.sent_at end,
        lease_owner = null,
        lease_expires_at = null,
        updated_at = now()
      from input i join locked l on l.id = i.id
      where m.id = l.id and m.id = any(${sql.param(planned.map((p) => p.id))}::bigint[]) and m.lease_owner = ${owner}`);
}

/** Resolves after two turns of the event loop: I/O that is already waiting gets its callbacks first. */
const twoTurns = () => new Promise<void>((go) => setImmediate(() => setImmediate(go)));

/**
 * Collects outcomes while SMTP sends go on, and writes whatever has gathered in
 * one statement as soon as the previous write is done: the database round trip
 * overlaps the next sends instead of following each one. A write starts two turns
 * of the event loop later, not at once, so the outcomes of SMTP replies already
 * waiting go with it. Measured when PGlite still ran in the drain's thread (before
 * store/pglite-thread.ts), where replies piled up during each statement: started at
 * once, every outcome went out alone (2,000 writes for 2,000 messages; one turn:
 * 1,127; two: ~600, and the drain 6.2 → 3.7 s).
 */
export class OutcomeWriter {
  private pending: { planned: PlannedOutcome; done: () => void; fail: (error: unknown) => void }[] = [];
  private active = 0;
  private starting = false;

  /**
   * `writers`: writes at once. On a Postgres server two side by side halve how long an
   * outcome waits for the write before it to end (each lane waits for its last outcome
   * before its next send); PGlite runs one statement at a time, so it keeps one.
   */
  constructor(
    private readonly write: (planned: PlannedOutcome[]) => Promise<unknown>,
    private readonly writers = 1,
  ) {}

  /** Resolves once this outcome is in the database. */
  add(planned: PlannedOutcome): Promise<void> {
    return new Promise((done, fail) => {
      this.pending.push({ planned, done, fail });
      this.startSoon();
    });
  }

  private startSoon(): void {
    if (this.starting || this.active >= this.writers) return;
    this.starting = true;
    void twoTurns().then(() => {
      this.starting = false;
      if (this.pending.length && this.active < this.writers) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.active++;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        // Outcomes that arrive while this one writes may start the next writer.
        this.startSoon();
        try {
          await this.write(batch.map((b) => b.planned));
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.fail(error);
        }
      }
    } finally {
      this.active--;
    }
  }
}
