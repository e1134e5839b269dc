// mailroom check's findings beyond size, alt, URLs and subject: the whole message's size
// (flag and config), cid: references with no inline part, links lost in the plain text, a
// missing preheader, a view without a From and CSS that Gmail ignores; and the preview's
// template and view pages showing the same findings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPreviewHandler, type PreviewHandler } from 'mailroom/preview';
import { mailroom } from './helpers/cli.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let emails: string;

beforeAll(() => {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  dir = mkdtempSync(join(REPO, 'test-results', 'check-findings-'));
  emails = join(dir, 'emails');
  mkdirSync(join(emails, '_views'), { recursive: true });
  writeFileSync(join(emails, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', include: ['.'] }));
  // No <Preview>, an image on a cid: nothing attaches, CSS Gmail drops, and a link only in a
  // part react-email leaves out of the text (data-skip-in-text).
  writeFileSync(
    join(emails, 'promo.tsx'),
    `import { Html, Body, Img, Link, Text } from '@react-email/components';
export default function Promo() {
  return <Html><Body>
    <Text style={{ boxShadow: '0 1px 2px #000' }}>Autumn sale</Text>
    <div style={{ display: 'grid' }}><Img src="cid:logo" alt="Logo" /></div>
    <div data-skip-in-text="true"><Link href="https://shop.example.com/sale">See the sale</Link></div>
    <Link href="https://shop.example.com/">Shop</Link>
    <Link href="https://shop.example.com/o'neil?a=1&b=2">O'Neil's picks</Link>
  </Body></Html>;
}
`,
  );
  // Fine on its own; its view has no From and a 6 KB attachment.
  writeFileSync(
    join(emails, 'notice.tsx'),
    `import { Html, Body, Preview, Text, Img } from '@react-email/components';
export default function Notice({ name }: { name: string }) {
  return <Html><Preview>A notice for {name}</Preview><Body><Text>Hello {name}</Text><Img src="cid:chart" alt="Chart" /><a href="cid:terms">Terms</a>{name === 'Nobody' ? <Img src="cid:nobody" alt="" /> : null}</Body></Html>;
}
Notice.PreviewProps = { name: 'Ana' };
`,
  );
  writeFileSync(
    join(emails, '_views', 'index.ts'),
    `import { MailView } from 'mailroom';
import Notice from '../notice.js';
export class NoticeMail extends MailView<{ name: string }> {
  readonly template = Notice;
  subject({ name }: { name: string }) { return 'Notice for ' + name; }
  override attachments() {
    return [
      { filename: 'chart.png', content: Buffer.from('89504e47', 'hex'), cid: 'chart' },
      { filename: 'terms.txt', content: 'The terms.', cid: 'terms' }, // not an image: mailparser leaves its cid: link as is
      { filename: 'data.bin', content: Buffer.alloc(6 * 1024, 7) },
    ];
  }
}
export const views = [{ name: 'notice', view: () => new NoticeMail(Notice.PreviewProps) }];
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (stdout: string) => stdout.split('\n');

describe('mailroom check: more content findings', () => {
  it('finds a missing preheader, an unmatched cid:, a link lost in the text, CSS Gmail ignores and a view without From', async () => {
    const result = await mailroom(['check', '--emails', emails]);
    expect(result.stderr).toBe('');
    const out = lines(result.stdout);
    expect(out).toContain('  error: promo: cid: reference without a matching inline attachment: cid:logo (docs/checks.md#cid)');
    expect(out).toContain('  warning: promo: 1 link of the HTML missing from the plain text: https://shop.example.com/sale (docs/checks.md#text-links)');
    expect(out).toContain("  warning: promo: no preheader: inbox lists show the first text of the body instead (add react-email's <Preview>) (docs/checks.md#preheader)");
    expect(out).toContain(
      '  warning: promo: CSS "box-shadow" is ignored by Gmail, Yahoo, Outlook for Windows (https://www.caniemail.com/features/css-box-shadow/) (docs/checks.md#css-support)',
    );
    expect(out).toContain(
      '  warning: promo: CSS "display: grid" is ignored by Gmail, Yahoo, Outlook for Windows (https://www.caniemail.com/features/css-display-grid/) (docs/checks.md#css-support)',
    );
    expect(out).toContain('  warning: notice: the view sets no from: every send must give one, or it is refused (docs/checks.md#from)');
    // React writes the link's ' and & as &#x27; and &amp;: read back as the text part has them, not lost.
    expect(result.stdout).not.toContain("o'neil");
    expect(result.stdout).not.toContain('neil');
    // The view attaches cid:chart and cid:terms, so both are matched; the default limit (10 MB) is far off.
    expect(result.stdout).not.toMatch(/notice: .*(cid|message is|preheader|CSS)/);
    expect(result.stdout).toContain('1 error, 5 warnings');
    expect(result.code).toBe(1);
  });

  it('fails a message over --max-message-size, and takes the limit from the config file', async () => {
    const flagged = await mailroom(['check', '--emails', emails, '--max-message-size', '4KB']);
    expect(lines(flagged.stdout)).toContainEqual(expect.stringMatching(/^ {2}error: notice: the message is \d+\.\d KB, over the 4\.0 KB \(4,096 bytes\) limit \(--max-message-size\) \(docs\/checks\.md#message-size\)$/));

    writeFileSync(join(dir, 'mailroom.config.mjs'), `export default { check: { maxMessageSize: '5KB' } };\n`);
    try {
      const configured = await mailroom(['check', '--emails', emails], {}, dir);
      expect(configured.stdout).toContain('over the 5.0 KB (5,120 bytes) limit');
      const config = await mailroom(['config'], {}, dir);
      expect(config.stdout).toMatch(/check\.maxMessageSize\s+5120\s+\(config file /);
    } finally {
      rmSync(join(dir, 'mailroom.config.mjs'));
    }

    const bad = await mailroom(['check', '--emails', emails, '--max-message-size', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"ten" is not a size');
  });

  describe('the preview pages', () => {
    let preview: PreviewHandler;
    beforeAll(async () => {
      preview = createPreviewHandler({ emailsDir: emails, watch: false });
      await preview.ready;
    });
    afterAll(() => preview?.close());
    const page = async (path: string) => (await preview(new Request(`http://localhost${path}`))).text();

    it('show the same findings above the email, each naming its rule', async () => {
      const promo = await page('/templates/promo');
      expect(promo).toContain('id="check-findings"');
      expect(promo).toContain('mailroom check: 1 error, 4 warnings');
      for (const rule of ['cid', 'text-links', 'preheader', 'css-support']) expect(promo).toContain(`data-rule="${rule}"`);
      expect(promo).toContain('<code>docs/checks.md#cid</code>');

      const notice = await page('/views/notice');
      expect(notice).toContain('mailroom check: 0 errors, 1 warning');
      expect(notice).toContain('data-rule="from"');
    });

    it('update the list when the props editor re-renders (render.json)', async () => {
      const render = async (props: object) =>
        (await (await preview(new Request(`http://localhost/views/notice/render.json?${new URLSearchParams({ props: JSON.stringify(props) })}`))).json()) as { ok: boolean; findings: string };
      const fine = await render({ name: 'Bo' });
      expect(fine.ok).toBe(true);
      expect(fine.findings).not.toContain('data-rule="cid"');
      const broken = await render({ name: 'Nobody' });
      expect(broken.findings).toContain('data-rule="cid"');
      expect(broken.findings).toContain('cid:nobody');
    });
  });
});
