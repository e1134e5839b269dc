/**
 * The embedded databases' own thread, one per process (started by pglite-thread.ts): it opens
 * PGlite databases and runs the statements the main thread posts, so Postgres's work no
 * longer stops the drain's SMTP side, which has the other core. One thread for all of a
 * process's databases, so PGlite's WebAssembly is compiled once, as it was in the main thread
 * (a thread per database paid 1-2 s per open). Messages in, one reply each by `id`:
 *
 * - `open` a folder: answers the database's `db` number, which the others name;
 * - `query` (in transaction `tx` when given): `{ rows, fields, affectedRows }`;
 * - `begin`: opens a transaction and answers its `tx`; `end` commits or rolls it back;
 * - `listen` / `unlisten` a channel: each NOTIFY is posted as `{ db, notify: channel }`;
 * - `close` a database.
 *
 * Parsers are functions, which cannot be posted: a query names the types it wants as text
 * (`asText`, Drizzle's timestamps and intervals), bytea always arrives as bytes.
 */
import { parentPort } from 'node:worker_threads';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { byteaKeys, pgliteBytea } from './pglite-bytea.js';

/** What the main thread asks. */
export type Request =
  | { id: number; op: 'open'; dataDir: string; startParams: string[] }
  | { id: number; db: number; op: 'query'; sql: string; params: unknown[]; rowMode?: 'array' | 'object'; asText: number[]; tx?: number }
  | { id: number; db: number; op: 'begin' }
  | { id: number; db: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; db: number; op: 'listen' | 'unlisten'; channel: string }
  | { id: number; db: number; op: 'close' };

/** What it gets back: a reply to one request, or a NOTIFY. */
export type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: PostedError } | { db: number; notify: string };

/** An error's own fields (code, detail, …): posting an Error keeps only its message and stack. */
export type PostedError = Record<string, unknown> & { message: string };

const postError = (error: unknown): PostedError => {
  const e = (error ?? {}) as Record<string, unknown>;
  const fields: PostedError = { message: String(e.message ?? error) };
  for (const [key, value] of Object.entries(e)) if (value === undefined || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  if (typeof e.name === 'string') fields.name = e.name;
  return fields;
};

const asText = (types: number[]) => Object.fromEntries(types.map((type) => [type, (value: string) => value]));

/** One open database: its PGlite, open transactions and channels listened to. */
interface Open {
  pg: PGlite;
  transactions: Map<number, { tx: Transaction; end: (commit: boolean) => void; ended?: { ok: () => void; failed: (error: unknown) => void } }>;
  listening: Map<string, () => Promise<void>>;
}

function serve(port: NonNullable<typeof parentPort>): void {
  const databases = new Map<number, Open>();
  let nextDb = 1;
  let nextTx = 1;

  const begin = (open: Open): Promise<number> =>
    new Promise((opened, failed) => {
      const tx = nextTx++;
      // PGlite commits when the callback returns and rolls back when it throws.
      open.pg
        .transaction(
          (inside) =>
            new Promise<void>((committed, rolledBack) => {
              open.transactions.set(tx, { tx: inside, end: (commit) => (commit ? committed() : rolledBack(ROLLBACK)) });
              opened(tx);
            }),
        )
        .catch((error) => (error === ROLLBACK ? undefined : Promise.reject(error)))
        .then(
          () => open.transactions.get(tx)?.ended?.ok(),
          (error) => {
            const ended = open.transactions.get(tx)?.ended;
            if (ended) ended.failed(error);
            else failed(error);
          },
        )
        .finally(() => open.transactions.delete(tx));
    });

  const answer = async (request: Request): Promise<unknown> => {
    if (request.op === 'open') {
      const pg = await PGlite.create({ dataDir: request.dataDir, ...pgliteBytea, startParams: [...PGlite.defaultStartParams, ...request.startParams] });
      const db = nextDb++;
      databases.set(db, { pg, transactions: new Map(), listening: new Map() });
      return db;
    }
    const open = databases.get(request.db);
    if (!open) throw new Error(`the embedded database ${request.db} is closed`);
    switch (request.op) {
      case 'query': {
        const on = request.tx === undefined ? open.pg : open.transactions.get(request.tx)?.tx;
        if (!on) throw new Error(`transaction ${request.tx} is not open`);
        const { rows, fields, affectedRows } = await on.query(request.sql, request.params, { rowMode: request.rowMode, parsers: asText(request.asText) });
        return { rows, fields, affectedRows };
      }
      case 'begin':
        return begin(open);
      case 'end': {
        const transaction = open.transactions.get(request.tx);
        if (!transaction) throw new Error(`transaction ${request.tx} is not open`);
        return new Promise<void>((ok, failed) => {
          transaction.ended = { ok, failed };
          transaction.end(request.commit);
        });
      }
      case 'listen': {
        const { db, channel } = request;
        if (!open.listening.has(channel)) open.listening.set(channel, await open.pg.listen(channel, () => port.postMessage({ db, notify: channel } satisfies Reply)));
        return undefined;
      }
      case 'unlisten': {
        const stop = open.listening.get(request.channel);
        open.listening.delete(request.channel);
        await stop?.();
        return undefined;
      }
      case 'close':
        databases.delete(request.db);
        await open.pg.close();
        return undefined;
    }
  };

  port.on('message', (request: Request) => {
    answer(request).then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies Reply, request.op === 'query' ? ownBuffers(value as Results, request.rowMode) : []),
      (error) => port.postMessage({ id: request.id, ok: false, error: postError(error) } satisfies Reply),
    );
  });
}

/**
 * The bytea values that own their whole buffer, moved to the main thread rather than copied,
 * so a reply's bytes are not held twice until this thread's next collection. Small ones
 * share Node's buffer pool and are copied.
 */
function ownBuffers({ rows, fields }: Results, rowMode: 'array' | 'object' | undefined): ArrayBuffer[] {
  const keys = byteaKeys(fields, rowMode);
  const buffers = new Set<ArrayBuffer>();
  for (const row of keys.length ? (rows as Record<string | number, unknown>[]) : []) {
    for (const key of keys) {
      const value = row[key];
      if (value instanceof Uint8Array && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer) buffers.add(value.buffer);
    }
  }
  return [...buffers];
}

/** Thrown inside PGlite's transaction callback to roll it back; never leaves this thread. */
const ROLLBACK = Symbol('rollback');

if (parentPort) serve(parentPort);
