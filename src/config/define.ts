/**
 * The shape of `mailroom.config.ts`. Types only: an app's config file imports this
 * without loading anything of mailroom (no database driver, no SMTP, no React).
 */
export interface MailroomConfig {
  /** `postgres://…` or `file:PATH` (embedded, relative to the current directory). */
  database?: string;
  /** `smtp://user:pass@host:587`, `smtps://…`; see the README's SMTP rules. */
  smtp?: string;
  /** Folder of React Email templates (the preview's `--emails`). */
  emailsDir?: string;
  /** `mailroom send` and `mailroom worker`; durations are seconds or `90s`, `15m`, `12h`, `30d`, `2w`. */
  drain?: {
    concurrency?: number;
    /** Seconds a claim lasts (whole seconds). */
    lease?: number;
    batchSize?: number;
    /** At most this many messages started per second. */
    rate?: number;
    maxAttempts?: number;
    backoffBase?: number | string;
    backoffCap?: number | string;
    socketTimeout?: number | string;
    /** `send` only. */
    timeLimit?: number | string;
    /** `send` only. */
    maxDeferred?: number;
    /** `worker` only. */
    poll?: number | string;
  };
  /** `mailroom preview`. Its login stays in the environment (MAILROOM_PREVIEW_PASSWORD, …), never in a file. */
  preview?: {
    port?: number;
    host?: string;
    allowedHosts?: string[];
    readOnly?: boolean;
    secureCookie?: boolean;
  };
}

/** Types `mailroom.config.ts` (`export default defineConfig({ … })`); returns its argument unchanged. */
export function defineConfig(config: MailroomConfig): MailroomConfig {
  return config;
}
