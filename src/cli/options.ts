import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATABASE } from '../store/database.js';

/** `--database`, defaulting to DATABASE_URL, then the embedded `.mailroom/db`. */
export const databaseOption = () =>
  new Option('--database <url>', 'postgres://… or file:PATH (embedded)').env('DATABASE_URL').default(DEFAULT_DATABASE, 'file:.mailroom/db');

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a whole number of 1 or more.`);
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number above 0.`);
  return n;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `90s`, `15m`, `12h`, `30d`, `2w` (or bare seconds) into seconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`"${value}" is not a duration: use e.g. 90s, 15m, 12h, 30d or 2w.`);
  return Number(match[1]) * UNITS[(match[2] || 's').toLowerCase()]!;
}
