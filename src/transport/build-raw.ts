import type MimeNode from 'nodemailer/lib/mime-node';
import * as base64 from 'nodemailer/lib/base64';
import * as qp from 'nodemailer/lib/qp';

/** MimeNode fields nodemailer keeps internal; any of them set means the stream build is needed. */
type Internals = { _raw?: unknown; _transforms?: unknown[]; _processFuncs?: unknown[] };

const LINE = 76;
// nodemailer's QP stream encodes input in 64 KB slices; below that, encode + wrap is the same text.
const QP_SLICE = 64 * 1024;
// Encoding at once holds the encoded text and its bytes together; above this much content
// (large attachments) the stream build's bounded buffers are the better trade.
const AT_ONCE_BYTES = 1024 * 1024;

/** Content given in memory: no file, URL or stream to read. */
function inMemory(content: unknown): content is string | Buffer | undefined {
  return content === undefined || content === '' || typeof content === 'string' || Buffer.isBuffer(content);
}

type Encodings = Map<MimeNode, string | false>;

/**
 * True when `node` and all its parts can be built here, without streams. Records each
 * part's transfer encoding, read (as nodemailer does) before the headers are built.
 */
function buildable(node: MimeNode, encodings: Encodings, budget = { bytes: AT_ONCE_BYTES }): boolean {
  const internals = node as unknown as Internals;
  if (internals._raw || internals._transforms?.length || internals._processFuncs?.length || node.newline) return false;
  if (!inMemory(node.content)) return false;
  const size = node.content ? Buffer.byteLength(node.content) : 0;
  budget.bytes -= size;
  if (budget.bytes < 0) return false;
  const encoding = node.getTransferEncoding();
  encodings.set(node, encoding);
  if (encoding === 'quoted-printable') {
    // The stream encodes lone CR/LF of non-text parts in a binary mode the plain functions lack.
    // Read as nodemailer does before its headers are built (node.contentType is set only then).
    const text = /^text\//i.test(String(node.getHeader('Content-Type') ?? '').trim());
    if (!text || size > QP_SLICE) return false;
  }
  return node.childNodes.every((child) => buildable(child, encodings, budget));
}

/**
 * Quoted-printable as nodemailer's stream writes it: trailing whitespace is held back and
 * wrapped onto the last line afterwards, which can break lines differently from one wrap.
 */
function quotedPrintable(content: string | Buffer): string {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  let out = '';
  let line = '';
  for (const piece of [bytes.subarray(0, end), bytes.subarray(end)]) {
    if (!piece.length) continue;
    const wrapped = qp.wrap(line + qp.encode(piece), LINE);
    const lastBreak = wrapped.lastIndexOf('\n');
    out += wrapped.slice(0, lastBreak + 1);
    line = wrapped.slice(lastBreak + 1);
  }
  return out + line;
}

function write(node: MimeNode, encodings: Encodings, out: (string | Buffer)[]): void {
  const encoding = encodings.get(node);
  out.push(node.buildHeaders() + '\r\n\r\n');
  const content = node.content as string | Buffer | undefined;
  if (content) {
    if (encoding === 'base64') out.push(base64.wrap(base64.encode(content), LINE));
    else if (encoding === 'quoted-printable') out.push(quotedPrintable(content));
    else out.push(content);
  }
  if (node.multipart) {
    node.childNodes.forEach((child, i) => {
      out.push(`${i > 0 ? '\r\n' : ''}--${node.boundary}\r\n`);
      write(child, encodings, out);
    });
    out.push(`\r\n--${node.boundary}--\r\n`);
  }
}

/**
 * The RFC 822 bytes of a compiled message, the same bytes as nodemailer's `node.build()`
 * (test/build-raw.test.ts compares them). Messages whose parts are all in memory, the
 * usual case, are built at once: the stream build costs a dozen event-loop turns per
 * message, a third of what the queue adds to a send. Anything else (files, URLs,
 * streams, DKIM, custom transforms, over 1 MB of content) goes through nodemailer's own build.
 * Neither reads a file or URL for the queue: compose() has read them (content-parts.ts,
 * as contentAccess allows) and closed nodemailer's access before it builds.
 */
export function buildRaw(node: MimeNode): Buffer | Promise<Buffer> {
  const encodings: Encodings = new Map();
  if (!buildable(node, encodings)) return node.build();
  const out: (string | Buffer)[] = [];
  write(node, encodings, out);
  const parts = out.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)).filter((part) => part.length);
  // nodemailer ends every message with a line break (its LastNewline stage).
  const last = parts.at(-1)?.at(-1);
  if (last !== 0x0a) parts.push(Buffer.from(last === 0x0d ? '\n' : '\r\n'));
  return Buffer.concat(parts);
}
