import { InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { domainOverrides, MAX_DOMAIN_CONCURRENCY, parseDomainLimit, type DomainLimits } from '../drain/domain-limits.js';
import { numberBetween, wholeNumber } from './options.js';

/** The flags of per-domain throttles (drain/domain-throttle.ts), shared by `send` and `worker`. */
export interface DomainFlags {
  domainConcurrency?: number;
  domainRate?: number;
  domain?: string[];
}

export const domainConcurrencyOption = () =>
  new Option('--domain-concurrency <n>', `at most N messages in flight to each recipient domain, across every drain on the database (1 to ${MAX_DOMAIN_CONCURRENCY})`).argParser(
    wholeNumber(1, MAX_DOMAIN_CONCURRENCY),
  );

export const domainRateOption = () =>
  new Option('--domain-rate <n>', 'at most N messages started per second to each recipient domain, across every drain (0.001 or more)').argParser(
    numberBetween(0.001, Number.MAX_VALUE),
  );

/** `--domain gmail.com:concurrency=2,rate=5`: checked when parsed (a usage error), repeatable. */
export const domainOption = () =>
  new Option('--domain <domain:limits>', 'limits for one recipient domain over --domain-concurrency/--domain-rate, e.g. gmail.com:concurrency=2,rate=5; repeatable').argParser(
    (value: string, previous: string[] | undefined) => {
      try {
        parseDomainLimit(value);
      } catch (error) {
        if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
        throw error;
      }
      return [...(previous ?? []), value];
    },
  );

/** The drain's `domains` option from the flags; undefined when none is set. A domain given twice is a ConfigError. */
export function domainLimits(opts: DomainFlags): DomainLimits | undefined {
  const overrides = domainOverrides(opts.domain ?? []);
  const fallback = { concurrency: opts.domainConcurrency, rate: opts.domainRate };
  if (fallback.concurrency === undefined && fallback.rate === undefined && Object.keys(overrides).length === 0) return undefined;
  return { default: fallback, domains: overrides };
}
