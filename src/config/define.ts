/**
 * The shape of `mailroom.config.ts`, read by every `mailroom` command. Each key stands for
 * the flag of the same name and obeys its range; flags beat environment variables
 * (`DATABASE_URL`, `SMTP_URL`) beat the file beat the defaults below. `mailroom config`
 * prints the result. Types only: the file imports this without loading anything of
 * mailroom (no database driver, no SMTP, no React).
 */
export interface MailroomConfig {
  /** `postgres://…` or `file:PATH` (embedded, relative to the current directory). Default `file:.mailroom/db`. */
  database?: string;
  /** `smtp://user:pass@host:587`, `smtps://…`; see the README's SMTP rules. Several, comma-separated: failover in that order. */
  smtp?: string;
  /** Folder of React Email templates, with `_views/index.ts` registering mail views (the preview's `--emails`). Default `emails`. */
  emailsDir?: string;
  /** `mailroom send` and `mailroom worker`; durations are seconds or `90s`, `15m`, `12h`, `30d`, `2w`. */
  drain?: {
    /** SMTP connections at once, 1 to 1000. Default 5. */
    concurrency?: number;
    /** Seconds a claim lasts before another drain may take the message back (whole seconds). Default 300. */
    lease?: number;
    /** Messages claimed per query. Default: 20 × concurrency, between 25 and 500 (drain/defaults.ts). */
    batchSize?: number;
    /** At most this many messages started per second. Default: no limit. */
    rate?: number;
    /** At most this many messages in flight to each recipient domain, across every drain on the database. Default: no limit. */
    domainConcurrency?: number;
    /** At most this many messages started per second to each recipient domain, across every drain. Default: no limit. */
    domainRate?: number;
    /**
     * Limits for single recipient domains over `domainConcurrency`/`domainRate`:
     * `DOMAIN:concurrency=N,rate=N` (either key or both), e.g. `['gmail.com:concurrency=2,rate=5']`.
     */
    domains?: string[];
    /** Attempts before a message that keeps deferring is failed. Default 10. */
    maxAttempts?: number;
    /** First retry delay. Default 60 s. */
    backoffBase?: number | string;
    /** Longest retry delay. Default 4 h. */
    backoffCap?: number | string;
    /** Give up on a silent SMTP server after this long. Default 60 s. */
    socketTimeout?: number | string;
    /** `send` only: end the run after this long. Default: when the queue is empty. */
    timeLimit?: number | string;
    /** `send` only: stop after this many deferrals (a failing server). Default: no limit. */
    maxDeferred?: number;
    /** `worker` only: longest wait between looks at the queue. Default 30 s on Postgres, 1 s embedded. */
    poll?: number | string;
    /**
     * DKIM keys, one per signing domain: `DOMAIN:SELECTOR:KEYFILE` or `DOMAIN:SELECTOR:env:VARIABLE`
     * (the PEM in that environment variable), e.g. `['example.com:mail2026:/etc/mailroom/dkim/example.com.pem']`.
     * Mail whose From is at DOMAIN or a subdomain is signed; other mail goes out unsigned.
     */
    dkim?: string[];
    /** Routes by sender domain: `DOMAIN=URL` (comma-separated URLs fail over), e.g. `['example.com=smtp://relay-a:587']`. */
    routes?: string[];
    /** A module whose default export is a nodemailer transport (e.g. Amazon SES), instead of `smtp`. */
    transport?: string;
    /** How long a server that failed at connect is skipped before it is tried again. Default 60 s. */
    failoverRetry?: number | string;
    /** `text` (default) or `json`: one JSON object per line, one line per delivery. */
    log?: 'text' | 'json';
    /** With `log: 'json'`: the least severe level printed. Default `info`. */
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
    /** `worker` only: serve Prometheus metrics on this port (`/metrics`). Default: none. */
    metricsPort?: number;
    /** `worker` only: the address the metrics server binds. Default `127.0.0.1`. */
    metricsHost?: string;
  };
  /** `mailroom preview`. Its login stays in the environment (MAILROOM_PREVIEW_PASSWORD, …), never in a file. */
  preview?: {
    /** Default 3000. */
    port?: number;
    /** Address to bind. Default `127.0.0.1`; anything but loopback needs a login. */
    host?: string;
    /** Host names the preview answers to (`*.example.com` for subdomains); required with host `0.0.0.0`. */
    allowedHosts?: string[];
    /** No retry, delete or send now. Default false. */
    readOnly?: boolean;
    /** Mark the login cookie Secure, for TLS ending at a proxy in front. Default false. */
    secureCookie?: boolean;
  };
  /** `mailroom check`. */
  check?: {
    /** Largest whole message (attachments encoded): bytes, or `500KB`, `10MB`. Default 10,240,000 bytes (Postfix's default limit); KB and MB are 1024-based. */
    maxMessageSize?: number | string;
  };
}

/**
 * Types `mailroom.config.ts` (`export default defineConfig({ … })`): a misspelt key or a
 * wrong type does not compile. Returns its argument unchanged; values are checked when a
 * command reads the file (a ConfigError naming the key).
 */
export function defineConfig(config: MailroomConfig): MailroomConfig {
  return config;
}
