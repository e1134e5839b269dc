#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the command works right after
// `npm install` with no build step; tsx also loads the app's .tsx templates.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main();
