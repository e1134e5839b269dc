import type { Span } from '@opentelemetry/api';
import type { Delivery } from '../drain/deliver.js';
import { otel, tracerOf, type Otel } from './tracer.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/**
 * mailroom's two spans, made only where the app has a tracer (tracer.ts):
 * `mailroom enqueue` in the app's active context, and `mailroom deliver` for each
 * delivery attempt, linked to the enqueue span through the traceparent kept with the
 * message. Attributes are counts, names, codes and domains: never an address, a
 * subject, a body or an SMTP reply's text (a reply often quotes the address).
 */

/** What an enqueue span tells. */
export interface EnqueueFacts {
  /** The mail view's name, when a view built the message (or every message of a bulk enqueue). */
  view: string | undefined;
  /** The priority (of every message of a bulk enqueue, else absent). */
  priority: string | undefined;
  /** Recipients (of all the messages). */
  recipients: number;
  /** For a bulk enqueue: how many messages (each keeps the one span's traceparent). */
  messages?: number;
}

/** What an enqueue stored, for its span (one message's row, or a bulk enqueue's). */
type Stored = { id: number; duplicate: boolean } | Array<{ duplicate: boolean }>;

/**
 * Runs `store` under a `mailroom enqueue` span, handing it the traceparent to keep
 * with the message (undefined when the span is not sampled). Without a tracer it is
 * `store(undefined)`, with nothing loaded.
 */
export function traceEnqueue<T extends Stored>(facts: EnqueueFacts, store: (traceparent: string | undefined) => Promise<T>): Promise<T> {
  const loading = otel();
  if (!loading) return store(undefined);
  return loading.then((api) => (api ? enqueueSpan(api, facts, store) : store(undefined)));
}

function enqueueSpan<T extends Stored>(api: Otel, facts: EnqueueFacts, store: (traceparent: string | undefined) => Promise<T>): Promise<T> {
  const attributes = {
    'messaging.system': 'mailroom',
    'messaging.operation.type': 'send',
    'mailroom.recipients': facts.recipients,
    ...(facts.priority ? { 'mailroom.priority': facts.priority } : {}),
    ...(facts.view ? { 'mailroom.view': facts.view } : {}),
    ...(facts.messages !== undefined ? { 'messaging.batch.message_count': facts.messages } : {}),
  };
  return tracerOf(api).startActiveSpan('mailroom enqueue', { kind: api.SpanKind.PRODUCER, attributes }, async (span) => {
    try {
      const context = span.spanContext();
      const sampled = api.isSpanContextValid(context) && (context.traceFlags & api.TraceFlags.SAMPLED) !== 0;
      const stored = await store(sampled ? formatTraceparent(context.traceId, context.spanId, context.traceFlags) : undefined);
      span.setAttributes(Array.isArray(stored) ? { 'mailroom.duplicates': stored.filter((r) => r.duplicate).length } : { 'mailroom.id': stored.id, 'mailroom.duplicate': stored.duplicate });
      return stored;
    } catch (error) {
      failed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What a delivery span tells. */
export interface AttemptFacts {
  /** The message's row id (absent for a message never stored). */
  id: number | undefined;
  /** Which attempt this is (1 for the first). */
  attempt: number | undefined;
  /** The recipients this attempt is for (asked only when a span is made). */
  recipients: () => string[];
  /** The enqueue span's traceparent kept with the message, if any. */
  traceparent: string | undefined;
  /** A deferral on the last attempt fails the message: the span says failed, as the drain records it. */
  maxAttempts: number;
}

/** Runs one delivery attempt under a `mailroom deliver` span linked to its enqueue span; without a tracer, runs it as is. */
export function traceAttempt(facts: AttemptFacts, attempt: () => Promise<Delivery>): Promise<Delivery> {
  const loading = otel();
  if (!loading) return attempt();
  return loading.then((api) => (api ? attemptSpan(api, facts, attempt) : attempt()));
}

function attemptSpan(api: Otel, facts: AttemptFacts, attempt: () => Promise<Delivery>): Promise<Delivery> {
  const enqueued = facts.traceparent === undefined ? undefined : parseTraceparent(facts.traceparent);
  const recipients = facts.recipients();
  const domains = [...new Set(recipients.map((r) => r.slice(r.lastIndexOf('@') + 1).toLowerCase()))];
  const attributes = {
    'messaging.system': 'mailroom',
    'messaging.operation.type': 'process',
    'mailroom.recipients': recipients.length,
    'mailroom.recipient_domains': domains,
    ...(facts.id !== undefined ? { 'mailroom.id': facts.id } : {}),
    ...(facts.attempt !== undefined ? { 'mailroom.attempt': facts.attempt } : {}),
  };
  const links = enqueued ? [{ context: { ...enqueued, isRemote: true } }] : [];
  return tracerOf(api).startActiveSpan('mailroom deliver', { kind: api.SpanKind.CONSUMER, attributes, links }, async (span) => {
    try {
      const delivery = await attempt();
      const last = facts.attempt !== undefined && facts.attempt >= facts.maxAttempts;
      const outcome = delivery.outcome === 'deferred' && last ? 'failed' : delivery.outcome;
      span.setAttributes({ 'mailroom.outcome': outcome, ...(delivery.code !== null ? { 'mailroom.smtp.reply_code': delivery.code } : {}) });
      if (outcome === 'failed') span.setStatus({ code: api.SpanStatusCode.ERROR, message: delivery.code !== null ? `failed (${delivery.code})` : 'failed' });
      return delivery;
    } catch (error) {
      failed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** An error's class only: its message may name an address (a suppressed recipient, a refused one). */
function failed(api: Otel, span: Span, error: unknown): void {
  const type = (error as Error)?.name ?? typeof error;
  span.setAttribute('error.type', type);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: type });
}
