import { DEFAULT_MAX_MESSAGE_BYTES, type Check, type CheckContext, type Problem } from './check.js';
import { previewTemplate, type EmailPreview } from '../preview/templates.js';

/** Gmail clips a message whose HTML is over 102 KB behind "[Message clipped] View entire message". */
export const GMAIL_CLIP_BYTES = 102 * 1024;
/** Past this a subject is cut in most inbox lists (and RFC 5322's recommended line length). */
export const LONG_SUBJECT = 78;
/** Where each rule is explained. */
export const RULES_DOC = 'docs/checks.md';

const rule = (anchor: string) => `(${RULES_DOC}#${anchor})`;

/** `http://localhost`, `http://10.0.0.2`, `/relative`: links a recipient cannot open, or not safely. */
function badUrl(url: string): string | undefined {
  const u = url.trim();
  if (u === '' || u.startsWith('#') || /^(mailto|tel|cid|data|sms):/i.test(u) || /^\{\{.*\}\}$/.test(u)) return undefined;
  if (/^http:/i.test(u)) return 'plain http:';
  if (!/^https:\/\//i.test(u)) return 'relative or not a web address';
  let host = '';
  try {
    host = new URL(u).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'not a valid URL';
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return 'a local host name';
  if (/^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|0\.)/.test(host) || host === '::1' || /^f[cd]/i.test(host)) return 'a private address';
  return undefined;
}

/** Limits the content rules take from the command line or config. */
export interface ContentOptions {
  /** Largest whole message, in bytes (`--max-message-size`). */
  maxMessageBytes?: number;
}

/** KB and MB are 1024-based here, as `--max-message-size` reads them and mail clients show sizes. */
const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`);
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** An attribute's value as the browser reads it: React writes `&`, `<`, `>`, `"` and `'` as references (`&amp;`, `&#x27;`). */
const decodeAttribute = (value: string) =>
  value.replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|(amp|lt|gt|quot|apos));/gi, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    const code = hex ? parseInt(hex, 16) : dec ? Number(dec) : undefined;
    if (code !== undefined) return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    return NAMED[name!.toLowerCase()] ?? whole;
  });

/** A hidden element holding text: react-email's <Preview> renders `<div style="display:none;…">`. */
function hasPreheader(html: string): boolean {
  return /<(div|span|p)\b[^>]*style="[^"]*display:\s*none[^>]*>\s*[^<\s]/i.test(html);
}

/** What one rendered email breaks of the content rules. */
export async function contentProblems(where: string, preview: EmailPreview, options: ContentOptions = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  const size = Buffer.byteLength(preview.html);
  if (size > GMAIL_CLIP_BYTES) {
    problems.push({ severity: 'error', where, message: `HTML is ${(size / 1024).toFixed(1)} KB, over Gmail's 102 KB clipping limit ${rule('html-size')}` });
  }
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (preview.size !== undefined && preview.size > maxMessage) {
    problems.push({ severity: 'error', where, message: `the message is ${sizeText(preview.size)}, over the ${sizeText(maxMessage)} (${maxMessage.toLocaleString('en')} bytes) limit (--max-message-size) ${rule('message-size')}` });
  }
  if (preview.hasFrom === false) problems.push({ severity: 'warning', where, message: `the view sets no from: every send must give one, or it is refused ${rule('from')}` });
  const imgs = preview.html.match(/<img\b[^>]*>/gi) ?? [];
  const missing = imgs.filter((tag) => !/\salt\s*=/i.test(tag)).length;
  if (missing) problems.push({ severity: 'error', where, message: `${missing} image${missing === 1 ? '' : 's'} without alt text ${rule('img-alt')}` });
  for (const [, attribute, written] of preview.html.matchAll(/\s(href|src)\s*=\s*"([^"]*)"/gi)) {
    const url = decodeAttribute(written!);
    const why = badUrl(url);
    if (why) problems.push({ severity: 'warning', where, message: `${attribute} "${url.slice(0, 120)}" is ${why} ${rule('urls')}` });
  }
  // The preview's HTML is parsed back from the message: a cid: of an inline image is a data: URL by now, and
  // any other is checked against the attachments' Content-IDs (a non-image part keeps its cid: link).
  const attached = new Set(preview.attachments.map((a) => a.cid).filter(Boolean));
  const cids = [...new Set([...preview.html.matchAll(/\bcid:([^'"\s)>]{1,256})/gi)].map((m) => m[1]!))].filter((cid) => !attached.has(cid));
  if (cids.length) {
    problems.push({ severity: 'error', where, message: `cid: reference${cids.length === 1 ? '' : 's'} without a matching inline attachment: ${cids.map((c) => `cid:${c}`).join(', ')} ${rule('cid')}` });
  }
  if (!preview.text.trim()) problems.push({ severity: 'error', where, message: `no plain-text part (or an empty one) ${rule('text-part')}` });
  else {
    const links = [...new Set([...preview.html.matchAll(/<a\b[^>]*\shref\s*=\s*"(https?:\/\/[^"]+)"/gi)].map((m) => decodeAttribute(m[1]!)))];
    const lost = links.filter((url) => !preview.text.includes(url) && !preview.text.includes(url.replace(/\/$/, '')));
    if (lost.length) {
      problems.push({ severity: 'warning', where, message: `${lost.length} link${lost.length === 1 ? '' : 's'} of the HTML missing from the plain text: ${lost.slice(0, 3).map((u) => u.slice(0, 120)).join(', ')}${lost.length > 3 ? ', …' : ''} ${rule('text-links')}` });
    }
  }
  if (preview.html.trim() && !hasPreheader(preview.html)) {
    problems.push({ severity: 'warning', where, message: `no preheader: inbox lists show the first text of the body instead (add react-email's <Preview>) ${rule('preheader')}` });
  }
  if (preview.subject !== null) {
    if (!preview.subject.trim()) problems.push({ severity: 'error', where, message: `empty subject ${rule('subject')}` });
    else if ([...preview.subject].length > LONG_SUBJECT) problems.push({ severity: 'warning', where, message: `subject is ${[...preview.subject].length} characters, over ${LONG_SUBJECT} ${rule('subject')}` });
  }
  // The client-support table loads only when an email is checked.
  const { unsupportedCss, caniemailUrl } = await import('./css-support.js');
  for (const feature of unsupportedCss(preview.html)) {
    const what = feature.value ? `${feature.property}: ${feature.value}` : feature.property;
    problems.push({ severity: 'warning', where, message: `CSS "${what}" is ignored by ${feature.clients.join(', ')} (${caniemailUrl(feature.slug)}) ${rule('css-support')}` });
  }
  return problems;
}

/** Every template (through its view when one renders it) with its PreviewProps and each named prop set. */
export const contentCheck: Check = {
  name: 'content',
  async run({ catalog, options }: CheckContext): Promise<Problem[]> {
    const problems: Problem[] = [];
    for (const template of catalog.templates) {
      for (const set of [undefined, ...Object.keys(template.propSets)]) {
        const where = `${template.name}${set === undefined ? '' : ` (${set})`}`;
        try {
          problems.push(...(await contentProblems(where, await previewTemplate(template, { props: set === undefined ? undefined : template.propSets[set] }), options)));
        } catch (error) {
          problems.push({ severity: 'error', where, message: `does not render with its preview props: ${(error as Error)?.message?.split('\n')[0] ?? String(error)} ${rule('renders')}` });
        }
      }
    }
    return problems;
  },
};
