/**
 * What the CLI prints to a terminal. Anything that came from outside (SMTP replies,
 * addresses, block reasons, error messages quoting them) may hold escape sequences that
 * retitle the window, clear the screen, rewrite earlier lines or hide text (bidi
 * overrides), or line breaks that forge a line of our own. Every line goes out through
 * here: escape sequences and control characters are removed, line breaks become spaces.
 */

import { ESCAPE_SEQUENCE } from '../escape-sequences.js';

const LINE_BREAK = /\r\n|[\n\r\v\f\x85\u2028\u2029]/g;
/** C0 and C1 controls but tab, DEL, and the invisible bidi/format controls that reorder what is shown. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `text` made safe to show on one terminal line. */
export function forTerminal(text: string): string {
  return String(text).replace(ESCAPE_SEQUENCE, '').replace(LINE_BREAK, ' ').replace(CONTROL, '');
}

/** JSON whose strings keep every character (escaped as \uXXXX), so the data is exact and the terminal safe. */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Prints one line on stdout. */
export function say(line: string): void {
  process.stdout.write(`${forTerminal(line)}\n`);
}

/** Prints one line on stderr. */
export function warn(line: string): void {
  process.stderr.write(`${forTerminal(line)}\n`);
}
