import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATABASE } from '../store/database.js';
import { parseDecimal } from '../config/decimal.js';

/** `--database`, defaulting to DATABASE_URL, then the embedded `.mailroom/db`. */
export const databaseOption = () =>
  new Option('--database <url>', 'postgres://… or file:PATH (embedded)').env('DATABASE_URL').default(DEFAULT_DATABASE, 'file:.mailroom/db');

/**
 * Every flag has a range it is honoured in, and a value outside it is a usage error
 * (exit 2 with the usage), never a silent surprise: a Node timer longer than 2^31-1 ms
 * (24.8 days) fires at once, 0 s disables nodemailer's socket timeout, `--rate 1e-300`
 * would sleep past any timer, and a purge cutoff beyond the calendar is no date at all.
 */
export const MAX_TIMER_SECONDS = 24 * 86_400;
/** Postgres `integer` columns and parameters (attempts, limits). */
export const MAX_INT4 = 2 ** 31 - 1;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** 90 → `90s`, 2073600 → `24d`: a bound as a user would type it. */
export function formatSeconds(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const n = seconds / UNITS[unit]!;
    if (n >= 1 && Number.isInteger(n)) return `${n}${unit}`;
  }
  return `${seconds}s`;
}

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`"${value}" is not a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A number in [min, max]. */
export function numberBetween(min: number, max: number) {
  return (value: string): number => {
    const n = parseDecimal(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`"${value}" is not a number from ${min} to ${max === Number.MAX_VALUE ? 'any finite size' : max}.`);
    }
    return n;
  };
}

/** `90s`, `15m`, `12h`, `30d`, `2w` (or bare seconds) into seconds, within [minSeconds, maxSeconds]. */
export function durationBetween(minSeconds: number, maxSeconds: number) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(value.trim());
    const seconds = match ? Number(match[1]) * UNITS[(match[2] || 's').toLowerCase()]! : Number.NaN;
    if (!Number.isFinite(seconds) || seconds < minSeconds || seconds > maxSeconds) {
      throw new InvalidArgumentError(
        `"${value}" is not a duration from ${formatSeconds(minSeconds)} to ${formatSeconds(maxSeconds)}: use e.g. 90s, 15m, 12h, 30d or 2w.`,
      );
    }
    return seconds;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 * 1024 };

/** `10MB`, `500KB`, `2.5MB` or bare bytes into bytes, within [min, max] (KB and MB are 1024-based, as mail clients show them). */
export function sizeBetween(min: number, max: number) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(value.trim());
    const bytes = match ? Math.round(Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toLowerCase()]!) : Number.NaN;
    if (!Number.isFinite(bytes) || bytes < min || bytes > max) {
      throw new InvalidArgumentError(`"${value}" is not a size from ${min} bytes to ${max / 1024 / 1024} MB: use e.g. 10MB, 500KB or a number of bytes.`);
    }
    return bytes;
  };
}

/** Ids and counts: 1 or more, exact in JavaScript. */
export const positiveInt = wholeNumber(1, Number.MAX_SAFE_INTEGER);
/** A delay a timer waits for: at least 0.1 s, at most 24 days. */
export const duration = durationBetween(0.1, MAX_TIMER_SECONDS);
