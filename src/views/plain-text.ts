import { compile } from 'html-to-text';
import { plainTextSelectors } from '@react-email/render';

/**
 * The plain-text part of an email: the same text as react-email's `toPlainText`, whose
 * options it reuses, but compiled once. `toPlainText` compiles its selectors on every
 * call, a third of the time a view took to render (0.39 of ~1.2 ms).
 */
export const plainText: (html: string) => string = compile({ wordwrap: false, selectors: plainTextSelectors });
