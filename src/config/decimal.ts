// Numbers as a person writes them: a CLI flag (or the config file value it stands for) and a
// `--domain` spec's concurrency and rate. Number() alone would also read forms nobody means.

/** `5`, `0.5`, `.5`, `1e3`: digits, an optional point and exponent, nothing else. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * A plain decimal number (surrounding space ignored), or NaN for anything else: no `0x10`,
 * `0b11`, `Infinity`, sign or empty string, which Number() would also read.
 */
export function parseDecimal(text: string): number {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
}
