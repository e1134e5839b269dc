// The parts of a multipart/report (RFC 6522), split from the raw bytes. mailparser folds a
// message/delivery-status part into the text body and opens message/rfc822 parts, so the
// report's machine-readable parts are read here; mailparser still reads the envelope headers.

/** One MIME part: its content type (lower-case) and decoded body as text. */
export interface ReportPart {
  contentType: string;
  body: string;
}

const unfold = (headers: string) => headers.replace(/\r?\n[ \t]+/g, ' ');

function header(headers: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfold(headers))?.[1]?.trim();
}

function decode(body: string, encoding: string | undefined): string {
  const e = (encoding ?? '').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString('utf8');
  }
  return body;
}

/** Splits the parts of a multipart entity, descending into nested multiparts (a report inside multipart/mixed). */
export function reportParts(raw: Buffer | string, depth = 0): ReportPart[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const split = /\r?\n\r?\n/.exec(text);
  const headers = split ? text.slice(0, split.index) : text;
  const body = split ? text.slice(split.index + split[0].length) : '';
  const contentType = header(headers, 'Content-Type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (!type.startsWith('multipart/') || depth > 3) {
    return [{ contentType: type, body: decode(body, header(headers, 'Content-Transfer-Encoding')) }];
  }
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) return [];
  const escaped = mark.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pieces = body.split(new RegExp(`(?:^|\\r?\\n)--${escaped}(?:--)?[ \\t]*(?=\\r?\\n|$)`));
  // pieces[0] is the preamble; the piece after the closing delimiter is the epilogue.
  return pieces.slice(1, -1).flatMap((piece) => reportParts(piece.replace(/^\r?\n/, ''), depth + 1));
}
