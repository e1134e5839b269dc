/**
 * Every setting a config file may hold, once: its path in the file, the CLI flag it
 * stands for (the option's attribute name), and the JSON type it must have. A value is
 * then parsed by the flag's own parser, so a file obeys exactly the flag's range.
 */
export type SettingType = 'string' | 'number' | 'duration' | 'boolean' | 'string[]' | 'size';

export interface Setting {
  /** `drain.lease`, as written in the file. */
  path: string;
  /** The commander attribute name of the flag (`maxAttempts` for `--max-attempts`). */
  flag: string;
  type: SettingType;
}

export const SETTINGS: readonly Setting[] = [
  { path: 'database', flag: 'database', type: 'string' },
  { path: 'smtp', flag: 'smtp', type: 'string' },
  { path: 'emailsDir', flag: 'emails', type: 'string' },
  { path: 'drain.concurrency', flag: 'concurrency', type: 'number' },
  { path: 'drain.lease', flag: 'lease', type: 'number' },
  { path: 'drain.batchSize', flag: 'batchSize', type: 'number' },
  { path: 'drain.rate', flag: 'rate', type: 'number' },
  { path: 'drain.domainConcurrency', flag: 'domainConcurrency', type: 'number' },
  { path: 'drain.domainRate', flag: 'domainRate', type: 'number' },
  { path: 'drain.domains', flag: 'domain', type: 'string[]' },
  { path: 'drain.maxAttempts', flag: 'maxAttempts', type: 'number' },
  { path: 'drain.backoffBase', flag: 'backoffBase', type: 'duration' },
  { path: 'drain.backoffCap', flag: 'backoffCap', type: 'duration' },
  { path: 'drain.socketTimeout', flag: 'socketTimeout', type: 'duration' },
  { path: 'drain.timeLimit', flag: 'timeLimit', type: 'duration' },
  { path: 'drain.maxDeferred', flag: 'maxDeferred', type: 'number' },
  { path: 'drain.poll', flag: 'poll', type: 'duration' },
  { path: 'drain.dkim', flag: 'dkim', type: 'string[]' },
  { path: 'drain.routes', flag: 'route', type: 'string[]' },
  { path: 'drain.transport', flag: 'transport', type: 'string' },
  { path: 'drain.failoverRetry', flag: 'failoverRetry', type: 'duration' },
  { path: 'drain.log', flag: 'log', type: 'string' },
  { path: 'drain.logLevel', flag: 'logLevel', type: 'string' },
  { path: 'drain.metricsPort', flag: 'metricsPort', type: 'number' },
  { path: 'drain.metricsHost', flag: 'metricsHost', type: 'string' },
  { path: 'preview.port', flag: 'port', type: 'number' },
  { path: 'preview.host', flag: 'host', type: 'string' },
  { path: 'preview.allowedHosts', flag: 'allowedHost', type: 'string[]' },
  { path: 'preview.readOnly', flag: 'readOnly', type: 'boolean' },
  { path: 'preview.secureCookie', flag: 'secureCookie', type: 'boolean' },
  { path: 'check.maxMessageSize', flag: 'maxMessageSize', type: 'size' },
];

/** The sections that group settings (`drain`, `preview`, `check`). */
export const SECTIONS = new Set(SETTINGS.filter((s) => s.path.includes('.')).map((s) => s.path.split('.')[0]!));
