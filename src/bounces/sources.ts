import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

// Where reports come from: standard input (a Postfix or Exim pipe delivers one message
// there), a file holding one message, an mbox (messages after "From " lines), or a Maildir
// (its new/ and cur/ folders, one message a file). Each message is yielded as its bytes.

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** mbox (RFC 4155): a message starts at each "From " line at the start of the file or after a line break; ">From " lines are unquoted. */
export function splitMbox(bytes: Buffer): Buffer[] {
  const text = bytes.toString('latin1'); // byte for byte: the messages keep their own encodings
  const starts = [...text.matchAll(/(?:^|\n)From [^\n]*\n/g)];
  return starts.map((match, i) => {
    const begin = match.index! + match[0].length;
    const end = i + 1 < starts.length ? starts[i + 1]!.index! + 1 : text.length;
    return Buffer.from(text.slice(begin, end).replace(/^>(>*From )/gm, '$1'), 'latin1');
  });
}

async function* folder(path: string): AsyncGenerator<{ name: string; bytes: Buffer }> {
  const entries = await readdir(path);
  const maildir = entries.includes('new') && entries.includes('cur');
  const dirs = maildir ? [join(path, 'new'), join(path, 'cur')] : [path];
  for (const dir of dirs) {
    for (const name of (await readdir(dir)).sort()) {
      const file = join(dir, name);
      if (name.startsWith('.') || !(await stat(file)).isFile()) continue;
      yield { name: file, bytes: await readFile(file) };
    }
  }
}

/** Every message in the given sources (none, or `-`: standard input), with where it came from. */
export async function* reportMessages(sources: string[]): AsyncGenerator<{ name: string; bytes: Buffer }> {
  for (const source of sources.length ? sources : ['-']) {
    if (source === '-') {
      yield { name: 'stdin', bytes: await readStdin() };
      continue;
    }
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new ConfigError(`No file or folder at ${source}: give a message file, an mbox, a Maildir, or - for standard input.`);
    if (info.isDirectory()) {
      yield* folder(source);
      continue;
    }
    const bytes = await readFile(source);
    if (bytes.subarray(0, 5).toString('latin1') === 'From ') {
      let i = 0;
      for (const message of splitMbox(bytes)) yield { name: `${source}#${++i}`, bytes: message };
    } else yield { name: source, bytes };
  }
}
