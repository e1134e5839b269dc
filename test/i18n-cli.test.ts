// `mailroom check` (translations) and `mailroom new NAME`, run as the real CLI on scratch
// copies of the example emails folder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPreviewServer } from 'mailroom/preview';
import { mailroom } from './helpers/cli.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const scratch: string[] = [];

/** An app folder inside the repo (so react and mailroom resolve) with a copy of emails/ (or an empty one). */
function app(withExample = true): string {
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'test-results', 'i18n-cli-'));
  scratch.push(dir);
  if (withExample) cpSync(join(REPO, 'emails'), join(dir, 'emails'), { recursive: true });
  else mkdirSync(join(dir, 'emails'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'], compilerOptions: { paths: { mailroom: ['../../src/index.ts'], 'mailroom/testing': ['../../src/testing/index.ts'] } } }));
  return dir;
}
const edit = (file: string, change: (messages: Record<string, string>) => void) => {
  const messages = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  change(messages);
  writeFileSync(file, JSON.stringify(messages, null, 2));
};

/** The app's scaffolded test, run by vitest with the repo's config (mailroom resolved to src/). */
async function scaffoldedTest(at: string, file: string): Promise<{ code: number; output: string }> {
  const vitest = join(REPO, 'node_modules/.bin/vitest');
  const args = ['run', '--root', at, '--config', join(REPO, 'vitest.config.ts'), file];
  const run = await promisify(execFile)(vitest, args, { env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  return { code: run.code, output: `${run.stdout}\n${run.stderr}` };
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('mailroom check: translations', () => {
  it('passes on the example app: every catalog complete', async () => {
    const result = await mailroom(['check', '--emails', join(REPO, 'emails')]);
    expect(result.stdout).toContain('translations: ok');
    expect(result.code).toBe(0);
  });

  it('fails on a missing, a broken and a mis-named string, naming file and key; warns about a stray one', async () => {
    const dir = app();
    edit(join(dir, 'emails/_locales/es.json'), (m) => {
      delete m['welcome.body'];
      m['invoice.total'] = 'Total: {totl}';
      m['old.key'] = 'x';
    });
    edit(join(dir, 'emails/_locales/ca.json'), (m) => {
      m['welcome.button'] = 'Inicia {la sessió';
    });
    const result = await mailroom(['check'], {}, dir);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('  error: emails/_locales/es.json "welcome.body": missing (emails/_locales/en.json has it): it would be sent in en');
    expect(lines).toContain('  error: emails/_locales/es.json "invoice.total": uses {totl}, which emails/_locales/en.json does not pass: use {total}');
    expect(lines).toContain('  error: emails/_locales/ca.json "welcome.button": not a valid ICU message: MALFORMED_ARGUMENT at character 8');
    expect(lines).toContain('  warning: emails/_locales/es.json "old.key": not in emails/_locales/en.json: no email uses it (a renamed or removed key?)');
    expect(lines).toContain('3 errors, 1 warning');
  });

  it('--json lists the same problems, each with its check', async () => {
    const dir = app();
    edit(join(dir, 'emails/_locales/es.json'), (m) => {
      delete m['welcome.body'];
    });
    const result = await mailroom(['check', '--json'], {}, dir);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { check: string; severity: string; where: string }[];
    expect(json).toEqual([expect.objectContaining({ check: 'translations', severity: 'error', where: 'emails/_locales/es.json "welcome.body"' })]);
  });

  it('an Arabic plural without its dual form is a warning', async () => {
    const dir = app();
    edit(join(dir, 'emails/_locales/ar.json'), (m) => {
      m['password-reset.expiry'] = '{minutes, plural, one {دقيقة واحدة} other {# دقيقة}}';
    });
    const result = await mailroom(['check'], {}, dir);
    expect(result.stdout).toContain('  warning: emails/_locales/ar.json "password-reset.expiry": {minutes, plural} has no few, many, two, zero forms, which ar uses (“other” is shown instead)');
    expect(result.code).toBe(0);
  });
});

describe('mailroom new', () => {
  let dir: string;
  let plain: string;
  beforeAll(async () => {
    dir = app();
    plain = app(false);
  });

  it('scaffolds a localized email that type-checks, renders in the preview at once, and is listed for translation', async () => {
    const before = readFileSync(join(dir, 'emails/_views/index.ts'), 'utf8');
    const result = await mailroom(['new', 'order-shipped'], {}, dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('created emails/order-shipped.tsx');
    expect(result.stdout).toContain('registered OrderShippedMail in emails/_views/index.ts');
    for (const f of ['emails/order-shipped.tsx', 'emails/_views/order-shipped.ts', 'test/emails/order-shipped.test.ts']) expect(existsSync(join(dir, f))).toBe(true);
    const index = readFileSync(join(dir, 'emails/_views/index.ts'), 'utf8');
    expect(index.startsWith(before.slice(0, before.indexOf('export const views')).split('\n')[0]!)).toBe(true);
    expect(index).toContain("{ name: 'order-shipped', view: () => new OrderShippedMail(OrderShipped.PreviewProps) },");
    const en = JSON.parse(readFileSync(join(dir, 'emails/_locales/en.json'), 'utf8')) as Record<string, string>;
    expect(en['order-shipped.subject']).toBe('Order shipped for {name}');
    expect(en['welcome.subject']).toBe('Welcome, {name}!'); // the rest kept

    // Renders in the preview at once, as a template and as its view.
    const server = await startPreviewServer({ emailsDir: join(dir, 'emails'), port: 0 });
    try {
      for (const path of ['/templates/order-shipped/html', '/views/order-shipped/html?locale=ca']) {
        const page = await fetch(`${server.url}${path}`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('Hello, Ona!');
      }
      expect(await (await fetch(`${server.url}/views/order-shipped`)).text()).toContain('Order shipped for Ona');
    } finally {
      await server.close();
    }
    // The new strings are the translators' to-do list.
    const check = await mailroom(['check'], {}, dir);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('  error: emails/_locales/ca.json "order-shipped.subject": missing (emails/_locales/en.json has it): it would be sent in en');
  });

  it('refuses to overwrite, and writes nothing when it refuses', async () => {
    const files = ['emails/_views/index.ts', 'emails/_locales/en.json', 'emails/order-shipped.tsx'].map((f) => join(dir, f));
    const before = files.map((f) => readFileSync(f, 'utf8'));
    writeFileSync(join(dir, 'emails/order-shipped.tsx'), before[2]! + '// my edits\n');
    const again = await mailroom(['new', 'order-shipped'], {}, dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('emails/order-shipped.tsx, emails/_views/order-shipped.ts, test/emails/order-shipped.test.ts already exist: mailroom new never overwrites');
    expect(readFileSync(files[0]!, 'utf8')).toBe(before[0]);
    expect(readFileSync(files[1]!, 'utf8')).toBe(before[1]);
    expect(readFileSync(files[2]!, 'utf8')).toBe(before[2] + '// my edits\n');
    const bad = await mailroom(['new', 'Order Shipped'], {}, dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"Order Shipped" is not an email name: use lower-case words joined by hyphens, like order-shipped.');
  });

  it('scaffolds a plain email in an app without catalogs; both apps type-check and their scaffolded tests pass', async () => {
    const result = await mailroom(['new', 'weekly-digest'], {}, plain);
    expect(result.code).toBe(0);
    expect(readFileSync(join(plain, 'emails/_views/index.ts'), 'utf8')).toContain("{ name: 'weekly-digest', view: () => new WeeklyDigestMail(WeeklyDigest.PreviewProps) },");
    expect(readFileSync(join(plain, 'emails/weekly-digest.tsx'), 'utf8')).not.toContain('useT');
    const tsc = join(REPO, 'node_modules/.bin/tsc');
    for (const at of [dir, plain]) {
      const typed = await promisify(execFile)(tsc, ['-p', join(at, 'tsconfig.json')]).catch((e: { stdout: string }) => e);
      expect(typed.stdout).toBe('');
    }
    // The scaffolded tests go through mailroom/testing: queued, delivered, link followed; every locale.
    for (const [at, file, tests] of [[dir, 'test/emails/order-shipped.test.ts', 2], [plain, 'test/emails/weekly-digest.test.ts', 1]] as const) {
      const test = readFileSync(join(at, file), 'utf8');
      expect(test).toContain("from 'mailroom/testing'");
      const ran = await scaffoldedTest(at, file);
      expect(ran.code, ran.output).toBe(0);
      expect(ran.output).toMatch(new RegExp(`Tests\\s+${tests} passed`));
    }
    // The control: a wrong key in the scaffolded view does not compile.
    const view = join(dir, 'emails/_views/order-shipped.ts');
    writeFileSync(view, readFileSync(view, 'utf8').replace("t('order-shipped.subject'", "t('order-shipped.subjet'"));
    const broken = await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')]).catch((e: { stdout: string }) => e);
    expect(broken.stdout).toContain("order-shipped.ts");
  });
});

describe('catalogs as modules: check and new work on them too', () => {
  it('check names the catalog with a missing string; new adds its strings to the JSON beside the module; the app type-checks', async () => {
    const dir = app();
    writeFileSync(
      join(dir, 'emails/_locales/i18n.ts'),
      [
        "import { defineCatalogs } from 'mailroom';",
        "import en from './en.json' with { type: 'json' };",
        "import ca from './ca.json' with { type: 'json' };",
        'const load = (locale: string) => () => import(`./${locale}.json`, { with: { type: \'json\' } });',
        "export const i18n = defineCatalogs<typeof en>({ defaultLocale: 'en', catalogs: { en, ca, es: load('es'), ar: load('ar'), ja: load('ja') } });",
        'export const useT = i18n.useT;',
        '',
      ].join('\n'),
    );
    expect((await mailroom(['check'], {}, dir)).stdout).toContain('translations: ok');
    edit(join(dir, 'emails/_locales/es.json'), (m) => {
      delete m['welcome.body'];
    });
    const check = await mailroom(['check'], {}, dir);
    expect(check.code).toBe(1);
    expect(check.stdout.split('\n')).toContain('  error: the es catalog "welcome.body": missing (the en catalog has it): it would be sent in en');

    const created = await mailroom(['new', 'order-placed'], {}, dir);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('added 5 strings to emails/_locales/en.json');
    const en = JSON.parse(readFileSync(join(dir, 'emails/_locales/en.json'), 'utf8')) as Record<string, string>;
    expect(en['order-placed.subject']).toBe('Order placed for {name}');
    const typed = await promisify(execFile)(join(REPO, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')]).catch((e: { stdout: string }) => e);
    expect(typed.stdout).toBe('');
  });
});
