import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { eq, sql } from 'drizzle-orm';
import { createElement } from 'react';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createQueueTransport, enqueueMailMany, MailView } from 'mailroom';
import { createSmtpTransport, drain } from 'mailroom/drain';
import { messages } from 'mailroom/schema';
import { backends } from './helpers/databases.js';
import { startSmtp, smtpError, type TestSmtp } from './helpers/smtp.js';
import { TRACEPARENT_HEADER } from '../src/tracing/traceparent.js';
import { mailroom } from './helpers/cli.js';

/**
 * OpenTelemetry traces where the app has a tracer, with the real SDK: the enqueue span
 * in the app's active context, the drain's delivery span linked to it through the
 * traceparent kept with the message (and taken off before the receiver sees it). With
 * no tracer, the enqueue path never loads @opentelemetry/api (checked in a child process).
 */

const ALL = await backends();

class Receipt extends MailView<{ name: string }> {
  readonly template = ({ name }: { name: string }) => createElement('p', null, `Thanks, ${name}`);
  subject() {
    return 'Your receipt';
  }
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

/** Every attribute value of every span, as text: none may hold an address, a subject or a body. */
const attributeText = (spans: ReadableSpan[]) => spans.flatMap((s) => Object.values(s.attributes).map(String)).join('\n');

describe('traces with a registered tracer', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let smtp: TestSmtp;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    smtp = await startSmtp({ onRcpt: (address) => (address.endsWith('@slow.test') ? smtpError(451, '4.7.1 greylisted, try later') : undefined) });
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
    await smtp.close();
  });
  afterEach(() => exporter.reset());

  it.each(ALL)('on $name: enqueue span in the app\'s context, delivery span per attempt linked to it, the traceparent never sent', async (backend) => {
    const { database, drop } = await backend.create();
    smtp.received.length = 0;
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      const app = trace.getTracer('app');
      const request = await app.startActiveSpan('POST /orders', async (span) => {
        await new Receipt({ name: 'Ada Lovelace' }).send(queue, { from: 'shop@example.com', to: ['ada@example.com', 'bob@Example.ORG'] });
        await queue.sendMail({ from: 'shop@example.com', to: 'later@slow.test', subject: 'Greylisted', text: 'the body' });
        span.end();
        return span.spanContext();
      });

      const enqueues = named(exporter.getFinishedSpans(), 'mailroom enqueue');
      expect(enqueues).toHaveLength(2);
      const rows = await database.db.select({ id: messages.id, raw: messages.raw }).from(messages).orderBy(messages.id);
      for (const [i, span] of enqueues.entries()) {
        expect(span.kind).toBe(SpanKind.PRODUCER);
        expect(span.spanContext().traceId).toBe(request.traceId);
        expect(span.parentSpanContext?.spanId).toBe(request.spanId);
        expect(span.attributes['mailroom.id']).toBe(rows[i]!.id);
        // Kept with the message, first line of the stored bytes.
        const { traceId, spanId } = span.spanContext();
        expect(rows[i]!.raw.toString('latin1').split('\r\n')[0]).toBe(`${TRACEPARENT_HEADER}: 00-${traceId}-${spanId}-01`);
      }
      expect(enqueues[0]!.attributes).toMatchObject({ 'mailroom.view': 'Receipt', 'mailroom.priority': 'normal', 'mailroom.recipients': 2, 'mailroom.duplicate': false });
      expect(enqueues[1]!.attributes).toMatchObject({ 'mailroom.priority': 'normal', 'mailroom.recipients': 1 });
      expect(enqueues[1]!.attributes['mailroom.view']).toBeUndefined();

      // The drain runs later, outside the request: its spans start their own trace, linked back.
      expect(await drain(database.db, { smtp: createSmtpTransport(smtp.url), backoff: { maxAttempts: 3 } })).toMatchObject({ sent: 1, deferred: 1 });
      const delivers = named(exporter.getFinishedSpans(), 'mailroom deliver').sort((a, b) => Number(a.attributes['mailroom.id']) - Number(b.attributes['mailroom.id']));
      expect(delivers).toHaveLength(2);
      for (const [i, span] of delivers.entries()) {
        expect(span.kind).toBe(SpanKind.CONSUMER);
        expect(span.parentSpanContext).toBeUndefined();
        expect(span.links).toHaveLength(1);
        expect(span.links[0]!.context.traceId).toBe(enqueues[i]!.spanContext().traceId);
        expect(span.links[0]!.context.spanId).toBe(enqueues[i]!.spanContext().spanId);
      }
      expect(delivers[0]!.attributes).toMatchObject({ 'mailroom.id': rows[0]!.id, 'mailroom.outcome': 'sent', 'mailroom.smtp.reply_code': 250, 'mailroom.attempt': 1, 'mailroom.recipients': 2 });
      expect(delivers[0]!.attributes['mailroom.recipient_domains']).toEqual(['example.com', 'example.org']);
      expect(delivers[0]!.status.code).toBe(SpanStatusCode.UNSET);
      expect(delivers[1]!.attributes).toMatchObject({ 'mailroom.outcome': 'deferred', 'mailroom.smtp.reply_code': 451, 'mailroom.attempt': 1, 'mailroom.recipient_domains': ['slow.test'] });

      // The receiver never sees the line; what it got is the stored message without it.
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.raw.includes(TRACEPARENT_HEADER)).toBe(false);
      expect(smtp.received[0]!.raw.toString('latin1')).toContain('Subject: Your receipt');

      const text = attributeText(exporter.getFinishedSpans());
      for (const secret of ['@', 'Ada', 'receipt', 'Greylisted', 'the body', 'greylisted']) expect(text).not.toContain(secret);

      // The last attempt's deferral fails the message: the span says so, as the drain records it.
      exporter.reset();
      await database.db.update(messages).set({ nextAttemptAt: sql`now()`, attempts: 2 }).where(eq(messages.id, rows[1]!.id));
      expect(await drain(database.db, { smtp: createSmtpTransport(smtp.url), backoff: { maxAttempts: 3 } })).toMatchObject({ failed: 1 });
      const [last] = named(exporter.getFinishedSpans(), 'mailroom deliver');
      expect(last!.attributes).toMatchObject({ 'mailroom.outcome': 'failed', 'mailroom.attempt': 3, 'mailroom.smtp.reply_code': 451 });
      expect(last!.status.code).toBe(SpanStatusCode.ERROR);
      expect(last!.links[0]!.context.spanId).toBe(enqueues[1]!.spanContext().spanId);
    } finally {
      await drop();
    }
  });

  it('`mailroom send` started with the app\'s set-up preloaded (NODE_OPTIONS=--import) links its delivery spans to enqueues made in another process', async () => {
    const backend = ALL[ALL.length - 1]!;
    const { url, database, drop } = await backend.create();
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-otel-cli-'));
    smtp.received.length = 0;
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await trace.getTracer('app').startActiveSpan('POST /invite', async (span) => {
        await new Receipt({ name: 'Grace' }).send(queue, { from: 'shop@example.com', to: 'grace@example.com' });
        span.end();
      });
      const [enqueued] = named(exporter.getFinishedSpans(), 'mailroom enqueue');
      await database.close();
      const spans = join(dir, 'spans.jsonl');
      const setup = new URL('./helpers/otel-setup.mjs', import.meta.url).href;
      const result = await mailroom(['send', '--smtp', smtp.url, '--database', url], { NODE_OPTIONS: `--import ${setup}`, OTEL_TEST_SPANS: spans });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.raw.includes(TRACEPARENT_HEADER)).toBe(false);
      const written = readFileSync(spans, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string; kind: number; attributes: Record<string, unknown>; links: { traceId: string; spanId: string }[] });
      const delivers = written.filter((s) => s.name === 'mailroom deliver');
      expect(delivers).toHaveLength(1);
      expect(delivers[0]!.kind).toBe(SpanKind.CONSUMER);
      expect(delivers[0]!.attributes).toMatchObject({ 'mailroom.outcome': 'sent', 'mailroom.smtp.reply_code': 250, 'mailroom.attempt': 1, 'mailroom.recipient_domains': ['example.com'] });
      expect(delivers[0]!.links).toEqual([expect.objectContaining({ traceId: enqueued!.spanContext().traceId, spanId: enqueued!.spanContext().spanId })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    }
  });

  it('a `now` message: its delivery span runs inside the enqueue span (the caller waits for it) and links to it', async () => {
    const { database, drop } = await ALL[0]!.create();
    smtp.received.length = 0;
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database, smtp: smtp.url }));
      const info = await queue.sendMail({ from: 'shop@example.com', to: 'ada@example.com', subject: 'Your code', text: '123456', headers: { 'X-Mail-Queue-Priority': 'now' } });
      expect(info.state).toBe('sent');
      const [enqueued] = named(exporter.getFinishedSpans(), 'mailroom enqueue');
      const [delivered] = named(exporter.getFinishedSpans(), 'mailroom deliver');
      expect(enqueued!.attributes).toMatchObject({ 'mailroom.priority': 'now', 'mailroom.id': info.id });
      expect(delivered!.parentSpanContext?.spanId).toBe(enqueued!.spanContext().spanId);
      expect(delivered!.links[0]!.context.spanId).toBe(enqueued!.spanContext().spanId);
      expect(delivered!.attributes).toMatchObject({ 'mailroom.outcome': 'sent', 'mailroom.attempt': 1 });
      expect(smtp.received[0]!.raw.includes(TRACEPARENT_HEADER)).toBe(false);
    } finally {
      await drop();
    }
  });

  it('a bulk enqueue is one span; each of its messages keeps its traceparent and its delivery links to it', async () => {
    const { database, drop } = await ALL[0]!.create();
    try {
      await trace.getTracer('app').startActiveSpan('nightly digest', async (span) => {
        await enqueueMailMany(database, ['a', 'b', 'c'].map((n) => ({ from: 'news@example.com', to: `${n}@example.net`, subject: 'Digest', text: 'x', view: 'Digest' })));
        span.end();
      });
      const [bulk, ...others] = named(exporter.getFinishedSpans(), 'mailroom enqueue');
      expect(others).toHaveLength(0);
      expect(bulk!.attributes).toMatchObject({ 'messaging.batch.message_count': 3, 'mailroom.recipients': 3, 'mailroom.view': 'Digest', 'mailroom.priority': 'normal', 'mailroom.duplicates': 0 });
      expect(await drain(database.db, { smtp: createSmtpTransport(smtp.url) })).toMatchObject({ sent: 3 });
      const delivers = named(exporter.getFinishedSpans(), 'mailroom deliver');
      expect(delivers).toHaveLength(3);
      for (const span of delivers) expect(span.links[0]!.context.spanId).toBe(bulk!.spanContext().spanId);
    } finally {
      await drop();
    }
  });
});

describe('without a tracer', () => {
  it('stores the message as it is, with no traceparent line', async () => {
    const backend = ALL[0]!;
    const { database, drop } = await backend.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'shop@example.com', to: 'ada@example.com', subject: 's', text: 'x' });
      const [row] = await database.db.select({ raw: messages.raw }).from(messages);
      expect(row!.raw.includes(TRACEPARENT_HEADER)).toBe(false);
    } finally {
      await drop();
    }
  });

  it('a tracer that samples nothing: no traceparent is kept (there is no span to link to)', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const { database, drop } = await ALL[0]!.create();
    try {
      const queue = nodemailer.createTransport(createQueueTransport({ database }));
      await queue.sendMail({ from: 'shop@example.com', to: 'ada@example.com', subject: 's', text: 'x' });
      const [row] = await database.db.select({ raw: messages.raw }).from(messages);
      expect(row!.raw.includes(TRACEPARENT_HEADER)).toBe(false);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
    } finally {
      trace.disable();
      await drop();
    }
  });

  it('an app that only enqueues never loads @opentelemetry/api; one with a tracer does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-otel-'));
    const node = (code: string) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--import', 'data:text/javascript,import{register}from"node:module";register("./test/helpers/deny-import.mjs",new URL("file://"+process.cwd()+"/"))', '--input-type=module', '-e', code],
        { env: { ...process.env, DENY_IMPORT: '@opentelemetry/api' } },
      );
    const enqueue = (before: string, name: string) => `${before}
      import { openDatabase, enqueueMail } from './src/index.ts';
      const database = await openDatabase(${JSON.stringify(`file:${join(dir, name)}`)});
      const queued = await enqueueMail(database, { from: 'shop@example.com', to: 'ada@example.com', subject: 's', text: 'x' });
      console.log(queued.state);
      await database.close();`;
    try {
      const plain = await node(enqueue('', 'plain'));
      expect(plain.stdout.trim()).toBe('queued');
      expect(plain.stderr).not.toContain('opentelemetry');
      // The control: a registered tracer (as the API records it) makes the enqueue load the API, which the hook refuses.
      const traced = await node(enqueue(`globalThis[Symbol.for('opentelemetry.js.api.1')] = { version: '1.9.0', trace: {} };`, 'traced'));
      expect(traced.stdout.trim()).toBe('queued'); // untraced, but queued all the same
      expect(traced.stderr).toContain('loaded @opentelemetry/api');
      expect(traced.stderr).toContain('npm install @opentelemetry/api');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
