// Bounces in plain text, not RFC 3464 reports: what qmail-send ("Hi. This is the qmail-send
// program…") and older or hand-configured Exims still send. Each names its failed
// recipients in its own layout, with the server's reply below, and quotes the returned
// message's headers in its text, not as a message/rfc822 part.

/** One recipient a plain-text bounce says failed, with the reply given for it. */
export interface PlainFailure {
  address: string;
  /** The reply's enhanced status code (`5.1.1`), else its basic code as `5.0.0`/`4.0.0` (RFC 3463's "undefined"). */
  status: string;
  /** The reply line, trimmed. */
  line: string;
}

const ADDRESS = /[^\s<>"():;,@]+@[^\s<>"():;,@]+\.[^\s<>"():;,@]+/;
const ENHANCED = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
/** A basic SMTP reply code where one is written: at a line's start or after "said:"/"error:". */
const BASIC = /(?:^|said:|error:|\s)([45])\d\d(?=[\s-])/;
/** Where the text stops being about the failure: the returned message follows. */
const RETURNED = /^(?:--- Below this line is a copy of the message|------ This is a copy of the message|-{3,} The header of the original message)/im;

/** qmail: `<address>:` alone on a line, the reply on the lines after it. */
const QMAIL_RECIPIENT = /^<([^<>\s]+@[^<>\s]+)>:\s*$/;
/** Exim: after "The following address(es) failed:", each address indented on its own line. */
const EXIM_HEADING = /following address(?:es|\(es\))? failed:/i;
const EXIM_RECIPIENT = /^\s+<?([^<>\s]+@[^<>\s]+?)>?(?:\s*$|\s+\()/;

/** The status a reply carries, or undefined when it has no code at all. */
function statusOf(text: string): string | undefined {
  const enhanced = ENHANCED.exec(text);
  if (enhanced) return enhanced[0];
  const basic = BASIC.exec(text);
  return basic ? `${basic[1]}.0.0` : undefined;
}

/**
 * The failed recipients a plain-text bounce names (qmail's or Exim's layout), each with
 * the code of the reply given for it; empty when the text is in neither layout. A
 * recipient whose reply carries no code is taken as `5.0.0` under a "permanent error"
 * heading, and left out otherwise.
 */
export function plainFailures(text: string): PlainFailure[] {
  const body = text.replace(/\r\n/g, '\n').split(RETURNED)[0]!;
  const permanent = /permanent error/i.test(body);
  const lines = body.split('\n');
  const starts: { index: number; address: string }[] = [];
  const exim = lines.findIndex((l) => EXIM_HEADING.test(l));
  lines.forEach((line, index) => {
    const qmail = QMAIL_RECIPIENT.exec(line);
    if (qmail) starts.push({ index, address: qmail[1]! });
    else if (exim >= 0 && index > exim) {
      const match = EXIM_RECIPIENT.exec(line);
      // An indented line that is just an address (the reply lines under it are indented deeper and hold more).
      if (match && ADDRESS.test(match[1]!) && !/^\s{5,}/.test(line)) starts.push({ index, address: match[1]! });
    }
  });
  return starts.flatMap(({ index, address }, i) => {
    const replyLines = lines.slice(index + 1, starts[i + 1]?.index ?? lines.length);
    const reply = replyLines.join('\n');
    const status = statusOf(reply) ?? (permanent ? '5.0.0' : undefined);
    if (!status || status.startsWith('2')) return [];
    const line = (replyLines.find((l) => statusOf(l)) ?? replyLines.find((l) => l.trim()) ?? '').trim().slice(0, 300);
    return [{ address, status, line }];
  });
}

/** The returned message's Message-ID, from the headers a plain-text bounce quotes after its marker line. */
export function quotedMessageId(text: string): string | undefined {
  const parts = text.replace(/\r\n/g, '\n').split(RETURNED);
  if (parts.length < 2) return undefined;
  return /^\s*Message-ID:\s*(<[^>\s]+>)/im.exec(parts.slice(1).join('\n'))?.[1];
}
