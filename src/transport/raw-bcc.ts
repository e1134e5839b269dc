/**
 * A `raw:` message goes out byte for byte, so a `Bcc:` line in it would show every
 * recipient who was meant to be hidden. nodemailer drops Bcc from the headers it builds
 * but not from raw input; like `sendmail -t` (RFC 5322 §3.6.3, first way), the field is
 * removed before the message is stored. Its addresses are not recipients: as in
 * nodemailer, a raw message's envelope comes from `envelope` (or to/cc/bcc), never
 * from the raw headers.
 */

/** The header section of `raw`: up to and including the line break before the first empty line. */
function headerLength(raw: Buffer): number {
  if (raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a)) return 0;
  const crlf = raw.indexOf('\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((at) => at >= 0);
  return ends.length ? Math.min(...ends) + 1 : raw.length;
}

/** `raw` without its Bcc header fields (folded lines included); the same Buffer when it has none. */
export function withoutBcc(raw: Buffer): Buffer {
  const length = headerLength(raw);
  const header = raw.subarray(0, length).toString('latin1');
  if (!/(^|\n)bcc[ \t]*:/i.test(header)) return raw;
  const lines = header.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    dropping = /^[ \t]/.test(line) ? dropping : /^bcc[ \t]*:/i.test(line);
    if (!dropping) kept.push(line);
  }
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), raw.subarray(length)]);
}
