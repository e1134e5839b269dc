import type { SendMailOptions } from 'nodemailer';
import type MimeNode from 'nodemailer/lib/mime-node';
import { InvalidMessageError } from '../errors.js';
import { fetchAllowedUrl, readAllowedFile, readBounded, type ContentPolicy, type Read } from './content-access.js';
import type { Limits } from './validate.js';

/**
 * Every part of a message whose content is not in memory (a file, a URL, a stream) is
 * read here, under the app's ContentPolicy, and put back in the compiled message as a
 * Buffer: the build that follows (ours or nodemailer's) then reads nothing itself.
 */

/** How the app named a piece of content, and whether the attachment size limit applies. */
interface Label {
  field: string;
  attachment: boolean;
}

type Source =
  | { kind: 'file'; key: string; path: string }
  | { kind: 'url'; key: string; href: string; headers?: Record<string, string> }
  | { kind: 'stream'; key: object; stream: AsyncIterable<Uint8Array | string> };

const isStream = (value: unknown): value is AsyncIterable<Uint8Array | string> & { pipe: unknown } =>
  typeof (value as { pipe?: unknown })?.pipe === 'function';

/** Labels each file, URL and stream of the message options by the field the app wrote it in. */
function labels(data: SendMailOptions): Map<unknown, Label> {
  const found = new Map<unknown, Label>();
  const add = (key: unknown, label: Label) => {
    if (!found.has(key)) found.set(key, label);
  };
  const walk = (value: unknown, field: string, attachment: boolean): void => {
    if (!value || typeof value !== 'object' || Buffer.isBuffer(value)) return;
    if (isStream(value)) return add(value, { field, attachment });
    const part = value as { path?: unknown; href?: unknown; raw?: unknown; content?: unknown };
    if (typeof part.href === 'string') add(part.href, { field: `${field}.href`, attachment });
    if (typeof part.path === 'string') add(part.path, { field: `${field}.path`, attachment });
    walk(part.raw, `${field}.raw`, attachment);
    walk(part.content, `${field}.content`, attachment);
  };
  const fields = data as Record<string, unknown>;
  for (const field of ['raw', 'html', 'text', 'watchHtml', 'amp', 'icalEvent']) walk(fields[field], field, false);
  for (const [i, part] of [data.alternatives ?? []].flat().entries()) walk(part, `alternatives[${i}]`, false);
  for (const [i, part] of [data.attachments ?? []].flat().entries()) walk(part, `attachments[${i}]`, true);
  return found;
}

/** What a compiled part's content or raw value is, as nodemailer's own build would read it. */
function sourceOf(value: unknown, where: () => string): Source | undefined {
  if (value === undefined || value === null || value === false || typeof value === 'string' || Buffer.isBuffer(value)) return undefined;
  if (isStream(value)) return { kind: 'stream', key: value, stream: value };
  const part = value as { path?: unknown; href?: unknown; httpHeaders?: Record<string, string> };
  if (typeof part.href === 'string') return { kind: 'url', key: part.href, href: part.href, headers: part.httpHeaders };
  if (typeof part.path === 'string') return { kind: 'file', key: part.path, path: part.path };
  throw new InvalidMessageError(`${where()}: content must be a string, a Buffer, a stream, { path } or { href }.`);
}

function partName(node: MimeNode): string {
  const type = String(node.getHeader('Content-Type') ?? (node as unknown as { contentType?: string }).contentType ?? 'message');
  return `the ${type.split(';')[0]} part${node.filename ? ` "${node.filename}"` : ''}`;
}

function* nodes(node: MimeNode): Generator<MimeNode> {
  yield node;
  for (const child of node.childNodes) yield* nodes(child);
}

/**
 * Reads every file, URL and stream of a compiled message under `policy` and puts the
 * bytes in its place. Each attachment stays under `maxAttachmentSize`, and all reads of
 * one message together under `policy.maxBytes`, cut off as soon as they pass it.
 */
export async function loadContent(root: MimeNode, data: SendMailOptions, policy: ContentPolicy, limits: Limits): Promise<void> {
  const named = labels(data);
  const loaded = new Map<unknown, Buffer>(); // a calendar event is one content object in two parts
  let left = policy.maxBytes;
  for (const node of nodes(root)) {
    const internal = node as unknown as { content?: unknown; _raw?: unknown };
    for (const slot of ['content', '_raw'] as const) {
      const source = sourceOf(internal[slot], () => partName(node));
      if (!source) continue;
      let bytes = loaded.get(source.key);
      if (!bytes) {
        const label = named.get(source.key) ?? { field: partName(node), attachment: Boolean(node.filename) };
        const attachmentFirst = label.attachment && limits.maxAttachmentSize < left;
        const read: Read = {
          field: label.field,
          limit: attachmentFirst ? limits.maxAttachmentSize : left,
          over: () =>
            new InvalidMessageError(
              attachmentFirst
                ? `${label.field}: over the ${limits.maxAttachmentSize}-byte attachment limit: send a link instead, or raise maxAttachmentSize.`
                : `${label.field}: more than the ${policy.maxBytes} bytes contentAccess.maxBytes lets one message read: raise it, or send a link instead.`,
            ),
        };
        if (source.kind === 'file') bytes = await readAllowedFile(source.path, policy, read);
        else if (source.kind === 'url') bytes = await fetchAllowedUrl(source.href, source.headers, policy, read);
        else bytes = await readStream(source.stream, read);
        left -= bytes.length;
        loaded.set(source.key, bytes);
      }
      if (slot === 'content') node.setContent(bytes);
      else node.setRaw(bytes);
    }
  }
}

async function readStream(stream: AsyncIterable<Uint8Array | string>, read: Read): Promise<Buffer> {
  try {
    return await readBounded(stream, read);
  } catch (error) {
    if (error instanceof InvalidMessageError) throw error;
    throw new InvalidMessageError(`${read.field}: the stream failed: ${(error as Error)?.message ?? String(error)}`);
  }
}
