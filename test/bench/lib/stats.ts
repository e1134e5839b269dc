/** Middle value (mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in 0..100. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Runs `a` and `b` side by side for `rounds` rounds, alternating which goes first,
 * so drift on a shared machine falls on both alike.
 */
export async function sideBySide<A, B>(rounds: number, a: (round: number) => Promise<A>, b: (round: number) => Promise<B>) {
  const as: A[] = [];
  const bs: B[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      as.push(await a(round));
      bs.push(await b(round));
    } else {
      bs.push(await b(round));
      as.push(await a(round));
    }
  }
  return { a: as, b: bs };
}

/** Half the range over the median: ±0.1 means rounds within about 10% of the middle one. */
export function spread(values: number[]): number | undefined {
  return values.length < 2 ? undefined : (Math.max(...values) - Math.min(...values)) / 2 / median(values);
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

/**
 * Runs each of `steps` once per round for `rounds` rounds, rotating which goes first,
 * so drift on a shared machine falls on all alike. Results by step name, in round order.
 */
export async function rotate<K extends string, T>(rounds: number, steps: Record<K, (round: number) => Promise<T>>): Promise<Record<K, T[]>> {
  const names = Object.keys(steps) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      out[name].push(await steps[name](round));
    }
  }
  return out;
}
