import { html } from 'hono/html';
import type { Html } from './layout.js';

/**
 * Invisible characters that change what a reader sees: bidi overrides, embeddings and
 * isolates (U+202E makes `gnp.exe` read `exe.png`), marks, zero-width spaces and joiners'
 * kin, BOM. Real right-to-left text (Hebrew, Arabic) needs none of them and stays as it is.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A stored value (an address, a note) as the exact text it is: escaped, isolated from the
 * text around it (<bdi>), and each invisible control shown as its code point, so a note or
 * address cannot disguise itself or reorder the table.
 */
export function visibleText(text: string): Html {
  const parts: (string | Html)[] = [];
  let last = 0;
  for (const match of text.matchAll(INVISIBLE)) {
    parts.push(text.slice(last, match.index));
    parts.push(html`<span class="invisible-char" title="an invisible character that reorders or hides text">${codePoint(match[0])}</span>`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return html`<bdi>${parts}</bdi>`;
}
