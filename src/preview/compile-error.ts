import { relative } from 'node:path';

/** Where a template fails to load and why, without the bundler's framing. */
export interface CompileError {
  /** The file, relative to the emails folder when it is in it. */
  file: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * esbuild (through tsx) reports a syntax error as "Transform failed with 1 error:\n
 * /abs/file.tsx:4:0: ERROR: Expected ">" but found "}"": the first error's place and
 * message are what the author needs. Any other error thrown while importing the file
 * (a throwing top-level statement) keeps its message and, from its stack, the first
 * line in the template's own file.
 */
export function compileErrorOf(error: unknown, file: string, emailsDir: string): CompileError {
  const shown = (path: string) => (path.startsWith(emailsDir) ? relative(emailsDir, path) : relative(process.cwd(), path) || path);
  const text = error instanceof Error ? error.message : String(error);
  const esbuild = /^(?:Transform|Build) failed with \d+ errors?:\n(.+?):(\d+):(\d+): (?:ERROR|error): (.+)$/m.exec(text);
  if (esbuild) return { file: shown(esbuild[1]!), line: Number(esbuild[2]), column: Number(esbuild[3]) + 1, message: esbuild[4]!.trim() };
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${escaped}(?:\\?[^:]*)?:(\\d+):(\\d+)`).exec(stack);
  const message = text.split('\n')[0]!.trim();
  return frame ? { file: shown(file), line: Number(frame[1]), column: Number(frame[2]), message } : { file: shown(file), message };
}
