import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mailroom } from './helpers/cli.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
let dir: string;

beforeAll(() => {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  dir = mkdtempSync(join(REPO, 'test-results', 'check-content-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'] }));
  // Over Gmail's 102 KB: 1,200 paragraphs of ~100 characters. Each has a <Preview>, so only what a test names is found.
  writeFileSync(
    join(dir, 'huge.tsx'),
    `import { Html, Body, Preview, Text } from '@react-email/components';
export default function Huge() {
  return <Html><Preview>Long</Preview><Body>{Array.from({ length: 1200 }, (_, i) => <Text key={i}>Paragraph {i}: a sentence long enough to add up to more than Gmail shows.</Text>)}</Body></Html>;
}
`,
  );
  writeFileSync(
    join(dir, 'pictures.tsx'),
    `import { Html, Body, Img, Link, Preview, Text } from '@react-email/components';
export default function Pictures() {
  return <Html><Preview>Pictures</Preview><Body><Text>Look</Text><Img src="https://cdn.example.com/a.png" alt="A chart" /><Img src="https://cdn.example.com/b.png" /><Link href="http://localhost:3000/login">Sign in</Link></Body></Html>;
}
`,
  );
  writeFileSync(
    join(dir, 'fine.tsx'),
    `import { Html, Body, Preview, Text, Link } from '@react-email/components';
export default function Fine() {
  return <Html><Preview>All good</Preview><Body><Text>All good</Text><Link href="https://example.com">Open</Link></Body></Html>;
}
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mailroom check: content', () => {
  it('fails on HTML over 102 KB and on an image without alt, one line per finding, each linking to its rule', async () => {
    const result = await mailroom(['check', '--emails', dir]);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}error: huge: HTML is \d+\.\d KB, over Gmail's 102 KB clipping limit \(docs\/checks\.md#html-size\)$/));
    expect(lines).toContain('  error: pictures: 1 image without alt text (docs/checks.md#img-alt)');
    expect(lines).toContain('  warning: pictures: href "http://localhost:3000/login" is plain http: (docs/checks.md#urls)');
    expect(result.stdout).not.toMatch(/: fine:/);
    expect(result.stdout).toContain('2 errors, 1 warning');

    const json = JSON.parse((await mailroom(['check', '--emails', dir, '--json'])).stdout) as { check: string; severity: string; where: string }[];
    expect(json.filter((p) => p.check === 'content').map((p) => `${p.severity} ${p.where}`)).toEqual(['error huge', 'error pictures', 'warning pictures']);
  });

  it('passes the example app’s emails', async () => {
    const result = await mailroom(['check', '--emails', join(REPO, 'emails')]);
    expect(result.stdout).toContain('content: ok');
    expect(result.code).toBe(0);
  });
});
