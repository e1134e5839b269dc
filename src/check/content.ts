import type { Check, CheckContext, Problem } from './check.js';
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

/** What one rendered email breaks of the content rules. */
export function contentProblems(where: string, preview: EmailPreview): Problem[] {
  const problems: Problem[] = [];
  const size = Buffer.byteLength(preview.html);
  if (size > GMAIL_CLIP_BYTES) {
    problems.push({ severity: 'error', where, message: `HTML is ${(size / 1024).toFixed(1)} KB, over Gmail's 102 KB clipping limit ${rule('html-size')}` });
  }
  const imgs = preview.html.match(/<img\b[^>]*>/gi) ?? [];
  const missing = imgs.filter((tag) => !/\salt\s*=/i.test(tag)).length;
  if (missing) problems.push({ severity: 'error', where, message: `${missing} image${missing === 1 ? '' : 's'} without alt text ${rule('img-alt')}` });
  for (const [, attribute, url] of preview.html.matchAll(/\s(href|src)\s*=\s*"([^"]*)"/gi)) {
    const why = badUrl(url!.replace(/&amp;/g, '&'));
    if (why) problems.push({ severity: 'warning', where, message: `${attribute} "${url!.slice(0, 120)}" is ${why} ${rule('urls')}` });
  }
  if (!preview.text.trim()) problems.push({ severity: 'error', where, message: `no plain-text part (or an empty one) ${rule('text-part')}` });
  if (preview.subject !== null) {
    if (!preview.subject.trim()) problems.push({ severity: 'error', where, message: `empty subject ${rule('subject')}` });
    else if ([...preview.subject].length > LONG_SUBJECT) problems.push({ severity: 'warning', where, message: `subject is ${[...preview.subject].length} characters, over ${LONG_SUBJECT} ${rule('subject')}` });
  }
  return problems;
}

/** Every template (through its view when one renders it) with its PreviewProps and each named prop set. */
export const contentCheck: Check = {
  name: 'content',
  async run({ catalog }: CheckContext): Promise<Problem[]> {
    const problems: Problem[] = [];
    for (const template of catalog.templates) {
      for (const set of [undefined, ...Object.keys(template.propSets)]) {
        const where = `${template.name}${set === undefined ? '' : ` (${set})`}`;
        try {
          problems.push(...contentProblems(where, await previewTemplate(template, { props: set === undefined ? undefined : template.propSets[set] })));
        } catch (error) {
          problems.push({ severity: 'error', where, message: `does not render with its preview props: ${(error as Error)?.message?.split('\n')[0] ?? String(error)} ${rule('renders')}` });
        }
      }
    }
    return problems;
  },
};
