import { build, type Plugin } from 'esbuild';
import { cpSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { ROOT } from './paths.js';

const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** mailroom itself is imported from its compiled `dist/` (built by the bench first), as an app gets it. */
const compiledMailroom: Plugin = {
  name: 'compiled-mailroom',
  setup(build) {
    build.onResolve({ filter: /^mailroom$/ }, () => ({ path: join(DIST, 'index.js'), external: true }));
    build.onResolve({ filter: /\/src\/.*\.js$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      return path.startsWith(SRC + sep) ? { path: join(DIST, relative(SRC, path)), external: true } : undefined;
    });
  },
};

/**
 * Bundles a TypeScript entry and the example views into one ESM file that plain Node
 * runs, as an app's build would: mailroom comes from `dist/`, packages from node_modules.
 * Returns the file's path (under node_modules/.cache).
 */
export async function bundle(entry: string): Promise<string> {
  const outfile = join(ROOT, 'node_modules/.cache/mailroom-bench', entry.replace(/^.*\//, '').replace(/\.tsx?$/, '.mjs'));
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    jsx: 'automatic',
    packages: 'external',
    plugins: [compiledMailroom],
    logLevel: 'warning',
  });
  // The example catalogs are read at run time from beside the module that names them
  // (import.meta.url, now the bundle's): ship them next to it, as an app's build copies its assets.
  const locales = join(ROOT, 'emails/_locales');
  for (const file of readdirSync(locales).filter((f) => f.endsWith('.json'))) cpSync(join(locales, file), join(outfile, '..', file));
  return outfile;
}
