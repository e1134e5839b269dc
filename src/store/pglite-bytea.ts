/** Postgres's type id for bytea. */
const BYTEA = 17;

/**
 * bytea to and from PGlite's hex text form with Node's native hex codec. PGlite's own
 * codec maps every byte through a JS string and back: a 10 KB message cost 0.6 ms to
 * store and more to read, and a 1 MB attachment a million-element array each way.
 */
export const pgliteBytea = {
  serializers: {
    [BYTEA]: (value: Uint8Array) => {
      if (!(value instanceof Uint8Array)) throw new TypeError('Invalid input for bytea: expected a Buffer or Uint8Array');
      return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
    },
  },
  // PGlite's bytea_output is hex: `\x` then two digits per byte.
  parsers: { [BYTEA]: (text: string) => Buffer.from(text.slice(2), 'hex') },
};
