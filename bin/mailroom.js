#!/usr/bin/env node
// Installed as a dependency, run the compiled dist/ (built by `prepare`). In this
// repository, run the TypeScript sources through tsx so no build step can go stale.
// Either way tsx is registered: `mailroom preview` loads the app's .tsx templates.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const useCompiled = fileURLToPath(import.meta.url).includes('/node_modules/') && existsSync(compiled);
const { main } = await import(useCompiled ? compiled.href : '../src/cli/main.ts');
await main();
