import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { createQueueTransport, PRIORITY_HEADER } from 'mailroom';
import { attempts, messages } from 'mailroom/schema';
import { createSmtpTransport, drain, type DrainOptions } from 'mailroom/drain';
import { backends, type Backend } from './helpers/databases.js';
import { startScriptedSmtp, type Script, type ScriptedSmtp, type Stage } from './helpers/scripted-smtp.js';
import { seedMessages, stateCounts } from './helpers/seed.js';
import { waitFor } from './helpers/wait.js';

// Whatever bytes an SMTP server sends, at whatever stage, the outcome is stored (clean and
// bounded), the message is never left `sending`, and nothing is delivered twice. Before,
// one NUL in a reply failed the outcome write of the whole batch: every message of it went
// out again on every run, attempts climbing past the maximum.

/** Hostile reply texts, each after `CODE X.0.0 `; multi-line ones carry the code on every line. */
const HOSTILE: Record<string, (code: string) => Buffer> = {
  nul: () => Buffer.from('ok \0 queued \0'),
  ctl: () => Buffer.from('ok \x01\x02\x07\x08\x7f\x0b\x0c\x1f queued'),
  utf8: () => Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x80, 0x9f, 0x20, 0x71]), // invalid UTF-8, C1 bytes, a surrogate's encoding
  esc: () => Buffer.concat([Buffer.from('ok \x1b[2J\x1b[31mred\x1b]0;pwned\x07 \x1b[?1049h'), Buffer.from([0x9b]), Buffer.from('31m \u202eevil')]),
  huge: () => Buffer.from(`ok ${'x'.repeat(300_000)}`),
  multi: (code) => Buffer.from(`first \0 line\r\n${code}-second \x1b[31m line\r\n${code} last ${'\x00'.repeat(50_000)}`),
};
/** Kinds whose first line continues (`250-…`): the reply goes on over several lines. */
const MULTI_LINE = new Set(['multi']);
const KINDS = Object.keys(HOSTILE);

function hostile(code: string, kind: string): Buffer {
  return Buffer.concat([Buffer.from(`${code}${MULTI_LINE.has(kind) ? '-' : ' '}${code[0]}.0.0 `), HOSTILE[kind]!(code)]);
}

/**
 * The recipient names the fault: `body.554.nul.3@` is answered `554 5.0.0 ok \0 queued`
 * after its message; `rcpt.…` at its RCPT, `data.…` at DATA; `good.…` normally.
 */
const script: Script = ({ stage, recipient, recipients }) => {
  const who = stage === 'rcpt' ? recipient : recipients[0];
  const [where, code, kind] = (who ?? '').split('@')[0]!.split('.');
  if (where !== stage || !code || !kind || !HOSTILE[kind]) return undefined;
  return hostile(code, kind);
};

/** A control character, a lone surrogate, a bidi override: none may reach a stored column. */
const UNSAFE = /[\p{Cc}\p{Cs}\u202a-\u202e\u2066-\u2069]/u;

const ALL = await backends();

describe.each(ALL)('hostile SMTP replies on $name', (backend: Backend) => {
  // One database per backend (an embedded one takes seconds to create), emptied before each test.
  let created: Awaited<ReturnType<Backend['create']>>;
  let server: ScriptedSmtp | undefined;
  beforeAll(async () => {
    created = await backend.create();
  });
  afterAll(() => created?.drop());
  beforeEach(async () => {
    await db().execute(sql`drop trigger if exists mailroom_test_refuse on mailroom_messages`);
    await db().execute(sql`drop function if exists mailroom_test_refuse`);
    await db().delete(messages);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const db = () => created.database.db;

  async function drainOnce(options: Partial<DrainOptions> = {}) {
    const smtp = createSmtpTransport(server!.url, { concurrency: 3, socketTimeout: 10_000 });
    try {
      return await drain(db(), { smtp, concurrency: 3, backoff: { baseSeconds: 3600, maxAttempts: 3 }, ...options });
    } finally {
      smtp.close();
    }
  }

  const rows = () => db().select().from(messages).orderBy(asc(messages.id));
  const byRecipient = async () => new Map((await rows()).map((r) => [r.recipients[0]!, r]));
  const attemptRows = () => db().select().from(attempts).orderBy(asc(attempts.id));

  /** Every text the database holds about replies is clean and bounded. */
  async function expectStoredTextSafe() {
    for (const row of await rows()) {
      if (row.lastError !== null) {
        expect(row.lastError.length).toBeLessThanOrEqual(2048);
        expect(row.lastError).not.toMatch(UNSAFE);
      }
      for (const { reply } of Object.values(row.recipientStatus)) {
        expect(reply?.length ?? 0).toBeLessThanOrEqual(512);
        expect(reply ?? '').not.toMatch(UNSAFE);
      }
    }
    for (const attempt of await attemptRows()) {
      expect(attempt.reply.length).toBeLessThanOrEqual(512);
      expect(attempt.reply).not.toMatch(UNSAFE);
    }
  }

  /** Refuses, as a database might, certain outcome writes: raised by a trigger (SQLSTATE P0001). */
  async function refuseOutcomes(condition: string) {
    await db().execute(
      sql.raw(`create function mailroom_test_refuse() returns trigger language plpgsql as $$
        begin
          if ${condition} then raise exception 'outcome refused by the test'; end if;
          return new;
        end $$`),
    );
    await db().execute(
      sql.raw(`create trigger mailroom_test_refuse before update on mailroom_messages for each row execute function mailroom_test_refuse()`),
    );
  }

  it('stores every kind of hostile reply at RCPT, DATA, end of data and per recipient, clean and bounded; nothing resent', async () => {
    server = await startScriptedSmtp(script);
    const cases: { to: string[]; state: string }[] = [];
    let n = 0;
    const add = (to: string[], state: string) => cases.push({ to: to.map((t) => `${t}.${n++}@example.com`), state });
    for (const kind of KINDS) {
      add(['good.0.none'], 'sent');
      add([`rcpt.250.${kind}`], 'sent');
      add([`rcpt.451.${kind}`], 'deferred');
      add([`rcpt.550.${kind}`], 'failed');
      add([`data.354.${kind}`], 'sent');
      add([`data.451.${kind}`], 'deferred');
      add([`data.554.${kind}`], 'failed');
      add([`body.250.${kind}`], 'sent');
      add([`body.451.${kind}`], 'deferred');
      add([`body.554.${kind}`], 'failed');
      // Per-recipient rejections in one message: one accepted, one refused for good, one for now.
      add([`good.0.${kind}`, `rcpt.550.${kind}`, `rcpt.452.${kind}`], 'deferred');
      add([`good.0.${kind}`, `rcpt.553.${kind}`], 'sent');
    }
    // Codes too long for any column: no SMTP code at all (a success still a success).
    add(['body.25000000000.nul'], 'sent');
    add(['body.55555555555.nul'], 'deferred');
    const ids = await seedMessages(db(), cases.length, { recipients: (i) => cases[i]!.to });

    const first = await drainOnce();
    expect(first).toMatchObject({ sent: 5 * KINDS.length + 1, deferred: 4 * KINDS.length + 1, failed: 3 * KINDS.length, unrecorded: 0 });
    const stored = await byRecipient();
    for (const c of cases) {
      const row = stored.get(c.to[0]!)!;
      expect({ to: c.to, state: row.state, attempts: row.attempts }).toEqual({ to: c.to, state: c.state, attempts: 1 });
    }
    // Good messages in the same batches are untouched: the server's own words, in full.
    for (const c of cases.filter((c) => c.to.length === 1 && c.to[0]!.startsWith('good.'))) {
      expect(stored.get(c.to[0]!)!.recipientStatus).toEqual({ [c.to[0]!]: { state: 'sent', reply: '250 2.0.0 queued' } });
    }
    // The replies kept their sense: code, words around the hostile bytes, a note of a cut.
    const nul = stored.get(cases.find((c) => c.to[0]!.startsWith('body.554.nul'))!.to[0]!)!;
    expect(nul.lastError).toBe('554 5.0.0 ok \ufffd queued \ufffd');
    const huge = stored.get(cases.find((c) => c.to[0]!.startsWith('body.451.huge'))!.to[0]!)!;
    expect(huge.lastError).toMatch(/^451 4\.0\.0 ok x+ … \(3000\d\d characters\)$/);
    const esc = stored.get(cases.find((c) => c.to[0]!.startsWith('rcpt.550.esc'))!.to[0]!)!;
    expect(esc.lastError).toContain('ok red');
    const outOfRange = stored.get(cases.find((c) => c.to[0]!.startsWith('body.55555555555'))!.to[0]!)!;
    expect(outOfRange.lastError).toBe('55555555555 5.0.0 ok \ufffd queued \ufffd');
    // Every outcome was stored whole, with the server's (cleaned) words: none needed the fallback.
    expect((await attemptRows()).filter((a) => a.reply === '')).toEqual([]);
    await expectStoredTextSafe();
    expect(await stateCounts(db())).not.toHaveProperty('sending');

    // Every accepted message went out exactly once; more runs (due ones included) send nothing again.
    const once = () => ids.filter((id, i) => cases[i]!.state === 'sent').map((id) => server!.counts.get(id));
    expect(once()).toEqual(ids.filter((id, i) => cases[i]!.state === 'sent').map(() => 1));
    for (let run = 0; run < 2; run++) expect(await drainOnce()).toMatchObject({ sent: 0, deferred: 0, failed: 0 });
    expect(server!.duplicates()).toEqual([]);

    // Retried, the deferred recipients (and only they) are tried again; accepted ones never resent.
    await db().update(messages).set({ nextAttemptAt: sql`now()` }).where(eq(messages.state, 'deferred'));
    await drainOnce();
    expect(server!.duplicates()).toEqual([]);
    const after = await byRecipient();
    for (const c of cases.filter((c) => c.state === 'deferred')) expect(after.get(c.to[0]!)!.attempts).toBe(2);
    await expectStoredTextSafe();
  });

  it('stores a hostile greeting, accepted or refusing', async () => {
    for (const [code, state] of [['220', 'sent'], ['451', 'deferred'], ['554', 'failed']] as const) {
      for (const kind of KINDS) {
        await db().delete(messages);
        server = await startScriptedSmtp(({ stage }) => (stage === 'greeting' ? hostile(code, kind) : undefined));
        const [id] = await seedMessages(db(), 1);
        await drainOnce();
        const [row] = await rows();
        expect({ code, kind, state: row!.state, attempts: row!.attempts }).toEqual({ code, kind, state, attempts: 1 });
        expect(server!.counts.get(id!) ?? 0).toBe(state === 'sent' ? 1 : 0);
        await expectStoredTextSafe();
        await server!.close();
      }
    }
  });

  it('a batch whose outcome write is refused falls back to one write per message, then to the simplest form', async () => {
    server = await startScriptedSmtp(script);
    // The database refuses the poisoned message's outcome while it carries the server's words.
    await refuseOutcomes(`new.state <> 'sending' and new.subject = 'poison' and new.recipient_status::text like '%queued%'`);
    const ids = await seedMessages(db(), 7, { subject: (i) => (i === 3 ? 'poison' : `good ${i}`) });
    const result = await drainOnce({ concurrency: 1, batchSize: 7, leaseSeconds: 2 });
    expect(result).toMatchObject({ sent: 7, unrecorded: 0 });
    const stored = await rows();
    expect(stored.map((r) => r.state)).toEqual(Array(7).fill('sent'));
    // The good ones have their full record; the poisoned one its states without the text.
    for (const row of stored.filter((r) => r.subject !== 'poison')) {
      expect(row.recipientStatus).toEqual({ [row.recipients[0]!]: { state: 'sent', reply: '250 2.0.0 queued' } });
    }
    const poison = stored.find((r) => r.subject === 'poison')!;
    expect(poison.recipientStatus).toEqual({ [poison.recipients[0]!]: { state: 'sent' } });
    const [logged] = await db().select().from(attempts).where(eq(attempts.messageId, poison.id));
    expect(logged).toMatchObject({ outcome: 'sent', reply: '' });
    // Long after the lease, nothing comes back.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await drainOnce()).toMatchObject({ sent: 0, failed: 0, deferred: 0 });
    expect(ids.map((id) => server!.counts.get(id))).toEqual(Array(7).fill(1));
  });

  it('an outcome the database never accepts is resent at most max-attempts times, then failed; the rest of its batch once', async () => {
    server = await startScriptedSmtp(script);
    await refuseOutcomes(`new.state = 'sent' and new.subject = 'poison'`);
    const ids = await seedMessages(db(), 4, { subject: (i) => (i === 1 ? 'poison' : `good ${i}`) });
    const poisonId = ids[1]!;
    const seen: number[] = [];
    await waitFor(
      async () => {
        await drainOnce({ concurrency: 2, leaseSeconds: 2 });
        const [poison] = await db().select().from(messages).where(eq(messages.subject, 'poison'));
        seen.push(poison!.attempts);
        return poison!.state === 'failed' ? poison : undefined;
      },
      'the poisoned message to be given up',
      60_000,
      200,
    );
    const [poison] = await db().select().from(messages).where(eq(messages.subject, 'poison'));
    expect(poison).toMatchObject({ state: 'failed', attempts: 3, leaseOwner: null });
    expect(poison!.lastError).toMatch(/^gave up after 3 attempts/);
    expect(Math.max(...seen)).toBeLessThanOrEqual(3);
    expect(server!.counts.get(poisonId)).toBe(3);
    expect(ids.filter((id) => id !== poisonId).map((id) => server!.counts.get(id))).toEqual([1, 1, 1]);
    expect(await stateCounts(db())).toEqual({ sent: 3, failed: 1 });
  });

  it('a claimed message already at max attempts is failed, not sent again', async () => {
    server = await startScriptedSmtp(script);
    const ids = await seedMessages(db(), 3);
    const [spentLease, spentDeferred] = await db().select({ id: messages.id }).from(messages).orderBy(asc(messages.id)).limit(2);
    // A drain died holding its third attempt; another was deferred three times under a higher maximum.
    await db()
      .update(messages)
      .set({ state: 'sending', attempts: 3, leaseOwner: 'dead', leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(eq(messages.id, spentLease!.id));
    await db().update(messages).set({ state: 'deferred', attempts: 5 }).where(eq(messages.id, spentDeferred!.id));
    expect(await drainOnce()).toMatchObject({ sent: 1, failed: 2 });
    const stored = await db().select().from(messages).where(inArray(messages.id, [spentLease!.id, spentDeferred!.id])).orderBy(asc(messages.id));
    expect(stored.map((r) => [r.state, r.attempts, r.leaseOwner])).toEqual([['failed', 3, null], ['failed', 5, null]]);
    expect(stored[0]!.lastError).toMatch(/^gave up after 3 attempts/);
    expect(server!.counts.get(ids[0]!)).toBeUndefined();
    expect(server!.counts.get(ids[1]!)).toBeUndefined();
    expect(server!.counts.get(ids[2]!)).toBe(1);
  });

  it('`now` resolves when the mail went out, hostile reply or refused outcome write', async () => {
    server = await startScriptedSmtp(script);
    const queue = nodemailer.createTransport(createQueueTransport({ database: created.database, smtp: server!.url }));
    try {
      const now = { from: 'a@example.com', text: 'x', headers: { [PRIORITY_HEADER]: 'now' } };
      const hostileInfo = await queue.sendMail({ ...now, to: 'body.250.nul.1@example.com', subject: 'hostile' });
      expect(hostileInfo).toMatchObject({ state: 'sent', accepted: ['body.250.nul.1@example.com'], response: '250 2.0.0 ok \ufffd queued \ufffd' });

      await refuseOutcomes(`new.state = 'sent' and new.subject = 'poison'`);
      const refused = await queue.sendMail({ ...now, to: 'good.0.none.2@example.com', subject: 'poison' });
      expect(refused).toMatchObject({ state: 'sending', accepted: ['good.0.none.2@example.com'], response: '250 2.0.0 queued' });
      expect(server!.delivered.map((d) => d.to)).toEqual([['body.250.nul.1@example.com'], ['good.0.none.2@example.com']]);
      await expectStoredTextSafe();
      expect(await drainOnce()).toMatchObject({ sent: 0 }); // the refused one is under its lease, the other is done
    } finally {
      queue.close();
    }
  });

  it('`now` against a stalling server returns within nowTimeout and leaves the message queued as high', async () => {
    server = await startScriptedSmtp(({ stage, recipients }) => (stage === 'body' && recipients[0] === 'stall@example.com' ? 'stall' : undefined));
    expect(() => createQueueTransport({ database: created.database, smtp: server!.url, nowTimeout: 0 })).toThrow(/nowTimeout/);
    const queue = nodemailer.createTransport(createQueueTransport({ database: created.database, smtp: server!.url, nowTimeout: 1000 }));
    try {
      const started = Date.now();
      const info = await queue.sendMail({ from: 'a@example.com', to: 'stall@example.com', subject: 'stalled', text: 'x', headers: { [PRIORITY_HEADER]: 'now' } });
      // The socket timeout (1 s) ends the attempt; the overall bound is 1 s later still.
      expect(Date.now() - started).toBeLessThan(2500);
      expect(info).toMatchObject({ state: 'queued', accepted: [] });
      const [row] = await rows();
      expect(row).toMatchObject({ state: 'queued', priority: 1, attempts: 1, leaseOwner: null });
      expect(row!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      // The drain takes it at once.
      server!.counts.clear();
      await server!.close();
      server = await startScriptedSmtp();
      expect(await drainOnce()).toMatchObject({ sent: 1 });
      expect((await rows())[0]).toMatchObject({ state: 'sent', attempts: 2 });
    } finally {
      queue.close();
    }
  });

  it('`now` through an app\'s own transporter (its own long timeouts) still returns within about nowTimeout', async () => {
    server = await startScriptedSmtp(({ stage }) => (stage === 'body' ? 'stall' : undefined));
    const own = createSmtpTransport(server.url, { socketTimeout: 60_000 });
    const queue = nodemailer.createTransport(createQueueTransport({ database: created.database, smtp: own, nowTimeout: 1000 }));
    try {
      const started = Date.now();
      const info = await queue.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'stalled', text: 'x', headers: { [PRIORITY_HEADER]: 'now' } });
      expect(Date.now() - started).toBeLessThan(4000);
      // Still being tried in the background: its lease keeps drains off it until that attempt ends.
      expect(info).toMatchObject({ state: 'sending', accepted: [], response: 'no answer within 1000 ms: left to the queue' });
      expect(await drainOnce()).toMatchObject({ sent: 0, deferred: 0 });
    } finally {
      own.close();
    }
  });
});
