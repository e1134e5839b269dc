import { parseDecimal } from '../config/decimal.js';
import { ConfigError } from '../errors.js';

/** What one recipient domain may take: messages in flight at once, and messages started per second. */
export interface DomainLimit {
  /** At most this many of its messages claimed or sending at once, across every drain. */
  concurrency?: number;
  /** At most this many of its messages started per second, across every drain. */
  rate?: number;
}

/** Throttles per recipient domain: a default for every domain, and overrides by domain name. */
export interface DomainLimits {
  default?: DomainLimit;
  /** Lower-case domain → its limits (a key given replaces the default's, one not given keeps it). */
  domains?: Record<string, DomainLimit>;
}

export const MAX_DOMAIN_CONCURRENCY = 100_000;

/** Whether any limit is set: without one the drain claims as before, without counting domains. */
export function throttles(limits: DomainLimits | undefined): limits is DomainLimits {
  if (!limits) return false;
  const set = (l: DomainLimit | undefined) => l !== undefined && (l.concurrency !== undefined || l.rate !== undefined);
  return set(limits.default) || Object.values(limits.domains ?? {}).some(set);
}

/** The limits that hold for `domain`: its override's keys over the default's. */
export function limitFor(limits: DomainLimits, domain: string | null): DomainLimit {
  return { ...limits.default, ...(domain === null ? undefined : limits.domains?.[domain]) };
}

/** A concurrency value, or a ConfigError naming the fix. */
export function checkConcurrency(value: number, where: string, shown: string = String(value)): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_DOMAIN_CONCURRENCY) {
    throw new ConfigError(`${where}: concurrency "${shown}" is not a whole number from 1 to ${MAX_DOMAIN_CONCURRENCY}.`);
  }
  return value;
}

/** A rate value (messages per second), or a ConfigError naming the fix. */
export function checkRate(value: number, where: string, shown: string = String(value)): number {
  if (!Number.isFinite(value) || value < 0.001) throw new ConfigError(`${where}: rate "${shown}" is not a number of messages per second, 0.001 or more.`);
  return value;
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * `gmail.com:concurrency=2,rate=5` (either key, or both) → the domain and its limits.
 * The domain is lower-cased, as messages' recipient domains are stored.
 */
export function parseDomainLimit(spec: string): { domain: string; limit: DomainLimit } {
  const colon = spec.indexOf(':');
  const domain = (colon > 0 ? spec.slice(0, colon) : '').trim().toLowerCase();
  const example = 'e.g. gmail.com:concurrency=2,rate=5';
  if (!DOMAIN.test(domain)) throw new ConfigError(`Domain limit "${spec}" is not DOMAIN:concurrency=N,rate=N: ${example}.`);
  const limit: DomainLimit = {};
  for (const part of spec.slice(colon + 1).split(',')) {
    const [key, value, extra] = part.split('=').map((s) => s.trim());
    const where = `Domain limit for ${domain}`;
    if (!value || extra !== undefined) throw new ConfigError(`${where}: "${part.trim()}" is not KEY=VALUE (concurrency or rate): ${example}.`);
    const n = parseDecimal(value);
    if ((key === 'concurrency' || key === 'rate') && limit[key] !== undefined) throw new ConfigError(`${where}: ${key} is given twice: give it once, ${example}.`);
    if (key === 'concurrency') limit.concurrency = checkConcurrency(/^\d+$/.test(value) ? n : Number.NaN, where, value);
    else if (key === 'rate') limit.rate = checkRate(n, where, value);
    else throw new ConfigError(`${where}: unknown key "${key}" (concurrency or rate): ${example}.`);
  }
  return { domain, limit };
}

/** Several `--domain` values into overrides; a domain given twice is an error. */
export function domainOverrides(specs: string[]): Record<string, DomainLimit> {
  const overrides: Record<string, DomainLimit> = {};
  for (const { domain, limit } of specs.map(parseDomainLimit)) {
    if (overrides[domain]) throw new ConfigError(`Two limits for ${domain}: give one --domain ${domain}:… with every key in it.`);
    overrides[domain] = limit;
  }
  return overrides;
}
