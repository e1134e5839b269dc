#!/usr/bin/env node
// Runs the compiled dist/ (built by `prepare` on npm install) when it is at least as
// new as every file under src/; otherwise the TypeScript sources through tsx, so
// an edit is never run stale. Compiled, start-up is faster and lighter (no tsx).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// Answered before anything loads: the installed package's own version.
if (process.argv[2] === '--version' || process.argv[2] === '-V') {
  console.log(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  process.exit(0);
}
const compiled = join(root, 'dist/cli/main.js');
const stamp = join(root, 'dist/.built'); // written after each successful build

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

// An installed package ships dist/ without src/ (a folder or linked install may sit
// outside node_modules/), so no src/ means the compiled CLI.
const fresh =
  existsSync(compiled) &&
  (root.includes('/node_modules/') || !existsSync(join(root, 'src')) || (existsSync(stamp) && newestSource(join(root, 'src')) <= statSync(stamp).mtimeMs));

if (fresh) {
  await (await import(compiled)).main();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await (await import('../src/cli/main.ts')).main();
}
