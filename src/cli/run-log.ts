import { Option } from 'commander';
import type { ClaimedMessage } from '../drain/claim.js';
import type { Delivery } from '../drain/deliver.js';
import { loadOptional } from '../optional.js';
import { redact } from '../store/redact.js';
import { say } from './terminal.js';

/**
 * What `send` and `worker` print while they run: the text lines a person reads, or with
 * `--log json` one JSON object per line (pino) for a log pipeline: one line per
 * delivery (message id, recipient domains, outcome, reply code, ms) with a level
 * (sent info, deferred warn, failed error), and the run's own events. Never a password
 * (every text passes redact) nor a message's body or subject.
 */

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const logOption = () =>
  new Option('--log <format>', 'text (for people) or json (one JSON object per line, for log pipelines)').choices(['text', 'json']).default('text').env('MAILROOM_LOG');

export const logLevelOption = () =>
  new Option('--log-level <level>', 'with --log json: the least severe level printed').choices(['debug', 'info', 'warn', 'error']).default('info').env('MAILROOM_LOG_LEVEL');

export interface RunLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** One attempt's outcome. `maxAttempts`: a deferral that used the last attempt is a failure. */
  delivery(message: ClaimedMessage, delivery: Delivery, maxAttempts: number): void;
  json: boolean;
}

/** The distinct domains of the recipients tried, lower-cased: what a log may say about who. */
export function recipientDomains(recipients: readonly string[]): string[] {
  return [...new Set(recipients.map((r) => r.slice(r.lastIndexOf('@') + 1).toLowerCase()))];
}

/** The outcome as the drain records it: a deferral with no attempt left fails the message. */
export function finalOutcome(message: ClaimedMessage, delivery: Delivery, maxAttempts: number): Delivery['outcome'] {
  return delivery.outcome === 'deferred' && message.attempts >= maxAttempts ? 'failed' : delivery.outcome;
}

const LEVEL_OF = { sent: 'info', deferred: 'warn', failed: 'error' } as const;

/**
 * `text`: lines through `print` (the worker's carry a timestamp; `send` prints no line per
 * message unless `perMessage`). `json`: pino on stdout, written synchronously so no line is
 * lost when the process exits; pino loads only here.
 */
export async function createRunLog(format: LogFormat, level: LogLevel, print: (line: string) => void, perMessage: boolean, name: string): Promise<RunLog> {
  if (format === 'text') {
    return {
      json: false,
      info: (m) => print(redact(m)),
      warn: (m) => print(redact(m)),
      error: (m) => print(redact(m)),
      delivery(message, delivery, maxAttempts) {
        if (!perMessage) return;
        const outcome = finalOutcome(message, delivery, maxAttempts);
        print(`message ${message.id} ${outcome}${delivery.reply ? `: ${delivery.reply}` : ''}`);
      },
    };
  }
  const { pino } = await loadOptional(() => import('pino'), '--log json', ['pino']); // an optional peer
  const logger = pino(
    {
      level,
      base: { name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Fields are built here from known values; the message text is redacted on the way in.
    },
    pino.destination({ dest: 1, sync: true }),
  );
  const at = (lvl: 'info' | 'warn' | 'error') => (message: string, fields: Record<string, unknown> = {}) => logger[lvl]({ event: 'run', ...fields }, redact(message));
  return {
    json: true,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    delivery(message, delivery, maxAttempts) {
      const outcome = finalOutcome(message, delivery, maxAttempts);
      const domains = recipientDomains(delivery.recipients);
      logger[LEVEL_OF[outcome]](
        {
          event: 'delivery',
          id: message.id,
          messageId: message.messageId,
          domain: domains.join(','),
          recipients: delivery.recipients.length,
          outcome,
          code: delivery.code,
          ms: delivery.ms ?? null,
          attempt: message.attempts,
          reply: redact(delivery.reply),
        },
        `message ${message.id} ${outcome}`,
      );
    },
  };
}
