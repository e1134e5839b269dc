// Copies dist/**/*.d.ts into dist/cjs/ under a {"type": "commonjs"} package.json, for
// `require('mailroom')` from TypeScript (module nodenext). Read as CommonJS, their imports of
// drizzle-orm resolve to drizzle's own CommonJS types, the ones the app's code uses: with
// the ESM ones, the app's `db.select().from(messages)` mixed two copies of drizzle's classes
// and did not compile. The JavaScript stays one ESM build (Node >= 20.19 requires it).
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const out = join(dist, 'cjs');
rmSync(out, { recursive: true, force: true });

function copy(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== out) copy(path);
    } else if (entry.name.endsWith('.d.ts')) {
      const target = join(out, relative(dist, path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'));
    }
  }
}
copy(dist);
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
