import { constants } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { ConfigError, InvalidMessageError } from '../errors.js';

/**
 * What mailroom may read when it queues a message whose content is a file `path` or a
 * URL (`href`, or a `path` that is a URL). nodemailer reads both by default; mailroom
 * reads neither unless the app allows it here, because message options often carry
 * user input (a file name, an avatar URL) and a queued message is stored, shown in the
 * preview and mailed: `/proc/self/environ`, or an internal URL (SSRF), must not be.
 * Content it does not allow is an InvalidMessageError naming the field; a malformed policy
 * is a ConfigError when the transport is created (or on the first enqueue).
 */
export interface ContentAccess {
  /** Folders whose files may be read, checked after resolving symlinks and `..`. Absolute paths. Default: none. */
  files?: readonly string[];
  /** Origins that may be fetched (`https://cdn.example.com`), checked again on every redirect. Default: none. */
  urls?: readonly string[];
  /** Time allowed for one URL, redirects and body included (default 10 s). */
  timeoutMs?: number;
  /** Bytes read for one message from files, URLs and streams, at most (default 25 MB). */
  maxBytes?: number;
}

/** A ContentAccess checked and filled in. */
export interface ContentPolicy {
  files: string[];
  urls: Set<string>;
  timeoutMs: number;
  maxBytes: number;
}

const MAX_REDIRECTS = 5;
export const DEFAULT_CONTENT_ACCESS = { timeoutMs: 10_000, maxBytes: 25 * 1024 * 1024 };
const checked = new WeakMap<ContentAccess, ContentPolicy>();
const NONE: ContentAccess = Object.freeze({});

/** Checks an app's ContentAccess once (a ConfigError names what is wrong). None given: nothing is read. */
export function contentPolicy(access: ContentAccess = NONE): ContentPolicy {
  const known = checked.get(access);
  if (known) return known;
  const files = (access.files ?? []).map((dir) => {
    if (typeof dir !== 'string' || !isAbsolute(dir)) {
      throw new ConfigError(`contentAccess.files: "${String(dir)}" is not an absolute path: give folders as absolute paths.`);
    }
    return resolve(dir);
  });
  const urls = new Set(
    (access.urls ?? []).map((origin) => {
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
        throw new ConfigError(`contentAccess.urls: "${String(origin)}" is not an origin: give scheme and host only, e.g. https://cdn.example.com.`);
      }
      return url.origin;
    }),
  );
  const number = (name: 'timeoutMs' | 'maxBytes') => {
    const value = access[name] ?? DEFAULT_CONTENT_ACCESS[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`contentAccess.${name} must be a positive whole number, got ${String(value)}.`);
    return value;
  };
  const policy = { files, urls, timeoutMs: number('timeoutMs'), maxBytes: number('maxBytes') };
  checked.set(access, policy);
  return policy;
}

/** Where a piece of content comes from, named as the app wrote it (`attachments[0].path`). */
export interface Read {
  field: string;
  /** Bytes this read may return; one more is an error. */
  limit: number;
  /** The error for content over `limit`. */
  over: () => InvalidMessageError;
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Reads a chunked body into one Buffer, stopping (and so cancelling the stream, whose
 * iterator is closed by the throw) as soon as it passes the limit: a 60 MB download
 * against a 20 MB limit reads little more than 20 MB.
 */
export async function readBounded(body: AsyncIterable<Uint8Array | string>, read: Read): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += bytes.length;
    if (size > read.limit) throw read.over();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}

/** A file inside an allowed folder, after symlinks and `..` are resolved; nothing else is touched. */
export async function readAllowedFile(path: string, policy: ContentPolicy, read: Read): Promise<Buffer> {
  const refuse = (why: string) => new InvalidMessageError(`${read.field} "${path}": ${why}`);
  if (policy.files.length === 0) {
    throw refuse(
      'mailroom reads no files when it queues a message: give the content as a string or Buffer, ' +
        "or allow its folder with contentAccess: { files: ['/srv/app/assets'] } on createQueueTransport, enqueueMail or enqueueMailMany.",
    );
  }
  const outside = `outside the folders contentAccess.files allows (${policy.files.join(', ')}): move it there or give the content as a Buffer.`;
  // Lexically first, so a path outside is refused without learning whether it exists.
  const lexical = resolve(path);
  if (!policy.files.some((dir) => inside(lexical, dir))) throw refuse(`the file is ${outside}`);
  let real: string;
  const dirs: string[] = [];
  try {
    real = await realpath(lexical);
    for (const dir of policy.files) dirs.push(await realpath(dir).catch(() => dir));
  } catch {
    throw refuse('the file does not exist or cannot be read.');
  }
  if (!dirs.some((dir) => inside(real, dir))) throw refuse(`the file resolves (through a symlink) to a place ${outside}`);
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw refuse('the file does not exist or cannot be read.');
  }
  try {
    // A symlink swapped into the path since realpath() would show here (Linux names open files in /proc).
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => real);
    if (!dirs.some((dir) => inside(opened, dir))) throw refuse(`the file resolves to a place ${outside}`);
    if (!(await handle.stat()).isFile()) throw refuse('not a regular file: give the content as a Buffer.');
    return await readBounded(handle.createReadStream({ autoClose: false }), read);
  } finally {
    await handle.close();
  }
}

/** The URL as shown in errors: no credentials, no query (signed URLs carry secrets there). */
const shown = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

/**
 * A URL on an allowed origin, following at most five redirects, each to an allowed origin
 * too; the app's `httpHeaders` go to the first origin only. One timeout bounds the whole.
 */
export async function fetchAllowedUrl(href: string, headers: Record<string, string> | undefined, policy: ContentPolicy, read: Read): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new InvalidMessageError(`${read.field}: "${href.slice(0, 200)}" is not a URL.`);
  }
  const asked = shown(url);
  const refuse = (why: string) => new InvalidMessageError(`${read.field} "${asked}": ${why}`);
  if (policy.urls.size === 0) {
    throw refuse(
      'mailroom fetches no URLs when it queues a message: give the content as a string or Buffer, ' +
        "or allow its origin with contentAccess: { urls: ['https://cdn.example.com'] } on createQueueTransport, enqueueMail or enqueueMailMany.",
    );
  }
  const first = url.origin;
  const signal = AbortSignal.timeout(policy.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      if (!/^https?:$/.test(url.protocol) || !policy.urls.has(url.origin)) {
        const via = hop > 0 ? `redirected to ${shown(url)}, ` : '';
        throw refuse(`${via}an origin contentAccess.urls does not allow (${[...policy.urls].join(', ')}): allow it, or give the content as a Buffer.`);
      }
      const response = await fetch(url, { redirect: 'manual', signal, headers: url.origin === first ? headers : undefined });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects.`);
        url = new URL(location, url);
        continue;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw refuse(`the server answered ${response.status}.`);
      }
      if (Number(response.headers.get('content-length')) > read.limit) {
        await response.body.cancel();
        throw read.over();
      }
      return await readBounded(response.body as unknown as AsyncIterable<Uint8Array>, read);
    }
  } catch (error) {
    if (error instanceof InvalidMessageError) throw error;
    if (signal.aborted) throw refuse(`no answer within ${policy.timeoutMs} ms (contentAccess.timeoutMs).`);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw refuse(`could not be fetched (${cause}).`);
  }
}
