import type { Worker } from 'node:worker_threads';
import { startThread } from '../thread.js';
import { byteaKeys } from './pglite-bytea.js';
import type { PostedError, Reply, Request } from './pglite-worker.js';

/** Drizzle's query options: row mode and parsers by type id (its parsers only keep values as text). */
interface QueryOptions {
  rowMode?: 'array' | 'object';
  parsers?: Record<number, unknown>;
}

/** A query's result as PGlite gives it. */
interface Results {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}


/** A posted error back as an Error with its fields (`code`, `detail`, …), which mailroom's error handling reads. */
function revive(posted: PostedError): Error {
  const error = new Error(posted.message);
  Object.assign(error, posted);
  return error;
}

type Call = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The process's one thread for its embedded databases (pglite-worker.ts), started at the
 * first open. It keeps the process alive only while a call waits on it, like a socket with
 * a query under way: an app that never closes its database still exits when its work is done.
 */
class Link {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** NOTIFY handlers by database, then channel. */
  readonly listeners = new Map<number, Map<string, Set<() => void>>>();
  private ended: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (reply: Reply) => {
      if ('notify' in reply) {
        for (const onNotify of this.listeners.get(reply.db)?.get(reply.notify) ?? []) onNotify();
        return;
      }
      const call = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) call?.resolve(reply.value);
      else call?.reject(revive(reply.error));
    });
    const end = (why: Error) => {
      this.ended = why;
      if (link === this) link = undefined; // the next open starts another
      for (const call of this.waiting.values()) call.reject(why);
      this.waiting.clear();
    };
    worker.on('error', (error) => end(new Error(`the embedded database's thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => end(new Error(`the embedded database's thread ended (exit code ${code})`)));
  }

  call(request: Call): Promise<any> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.next++;
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }
}

let link: Link | undefined;

/**
 * One embedded database in the process's PGlite thread, as the client Drizzle's PGlite
 * driver takes: `query` and `transaction`, plus `listen` and `close`. PGlite runs each
 * statement without yielding; in the drain's own thread every statement stopped the SMTP
 * side meanwhile (43% of a PGlite drain's busy time), while the machine's other core waited.
 */
export class PGliteThread {
  private constructor(
    private readonly link: Link,
    private readonly db: number,
  ) {}

  /** Opens the database in the thread (started now if need be); rejects with PGlite's own error if it cannot. */
  static async open(dataDir: string, startParams: string[]): Promise<PGliteThread> {
    link ??= new Link(startThread(import.meta.url, 'pglite-worker'));
    const db = (await link.call({ op: 'open', dataDir, startParams })) as number;
    return new PGliteThread(link, db);
  }

  private async run(sql: string, params: unknown[] = [], options: QueryOptions = {}, tx?: number): Promise<Results> {
    const asText = Object.keys(options.parsers ?? {}).map(Number);
    const request: Call = { op: 'query', db: this.db, sql, params, rowMode: options.rowMode, asText, ...(tx === undefined ? {} : { tx }) };
    const results = (await this.link.call(request)) as Results;
    // Bytes arrive as Uint8Array (posting drops Buffer's prototype): wrapped again, no copy.
    const keys = byteaKeys(results.fields, options.rowMode);
    for (const row of keys.length ? (results.rows as Record<string | number, unknown>[]) : []) {
      for (const key of keys) {
        const value = row[key];
        if (value instanceof Uint8Array) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    }
    return results;
  }

  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results> {
    return this.run(sql, params, options);
  }

  /** `fn` gets a client whose queries run in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: { query: PGliteThread['query'] }) => Promise<T>): Promise<T> {
    const tx = (await this.link.call({ op: 'begin', db: this.db })) as number;
    let result: T;
    try {
      result = await fn({ query: (sql, params, options) => this.run(sql, params, options, tx) });
    } catch (error) {
      await this.link.call({ op: 'end', db: this.db, tx, commit: false }).catch(() => {});
      throw error;
    }
    await this.link.call({ op: 'end', db: this.db, tx, commit: true });
    return result;
  }

  /** Calls `onNotify` on each NOTIFY on `channel` until the returned function is called. */
  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const channels = this.link.listeners.get(this.db) ?? new Map<string, Set<() => void>>();
    this.link.listeners.set(this.db, channels);
    let set = channels.get(channel);
    if (!set) {
      channels.set(channel, (set = new Set()));
      await this.link.call({ op: 'listen', db: this.db, channel });
    }
    set.add(onNotify);
    return async () => {
      set.delete(onNotify);
      if (set.size || channels.get(channel) !== set) return;
      channels.delete(channel);
      await this.link.call({ op: 'unlisten', db: this.db, channel }).catch(() => {});
    };
  }

  /** Closes the database (the thread stays for the process's next open). */
  async close(): Promise<void> {
    this.link.listeners.delete(this.db);
    await this.link.call({ op: 'close', db: this.db });
  }
}
