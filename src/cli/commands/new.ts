import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { say } from '../terminal.js';
import { ConfigError } from '../../errors.js';
import { loadOptional } from '../../optional.js';
import { nearestTsconfig } from '../../preview/nearest-tsconfig.js';
import { registerView, scaffoldMessages, scaffoldNames, templateFile, testFile, viewFile, type ScaffoldI18n } from '../../scaffold/email-files.js';

interface NewFlags {
  emails: string;
  tests: string;
}

/** `./x.js` from one file to another, as an ES import writes it. */
const importPath = (from: string, to: string) => {
  const path = relative(dirname(from), to).split('\\').join('/').replace(/\.(tsx?|mts)$/, (e) => (e === '.mts' ? '.mjs' : '.js'));
  return path.startsWith('.') ? path : `./${path}`;
};

/**
 * The app's catalogs, when `_locales/i18n.ts` (or `_views/i18n.ts`) exports them as `i18n`:
 * that module, the folder and the default locale.
 */
async function appCatalogs(emailsDir: string): Promise<{ module: string; folder: string; defaultLocale: string; file: string } | undefined> {
  const module = ['_locales', '_views']
    .flatMap((folder) => ['i18n.ts', 'i18n.mts', 'i18n.js', 'i18n.mjs'].map((f) => join(emailsDir, folder, f)))
    .find((f) => existsSync(f));
  if (!module) return undefined;
  const { tsImport } = await loadOptional(() => import('tsx/esm/api'), 'mailroom new', ['tsx']);
  const loaded = (await tsImport(pathToFileURL(module).href, { parentURL: import.meta.url, tsconfig: nearestTsconfig(emailsDir) })) as { i18n?: { folder?: unknown; defaultLocale?: unknown } };
  const i18n = loaded.i18n;
  if (typeof i18n?.defaultLocale !== 'string' || (i18n.folder !== undefined && typeof i18n.folder !== 'string')) {
    throw new ConfigError(`${module} must export \`i18n = defineCatalogs({ … })\` for mailroom new to add the new email's strings.`);
  }
  // Catalogs given as modules name no folder: their JSON is taken to sit beside the module.
  const folder = (i18n.folder as string | undefined) ?? dirname(module);
  const file = join(folder, `${i18n.defaultLocale}.json`);
  if (!existsSync(file)) throw new ConfigError(`${file} does not exist: give \`folder\` to defineCatalogs in ${module} for mailroom new to find the default catalog.`);
  return { module, folder, defaultLocale: i18n.defaultLocale, file };
}

/** The optional peers the scaffolded test needs (through mailroom/testing) that `dir`'s app cannot find. */
function missingTestPeers(dir: string): string[] {
  return ['@electric-sql/pglite', 'smtp-server', 'mailparser'].filter((name) => {
    for (let at = dir; ; at = dirname(at)) {
      if (existsSync(join(at, 'node_modules', name, 'package.json'))) return false;
      if (dirname(at) === at) return true;
    }
  });
}

/** Written beside, then renamed over: a file is either its old self or complete. */
function writeWhole(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = join(dirname(file), `.${Date.now()}-${process.pid}.mailroom-new`);
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

export const newCommand = () =>
  new Command('new')
    .description('scaffold an email: its template, typed mail view, strings in the default catalog and a test (never overwrites)')
    .argument('<name>', 'the email, in lower-case words joined by hyphens: order-shipped')
    .option('--emails <dir>', 'folder of React Email templates, with _views/index.ts registering mail views', 'emails')
    .option('--tests <dir>', 'where the test goes (as <dir>/emails/<name>.test.ts)', 'test')
    .action(async (name: string, flags: NewFlags) => {
      let names;
      try {
        names = scaffoldNames(name);
      } catch (error) {
        throw new ConfigError((error as Error).message);
      }
      const emailsDir = resolve(flags.emails);
      if (!existsSync(emailsDir)) throw new ConfigError(`No emails folder at ${emailsDir}: create it or pass --emails DIR.`);
      const viewsDir = join(emailsDir, '_views');
      const files = {
        template: join(emailsDir, `${name}.tsx`),
        view: join(viewsDir, `${name}.ts`),
        test: join(resolve(flags.tests), 'emails', `${name}.test.ts`),
        index: join(viewsDir, 'index.ts'),
      };
      const catalogs = await appCatalogs(emailsDir);
      const i18n: ScaffoldI18n | undefined = catalogs && {
        defaultCatalog: importPath(files.view, catalogs.file).replace(/\.json$/, ''),
        module: { fromTemplate: importPath(files.template, catalogs.module), fromView: importPath(files.view, catalogs.module), fromTest: importPath(files.test, catalogs.module) },
      };

      // Everything is decided before anything is written: a refusal leaves the folder as it was.
      const shown = (f: string) => relative(process.cwd(), f) || f;
      const taken = [files.template, files.view, files.test].filter((f) => existsSync(f));
      if (taken.length) throw new ConfigError(`${taken.map(shown).join(', ')} already exist${taken.length === 1 ? 's' : ''}: mailroom new never overwrites; pick another name or remove ${taken.length === 1 ? 'it' : 'them'}.`);
      let catalog: Record<string, string> | undefined;
      const messages = scaffoldMessages(names);
      if (catalogs) {
        catalog = JSON.parse(readFileSync(catalogs.file, 'utf8')) as Record<string, string>;
        const clash = Object.keys(messages).filter((k) => k in catalog!);
        if (clash.length) throw new ConfigError(`${shown(catalogs.file)} already has ${clash.join(', ')}: mailroom new never overwrites; pick another name.`);
      }
      const index = existsSync(files.index) ? readFileSync(files.index, 'utf8') : `export const views = [\n];\n`;
      const registered = registerView(index, names);

      writeWhole(files.template, templateFile(names, i18n));
      writeWhole(files.view, viewFile(names, i18n));
      writeWhole(files.test, testFile(names, { view: importPath(files.test, files.view), template: importPath(files.test, files.template) }, i18n));
      if (catalogs && catalog) writeWhole(catalogs.file, `${JSON.stringify({ ...catalog, ...messages }, null, 2)}\n`);
      if (registered) writeWhole(files.index, registered);

      for (const file of [files.template, files.view, files.test]) say(`created ${shown(file)}`);
      if (catalogs) say(`added ${Object.keys(messages).length} strings to ${shown(catalogs.file)}`);
      if (registered) say(`registered ${names.viewClass} in ${shown(files.index)}`);
      else say(`add to \`views\` in ${shown(files.index)}: { name: '${name}', view: () => new ${names.viewClass}(${names.component}.PreviewProps) }`);
      const others = catalogs ? readdirSync(catalogs.folder).filter((f) => f.endsWith('.json') && f !== `${catalogs.defaultLocale}.json`) : [];
      if (others.length) say(`translate them in ${others.join(', ')}: \`mailroom check\` lists what is missing`);
      const missing = missingTestPeers(process.cwd());
      if (missing.length) say(`the test uses mailroom/testing: npm install -D ${missing.join(' ')}`);
      say(`preview: mailroom preview, then /templates/${name}`);
    });
