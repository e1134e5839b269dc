/**
 * The files `mailroom new NAME` writes: a React Email template with PreviewProps, its typed
 * mail view, its strings (when the app is localized) and a test. Pure text, no I/O.
 */

export interface ScaffoldNames {
  /** `order-shipped`: the file names, the registration name, the catalog key prefix. */
  name: string;
  /** `OrderShipped`: the template component. */
  component: string;
  /** `OrderShippedMail`. */
  viewClass: string;
  /** `OrderShippedProps`. */
  props: string;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** `order-shipped` → its names; anything else is an error naming the form to use. */
export function scaffoldNames(name: string): ScaffoldNames {
  if (!NAME.test(name)) throw new Error(`"${name}" is not an email name: use lower-case words joined by hyphens, like order-shipped.`);
  const component = name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return { name, component, viewClass: `${component}Mail`, props: `${component}Props` };
}

/** What a localized scaffold needs to know of the app's catalogs. */
export interface ScaffoldI18n {
  /** From the view's file to the default catalog, without extension: `../_locales/en`. */
  defaultCatalog: string;
  /** The module exporting `i18n` (defineCatalogs), as the template, the view and the test import it. */
  module: { fromTemplate: string; fromView: string; fromTest: string };
}

/** The strings a new email starts with, in the default catalog (English: the default of the scaffold). */
export function scaffoldMessages(n: ScaffoldNames): Record<string, string> {
  const title = n.name.replace(/-/g, ' ');
  return {
    [`${n.name}.subject`]: `${title[0]!.toUpperCase()}${title.slice(1)} for {name}`,
    [`${n.name}.preview`]: `A short line shown after the subject, {name}`,
    [`${n.name}.heading`]: `Hello, {name}!`,
    [`${n.name}.body`]: `{count, plural, one {You have # new item.} other {You have # new items.}}`,
    [`${n.name}.button`]: `Open`,
  };
}

export function templateFile(n: ScaffoldNames, i18n: ScaffoldI18n | undefined): string {
  const k = (key: string) => `t('${n.name}.${key}'`;
  const text = i18n
    ? {
        lang: ' lang={t.locale} dir={t.dir}',
        preview: `{${k('preview')}, { name })}`,
        heading: `{${k('heading')}, { name })}`,
        body: `{${k('body')}, { count })}`,
        button: `{${k('button')})}`,
      }
    : { lang: ' lang="en"', preview: 'A short line shown after the subject, {name}', heading: 'Hello, {name}!', body: 'You have {count} new items.', button: 'Open' };
  return `import { Body, Button, Container, Head, Heading, Html, Preview, Text } from '@react-email/components';
${i18n ? `import { i18n } from '${i18n.module.fromTemplate}';\n` : ''}
export interface ${n.props} {
  name: string;
  count: number;
  url: string;
}

/** The preview's sample, and what renders when no props are given (react-email's \`email export\`). */
const sample = { name: 'Ona', count: 3, url: 'https://example.com/' } satisfies ${n.props};

export default function ${n.component}({ name = sample.name, count = sample.count, url = sample.url }: Partial<${n.props}>) {
${i18n ? '  const t = i18n.useT();\n' : ''}  return (
    <Html${text.lang}>
      <Head />
      <Preview>${text.preview}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <Container${i18n ? ' dir={t.dir}' : ''} style={{ padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">${text.heading}</Heading>
          <Text>${text.body}</Text>
          <Button href={url} style={{ backgroundColor: '#2754c5', color: '#ffffff', padding: '12px 20px' }}>
            ${text.button}
          </Button>
        </Container>
      </Body>
    </Html>
  );
}

${n.component}.PreviewProps = sample;
`;
}

export function viewFile(n: ScaffoldNames, i18n: ScaffoldI18n | undefined): string {
  if (!i18n) {
    return `import { MailView } from 'mailroom';
import ${n.component}, { type ${n.props} } from '../${n.name}.js';

export class ${n.viewClass} extends MailView<${n.props}> {
  readonly template = ${n.component};
  subject({ name }: ${n.props}) {
    return \`${n.name.replace(/-/g, ' ')} for \${name}\`;
  }
}
`;
  }
  return `import { MailView, type Translator } from 'mailroom';
import ${n.component}, { type ${n.props} } from '../${n.name}.js';
import { i18n } from '${i18n.module.fromView}';

type Messages = typeof import('${i18n.defaultCatalog}.json');

export class ${n.viewClass} extends MailView<${n.props}, Messages> {
  readonly template = ${n.component};
  override i18n = i18n;
  subject({ name }: ${n.props}, t: Translator<Messages>) {
    return t('${n.name}.subject', { name });
  }
}
`;
}

/**
 * A test of the new email through `mailroom/testing`: queued to its reader, delivered by the
 * real drain, its link followed; in every locale when localized.
 */
export function testFile(n: ScaffoldNames, fromTest: { view: string; template: string }, i18n: ScaffoldI18n | undefined): string {
  const locales = i18n
    ? `
  it('is sent in every locale, saying which (\`mailroom check\` lists what still needs translating)', async () => {
    for (const locale of i18n.locales()) {
      await new ${n.viewClass}(sample, { locale }).send(mail.transporter, { from, to: \`\${locale}@example.com\` });
    }
    await mail.deliverAll();
    for (const locale of i18n.locales()) {
      const sent = await mail.expectSent(${n.viewClass}, { to: \`\${locale}@example.com\` });
      expect(sent.headers['content-language']).toBe(locale);
      expect(sent.html).toContain(\`lang="\${locale}"\`);
    }
    expect((await new ${n.viewClass}(sample).render()).missingTranslations).toEqual([]);
  });
`
    : '';
  return `import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestMailroom, type TestMailroom } from 'mailroom/testing';
import ${n.component} from '${fromTest.template}';
import { ${n.viewClass} } from '${fromTest.view}';
${i18n ? `import { i18n } from '${i18n.module.fromTest}';\n` : ''}
// A real queue (in memory) and an SMTP capture: npm install -D @electric-sql/pglite smtp-server mailparser
const sample = ${n.component}.PreviewProps;
const from = 'app@example.com'; // drop it when the view sets its own \`from\`

describe('${n.viewClass}', () => {
  let mail: TestMailroom;
  beforeAll(async () => {
    mail = await createTestMailroom();
  });
  beforeEach(() => mail.reset());
  afterAll(() => mail.close());

  it('is queued to its reader and delivered with its link', async () => {
    await new ${n.viewClass}(sample).send(mail.transporter, { from, to: 'ona@example.com' });
    const queued = await mail.expectQueued(${n.viewClass}, { to: 'ona@example.com' });
    expect(queued.subject).toContain('Ona');

    await mail.deliverAll();
    const sent = await mail.expectSent(${n.viewClass}, { to: 'ona@example.com' });
    expect(sent.html).toContain('Ona');
    expect(sent.text).toMatch(/ona/i); // plain text capitalizes headings
    expect(sent.link(sample.url)).toBe(sample.url);
    await mail.expectNothingQueued();
  });
${locales}});
`;
}

/**
 * \`views\` gains the new entry (before its closing \`];\`) and the file its imports; undefined
 * when the file has no \`export const views = [ … ];\` to add to.
 */
export function registerView(index: string, n: ScaffoldNames): string | undefined {
  const start = index.search(/export const views\b[^=]*=\s*\[/);
  if (start < 0) return undefined;
  const end = index.indexOf('];', start);
  if (end < 0) return undefined;
  const before = index.slice(0, end).replace(/\s*$/, '');
  const entry = `  { name: '${n.name}', view: () => new ${n.viewClass}(${n.component}.PreviewProps) },`;
  const body = `${before}${before.endsWith(',') || before.endsWith('[') ? '' : ','}\n${entry}\n${index.slice(end)}`;
  const imports = `import ${n.component} from '../${n.name}.js';\nimport { ${n.viewClass} } from './${n.name}.js';\n`;
  const lastImport = [...body.matchAll(/^import[^;]*;[ \t]*$/gm)].pop();
  const at = lastImport ? lastImport.index! + lastImport[0].length : 0;
  const withImports = `${body.slice(0, at)}${at ? '\n' : ''}${imports}${body.slice(at).replace(/^\n?/, at ? '' : '\n')}`;
  return `${withImports.trimEnd()}\n\nexport { ${n.viewClass} };\n`;
}
