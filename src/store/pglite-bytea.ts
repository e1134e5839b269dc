/** Postgres's type id for bytea. */
const BYTEA = 17;

/**
 * bytea to and from PGlite's hex text form with Node's native hex codec. PGlite's own
 * codec maps every byte through a JS string and back: a 10 KB message cost 0.6 ms to
 * store and more to read, and a 1 MB attachment a million-element array each way.
 * (Handing PGlite the bytes as a binary parameter would save another 0.15 ms, but its
 * bytea[] serializer builds array literals from this one's strings.)
 */
export const pgliteBytea = {
  serializers: {
    [BYTEA]: (value: Uint8Array) => {
      if (!(value instanceof Uint8Array)) throw new TypeError('Invalid input for bytea: expected a Buffer or Uint8Array');
      return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
    },
  },
  parsers: {
    [BYTEA]: (text: string) => {
      // Hex is PGlite's bytea_output; anything else would decode short without a word.
      if (!text.startsWith('\\x')) throw new Error(`bytea arrived as "${text.slice(0, 8)}…", not hex: set bytea_output = 'hex'`);
      return Buffer.from(text.slice(2), 'hex');
    },
  },
};

/** Where a result's bytea values sit in each row: column indexes in array mode, else names. */
export function byteaKeys(fields: { name: string; dataTypeID: number }[], rowMode?: 'array' | 'object'): (string | number)[] {
  return fields.flatMap<string | number>((field, i) => (field.dataTypeID !== BYTEA ? [] : rowMode === 'array' ? [i] : [field.name]));
}
