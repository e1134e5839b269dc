// An app's OpenTelemetry set-up, preloaded into a `mailroom` CLI process with
// NODE_OPTIONS=--import, as the README says to: the real SDK, every finished span written
// as one JSON line to the file named by OTEL_TEST_SPANS. Used by test/tracing.test.ts.
import { appendFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const toFile = {
  export(spans, done) {
    const lines = spans.map((s) => JSON.stringify({ name: s.name, kind: s.kind, attributes: s.attributes, links: s.links.map((l) => l.context) }));
    appendFileSync(process.env.OTEL_TEST_SPANS, lines.map((l) => `${l}\n`).join(''));
    done({ code: 0 });
  },
  shutdown: async () => {},
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(toFile)] }));
