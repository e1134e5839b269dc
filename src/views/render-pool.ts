import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { RenderError } from '../errors.js';
import { startThread } from '../thread.js';
import { renderErrorOf } from './render-error.js';
import type { ViewOptions } from './mail-view.js';
import type { RenderedMail } from './mail-view.js';
import type { RenderRequest } from './render-thread.js';

/** A view to render in a thread: classes cannot cross threads, so name the module and export. */
export interface RenderJob<Props = unknown> {
  /** Absolute path or file: URL of the module exporting the view class (.ts/.tsx load through tsx). */
  module: string | URL;
  /** The view class's export name. Default: `default`. */
  export?: string;
  /** Props: anything structured clone copies (plain data, Dates, Buffers). */
  props: Props;
  /** Per-message options, as `new View(props, options)` takes them: `{ locale: 'ca' }`. */
  options?: ViewOptions;
}

/** Worker threads that render mail views off the main thread (see createRenderPool). */
export interface RenderPool {
  readonly size: number;
  render(job: RenderJob): Promise<RenderedMail>;
  /** Renders every job, results in the same order. */
  renderAll(jobs: RenderJob[]): Promise<RenderedMail[]>;
  close(): Promise<void>;
}

type Reply = { id: number; rendered: RenderedMail } | { id: number; error: { name: string; message: string } };
interface Pending { request: RenderRequest; resolve(r: RenderedMail): void; reject(e: Error): void }

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return /^(file|data):/.test(module) ? module : pathToFileURL(module).href;
}

// Jobs sent ahead to each thread, so it never idles while the main thread answers the last one.
const IN_FLIGHT = 2;

/** Renders mail views on `size` worker threads (default: one per core), started on first use. */
export function createRenderPool(options: { size?: number } = {}): RenderPool {
  const size = Math.max(1, options.size ?? availableParallelism());
  const queue: Pending[] = [];
  const threads = new Map<Worker, Map<number, Pending>>(); // each thread's jobs in flight, by id
  let nextId = 1;
  let closed = false;

  const spawn = () => {
    const thread = startThread(import.meta.url, 'render-thread');
    const jobs = new Map<number, Pending>();
    threads.set(thread, jobs); // messages wait in the port until the thread has booted
    thread.on('message', (reply: Reply) => {
      const job = jobs.get(reply.id);
      jobs.delete(reply.id);
      if (job) {
        if ('rendered' in reply) job.resolve(reply.rendered);
        else job.reject(renderErrorOf(job.request.export, reply.error));
      }
      dispatch();
    });
    // A thread that dies fails its jobs; another is started when there is work.
    let failure: Error | undefined;
    thread.on('error', (error) => (failure = error));
    thread.on('exit', (code) => {
      threads.delete(thread);
      for (const job of jobs.values()) job.reject(new RenderError(`render thread stopped (${failure?.message ?? `exit code ${code}`})`, { cause: failure }));
      dispatch();
    });
  };

  const dispatch = () => {
    while (queue.length > 0 && !closed) {
      let target: [Worker, Map<number, Pending>] | undefined;
      for (const entry of threads) if (entry[1].size < IN_FLIGHT && (!target || entry[1].size < target[1].size)) target = entry;
      // A busy or missing target while the pool may grow: grow it first.
      if (threads.size < size && (!target || target[1].size > 0)) {
        spawn();
        continue;
      }
      if (!target) return;
      const job = queue.shift()!;
      target[1].set(job.request.id, job);
      target[0].postMessage(job.request);
    }
  };

  const render = (job: RenderJob) =>
    new Promise<RenderedMail>((resolve, reject) => {
      if (closed) return reject(new RenderError('the render pool is closed'));
      const request = { id: nextId++, module: moduleUrl(job.module), export: job.export ?? 'default', props: job.props, options: job.options };
      queue.push({ request, resolve, reject });
      dispatch();
    });

  return {
    size,
    render,
    renderAll: (jobs) => Promise.all(jobs.map(render)),
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new RenderError('the render pool is closed'));
      await Promise.all([...threads.keys()].map((w) => w.terminate()));
    },
  };
}
