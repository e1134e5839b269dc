import type * as OtelApi from '@opentelemetry/api';

/**
 * Traces only where the app already has a tracer. @opentelemetry/api is an optional
 * peer dependency, loaded the first time a registered tracer provider is seen; an app
 * without one (or without the package) loads nothing and pays one property read.
 */

export type Otel = typeof OtelApi;

/** Where @opentelemetry/api 1.x keeps its registered globals (its internal/global-utils), shared by every copy of it. */
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

/** Whether the app registered a tracer provider: read without loading @opentelemetry/api. */
export function tracerRegistered(): boolean {
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[GLOBAL_KEY];
  return registered?.trace !== undefined;
}

let loading: Promise<Otel | undefined> | undefined;

/** @opentelemetry/api when a tracer provider is registered, else undefined (nothing loaded). */
export function otel(): Promise<Otel | undefined> | undefined {
  if (!tracerRegistered()) return undefined;
  return (loading ??= import('@opentelemetry/api').then(
    (api) => api as Otel,
    (error: unknown) => {
      // A tracer is there but mailroom cannot reach the API (installed elsewhere, or not at all).
      // A warning, not loadOptional's error: tracing must never stop mail from being queued or sent.
      process.emitWarning(
        `mailroom: a tracer provider is registered but @opentelemetry/api could not be loaded from mailroom (${(error as Error)?.message ?? error}), so mail is not traced. Install @opentelemetry/api in the app (npm install @opentelemetry/api).`,
        { code: 'MAILROOM_OTEL_API' },
      );
      return undefined;
    },
  ));
}

/** mailroom's tracer (its instrumentation scope). */
export function tracerOf(api: Otel): OtelApi.Tracer {
  return api.trace.getTracer('mailroom');
}
