import { parentPort } from 'node:worker_threads';
import type { MailView } from './mail-view.js';
import { ConfigError } from '../errors.js';

/** A job: which view class to load, and the props to render it with. */
export interface RenderRequest {
  id: number;
  module: string;
  export: string;
  props: unknown;
}

type ViewClass = new (props: unknown) => MailView<unknown>;
const modules = new Map<string, Promise<Record<string, unknown>>>();

async function viewClass(module: string, name: string): Promise<ViewClass> {
  let loaded = modules.get(module);
  if (!loaded) modules.set(module, (loaded = import(module) as Promise<Record<string, unknown>>));
  const View = (await loaded)[name];
  if (typeof View !== 'function') throw new ConfigError(`${module} has no export "${name}" that is a mail view class`);
  return View as ViewClass;
}

// Runs inside a render pool thread: render each request, answer with the result or the error's message.
parentPort?.on('message', async (job: RenderRequest) => {
  try {
    const View = await viewClass(job.module, job.export);
    parentPort!.postMessage({ id: job.id, rendered: await new View(job.props).render() });
  } catch (error) {
    const e = error as Error;
    parentPort!.postMessage({ id: job.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error) } });
  }
});
