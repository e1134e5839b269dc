import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module `name` that sits beside `from` (the caller's
 * import.meta.url): `name.ts` from the sources, `name.js` when built. Workers do not inherit
 * the parent's tsx hooks, so a small boot script registers tsx first when it is there.
 * Called when a thread starts, not at import: bundlers that turn a module into CommonJS
 * (react-email's `email export` of a template importing mailroom) leave import.meta.url empty.
 */
export function startThread(from: string, name: string): Worker {
  const entry = new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from).href;
  return new Worker(BOOT, { eval: true, workerData: { tsx: tsxApi(), entry } });
}

// Only import(), which a script and a module both have: a worker inherits the parent's flags,
// and under `node --input-type=module` its eval'd script is a module, where require is not defined.
const BOOT = `import('node:worker_threads').then(async ({ workerData }) => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
});`;

function tsxApi(): string | null {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return null;
  }
}
