import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^mailroom\/schema$/, replacement: fileURLToPath(new URL('./src/store/index.ts', import.meta.url)) },
      { find: /^mailroom\/drain$/, replacement: fileURLToPath(new URL('./src/drain/index.ts', import.meta.url)) },
      { find: /^mailroom\/unsubscribe$/, replacement: fileURLToPath(new URL('./src/unsubscribe/index.ts', import.meta.url)) },
      { find: /^mailroom\/webhooks$/, replacement: fileURLToPath(new URL('./src/webhooks/index.ts', import.meta.url)) },
      { find: /^mailroom\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^mailroom\/preview$/, replacement: fileURLToPath(new URL('./src/preview/index.ts', import.meta.url)) },
      { find: /^mailroom$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Generous: CI and development boxes are shared, and a CLI run on a starved 2-core
    // machine can take 10 s. Tests wait on observed progress, so passing ones stay quick.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
