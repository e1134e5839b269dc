/**
 * Hides the password of every URL in `text`, so it never reaches logs, errors or rows.
 *
 * A password is whatever a user typed, not what a URL parser accepts: `@`, `/`, spaces
 * or a lone `%` in it, `smtp:user:pass@host` without `//`, `?password=` in the query.
 * So this does not parse: from each `scheme:[//]user:` it hides up to the last `@` the
 * URL can reach (see passwordEnd): when unsure it hides too much, never too little.
 * It never throws.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:(?:\/\/)?[^\s:@/?#"'<>]*:)/gi;
const QUERY_PASSWORD = /([?&](?:password|pass|pwd)=)[^&#\s"'<>]*/gi;

export function redact(text: string): string {
  try {
    return hideQueryPasswords(hideUserinfoPasswords(String(text)));
  } catch {
    return '[redacted]'; // never the reason a message is lost, nor a leak
  }
}

function hideUserinfoPasswords(text: string): string {
  let out = '';
  let from = 0;
  const regions = new Regions(text);
  for (const match of text.matchAll(USERINFO)) {
    const start = match.index + match[0].length;
    if (start <= from) continue; // inside a password already hidden
    const end = passwordEnd(text, start, regions);
    if (end === -1) continue;
    out += `${text.slice(from, start)}***`;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * Where the password starting at `start` ends (the index of its closing `@`), or -1 when
 * nothing ends one. It may hold `@` and spaces, so it runs to the last `@` before the URL
 * can be over: a quote or angle bracket (how messages quote URLs), the next URL, or the
 * end of the line (the next line too when this one has no `@`: URL parsers drop newlines).
 */
function passwordEnd(text: string, start: number, regions: Regions): number {
  if (start >= text.length || /\s/.test(text[start]!)) return -1; // `host:5432: refused`, not a password
  let region = regions.at(start);
  if (region.lastAt < start && text[region.end] === '\n') region = regions.at(region.end + 1);
  if (region.lastAt < start) return -1;
  let digits = start;
  while (digits < text.length && digits - start <= 5 && text[digits]! >= '0' && text[digits]! <= '9') digits++;
  // `host:587 …` or `host:587/db`: a port, and the `@` further on belongs to other text.
  const port = digits > start && digits - start <= 5 && (digits === text.length || /[\s/?#]/.test(text[digits]!));
  if (port && !/^\S*@/.test(text.slice(digits, digits + 2048))) return -1;
  return region.lastAt;
}

/**
 * The stretches of text one URL can cover, each with its last `@`, found once per
 * stretch: matches are visited in order, so redacting stays linear however long the
 * text (an SMTP reply can be hundreds of KB).
 */
class Regions {
  private cached = { from: -1, end: -1, lastAt: -1 };
  constructor(private readonly text: string) {}

  at(from: number): { end: number; lastAt: number } {
    if (from >= this.cached.from && from < this.cached.end) return this.cached;
    const stop = /["'<>\n]|\b[a-z][a-z0-9+.-]*:\/\//gi;
    stop.lastIndex = from;
    const end = stop.exec(this.text)?.index ?? this.text.length;
    const at = this.text.slice(from, end).lastIndexOf('@'); // within the stretch: a backward search could cross the whole text each time
    this.cached = { from, end, lastAt: at === -1 ? -1 : from + at };
    return this.cached;
  }
}

function hideQueryPasswords(text: string): string {
  return text.replace(QUERY_PASSWORD, '$1***');
}
