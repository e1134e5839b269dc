import { Readable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type MessageText } from 'mailparser';
import { safeContentType } from './security.js';
import type { ParsedMessage } from './message.js';
import { shortList } from './ui/layout.js';

/**
 * A stored message parsed as it streams from the database: its headers, text and
 * HTML are kept, its attachments only counted, so a 50 MB message costs its HTML
 * and not its size. Small inline images (cid:) are kept to show in the HTML;
 * an attachment's bytes are read again, streaming, when it is downloaded.
 */

/** Inline images up to this size each, and this much in all, are shown in the HTML; larger ones stay cid: links. */
const INLINE_IMAGE_MAX = 1024 * 1024;
const INLINE_TOTAL_MAX = 5 * 1024 * 1024;

export type Chunks = AsyncIterable<Uint8Array>;

interface Attachment {
  filename: string;
  contentType: string;
  size: number;
  related: boolean;
}

export interface StoredMessage extends Omit<ParsedMessage, 'attachments'> {
  attachments: Attachment[];
}

/** Addresses shown in To and Cc before "and N more": the Recipients table pages through all of them. */
const SHOWN_ADDRESSES = 10;

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  const objects = Array.isArray(value) ? value : [value];
  const total = objects.reduce((n, v) => n + v.value.length, 0);
  if (total <= SHOWN_ADDRESSES) return objects.map((v) => v.text).join(', ');
  const shown = objects
    .flatMap((v) => v.value)
    .slice(0, SHOWN_ADDRESSES)
    .map((a) => (a.name ? `"${a.name}" <${a.address ?? ''}>` : (a.address ?? '')));
  return shortList(shown, total);
}

/** A parser fed from `chunks`, and a way to stop both early. */
function open(chunks: Chunks) {
  const parser = new MailParser({ skipTextToHtml: true, skipTextLinks: true });
  const input = Readable.from(chunks, { objectMode: false });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  const stop = () => {
    input.destroy();
    parser.destroy();
  };
  return { parser, stop };
}

const infoOf = (a: AttachmentStream, index: number) => ({
  filename: a.filename || `attachment-${index + 1}`,
  contentType: safeContentType(a.contentType),
  related: Boolean(a.related),
});

export async function summarizeMessage(chunks: Chunks): Promise<StoredMessage> {
  const { parser, stop } = open(chunks);
  let headers: Map<string, unknown> = new Map();
  parser.on('headers', (h) => (headers = h as Map<string, unknown>));
  let text: MessageText | undefined;
  const attachments: Attachment[] = [];
  const inline = new Map<string, { contentType: string; content: Buffer }>();
  let inlineTotal = 0;
  try {
    for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
      if (data.type === 'text') {
        text = data;
        continue;
      }
      const index = attachments.length;
      const keep = data.related && data.cid && /^image\/[\w.+-]+$/i.test(data.contentType) ? [] as Buffer[] : undefined;
      let size = 0;
      for await (const chunk of data.content as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (keep && size <= INLINE_IMAGE_MAX) keep.push(chunk);
      }
      data.release?.();
      if (keep && data.cid && size <= INLINE_IMAGE_MAX && inlineTotal + size <= INLINE_TOTAL_MAX) {
        inlineTotal += size;
        inline.set(data.cid, { contentType: safeContentType(data.contentType), content: Buffer.concat(keep) });
      }
      attachments.push({ ...infoOf(data, index), size });
    }
  } finally {
    stop();
  }
  const html = typeof text?.html === 'string' ? text.html : null;
  const header = (key: string) => headers.get(key);
  return {
    subject: (header('subject') as string | undefined) ?? '',
    from: addresses(header('from') as AddressObject | undefined),
    to: addresses(header('to') as AddressObject | undefined),
    cc: addresses(header('cc') as AddressObject | undefined),
    replyTo: addresses(header('reply-to') as AddressObject | undefined),
    date: (header('date') as Date | undefined) ?? null,
    messageId: (header('message-id') as string | undefined) ?? '',
    html: html === null ? null : html.replace(/\bcid:([^'"\s)]{1,256})/g, (match, cid: string) => {
      const image = inline.get(cid);
      return image ? `data:${image.contentType};base64,${image.content.toString('base64')}` : match;
    }),
    text: text?.text ?? '',
    headerLines: (parser as unknown as { headerLines: { key: string; line: string }[] }).headerLines?.map(({ key, line }) => ({ key, line })) ?? [],
    attachments,
  };
}

/**
 * Attachment `index` (in the order the summary lists them), its bytes as a stream: the
 * message is parsed only as far as that attachment, the ones before it skipped unbuffered.
 */
export async function openAttachment(chunks: Chunks, index: number): Promise<{ filename: string; contentType: string; body: ReadableStream<Uint8Array> } | null> {
  const { parser, stop } = open(chunks);
  const items = (parser as AsyncIterable<AttachmentStream | MessageText>)[Symbol.asyncIterator]();
  let seen = 0;
  try {
    for (;;) {
      const { value, done } = await items.next();
      if (done) break;
      if (value.type === 'text') continue;
      if (seen++ < index) {
        value.content.resume();
        await new Promise((resolve) => value.content.once('end', resolve));
        value.release?.();
        continue;
      }
      const content = value.content as AsyncIterable<Buffer>;
      const reader = content[Symbol.asyncIterator]();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await reader.next();
            if (next.done) {
              controller.close();
              stop();
            } else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
          } catch (error) {
            stop();
            controller.error(error);
          }
        },
        cancel: () => stop(),
      });
      return { ...infoOf(value, index), body };
    }
  } catch (error) {
    stop();
    throw error;
  }
  stop();
  return null;
}
