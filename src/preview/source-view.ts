import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadOptional } from '../optional.js';

/** An email's HTML as the source panel shows it: pretty-printed, and that text highlighted (escaped HTML of spans). */
export interface SourceView {
  /** Prettier's layout of the HTML, or the HTML as sent when Prettier cannot parse it. */
  text: string;
  /** `text` as highlight.js marks it up: every character of the source is escaped. */
  highlighted: string;
}

type Highlighter = { highlight(code: string, options: { language: string }): { value: string } };
type Formatter = { format(source: string, options: object): Promise<string> };

const HIGHLIGHT_MODULES: [string, string] = ['highlight.js/lib/core', 'highlight.js/lib/languages/xml'];

let tools: Promise<{ prettier: Formatter; hljs: Highlighter }> | undefined;

/** Loaded on the first source shown: only the preview ever needs them, and not at startup. */
function loadTools() {
  tools ??= loadOptional(
    async () => {
      // By a variable name: highlight.js's types pull in the DOM lib, which would retype the whole project.
      const [core, xml] = HIGHLIGHT_MODULES;
      const [prettier, hl, language] = await Promise.all([import('prettier'), import(core) as Promise<{ default: unknown }>, import(xml) as Promise<{ default: unknown }>]);
      const hljs = hl.default as unknown as Highlighter & { registerLanguage(name: string, language: unknown): void };
      hljs.registerLanguage('xml', language.default);
      return { prettier: prettier as unknown as Formatter, hljs };
    },
    'The preview’s HTML source view',
    ['prettier', 'highlight.js'],
  );
  return tools;
}

/** Sources longer than this are shown as sent: formatting megabytes would hold the page up for seconds. */
const FORMAT_LIMIT = 512 * 1024;

export async function sourceView(html: string): Promise<SourceView> {
  const { prettier, hljs } = await loadTools();
  let text = html;
  if (html.length <= FORMAT_LIMIT) {
    try {
      text = await prettier.format(html, { parser: 'html', printWidth: 100, htmlWhitespaceSensitivity: 'ignore' });
    } catch {
      // HTML Prettier cannot parse is shown as it is: the email is still what gets sent
    }
  }
  return { text, highlighted: hljs.highlight(text, { language: 'xml' }).value };
}

let theme: Promise<string> | undefined;

/** highlight.js's own GitHub theme, served as /assets/highlight.css (the page CSP allows no inline style). */
export function highlightTheme(): Promise<string> {
  theme ??= readFile(createRequire(import.meta.url).resolve('highlight.js/styles/github.css'), 'utf8').catch(() => '');
  return theme;
}
