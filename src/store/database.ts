import { resolve } from 'node:path';
import type postgres from 'postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { migrateMailroom } from './migrations.js';
import { acquireLock } from './lock.js';
import { checkEmbeddedFolder, startFailureAdvice } from './embedded-folder.js';
import { redact } from './redact.js';
import { decodeCredential } from './url-credentials.js';
import { ConfigError, DatabaseError } from '../errors.js';
import { loadOptional } from '../optional.js';

const importPglite = () => loadOptional(() => import('@electric-sql/pglite'), 'The embedded database (file:…)', ['@electric-sql/pglite']);

/**
 * Any Drizzle Postgres database or transaction holding mailroom's tables, whatever the
 * app's own schema and driver (postgres.js, node-postgres, PGlite): mailroom's queries
 * name its tables themselves and never use `db.query`, so the app's `tx` is taken as is.
 */
export type Db = PgDatabase<any, any, any>;

/**
 * What the public functions that take the app's database accept (`enqueueMail(tx, …)`,
 * `enqueueMany`, `createQueueTransport({ database })`): any Drizzle Postgres database or
 * transaction, described by shape. A CommonJS app's drizzle-orm types (.d.cts) are another
 * copy of the classes than the ones mailroom's ESM types name, and TypeScript refuses one
 * copy's protected members for the other's; a shape is the same in both.
 */
export interface DrizzleDb {
  execute(query: any): PromiseLike<unknown>;
  transaction<T>(transaction: (tx: any) => Promise<T>, config?: any): Promise<T>;
  select(...args: any[]): unknown;
  insert(...args: any[]): unknown;
}

export { rowsOf } from './rows.js';
export { migrationsFolder } from './migrations.js';

/** A database mailroom opened (`openDatabase`): its Drizzle db plus what the CLI and the worker need. */
export interface Database {
  /** The Drizzle database: run your own queries on mailroom's tables with it (`mailroom/schema`). */
  readonly db: Db;
  /** Which engine: a Postgres server (postgres.js) or the embedded PGlite. */
  readonly kind: 'postgres' | 'pglite';
  /** The URL with its password hidden, for messages. */
  readonly label: string;
  /** Applies drizzle/ migrations (in mailroom's own bookkeeping table) and checks the tables exist; idempotent. */
  migrate(): Promise<void>;
  /** postgres.js client, when kind is postgres. */
  readonly sql?: postgres.Sql;
  /**
   * Calls `onNotify` on each NOTIFY on `channel` until the returned function is called
   * (and on Postgres each time the listening connection is re-established).
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** Ends the pool (Postgres) or, after the last holder in this process closes it, the embedded database and its lock. */
  close(): Promise<void>;
}

/** The embedded default: `.mailroom/db` under the current directory. */
export const DEFAULT_DATABASE = 'file:.mailroom/db';

/** Options of `openDatabase`. */
export interface OpenOptions {
  /** Run migrations on open (default false; always done for the embedded database). */
  migrate?: boolean;
  /** postgres.js pool size (default 10, postgres.js's own). */
  max?: number;
  /** Prepared statements on Postgres (default true); turn off behind PgBouncer in transaction mode. */
  prepare?: boolean;
}

/**
 * Drizzle runs postgres.js queries unprepared, so every query pays an extra round
 * trip to be described, and the server parses and plans it again. postgres.js caches
 * named statements per connection by their text; asking for them halves the round
 * trips of the drain's hot queries. Transactions and savepoints hand Drizzle a client
 * of their own, so that one is asked too (bulk enqueue: a 1,000-row INSERT was
 * planned anew for every chunk).
 */
function preparing(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], opts?: object) => target.unsafe(query, params as never, { ...opts, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        const open = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        // begin([options,] body) and savepoint([name,] body): the body gets the scoped client.
        return (...args: unknown[]) =>
          open.apply(target, args.map((arg) => (typeof arg === 'function' ? (scoped: postgres.Sql) => arg(preparing(scoped)) : arg)));
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Opens `postgres://…`, `postgresql://…` (postgres.js, loaded now) or `file:PATH` (the
 * embedded PGlite, the optional package `@electric-sql/pglite`, created and migrated on first
 * open, one process at a time). Default `file:.mailroom/db`. Pass the result to
 * `createQueueTransport({ database })`, `enqueueMail` or `drain`; `close()` it when done.
 * Throws a ConfigError for an unsupported URL or a missing optional package,
 * DatabaseInUseError when another process holds the embedded folder, DatabaseError when
 * the server cannot be reached. Passwords are hidden in every message.
 */
export async function openDatabase(url: string = DEFAULT_DATABASE, options: OpenOptions = {}): Promise<Database> {
  // A config file can hold any string: a NUL reached the file system as a TypeError and a stack.
  if (typeof url !== 'string' || /[\0-\x1f\x7f]/.test(url)) {
    throw new ConfigError(`Database URL ${JSON.stringify(redact(String(url)))} holds a control character: check DATABASE_URL, --database or the config file.`);
  }
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, options);
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length);
    if (!path) throw new ConfigError(`Database URL "file:" has no path: use file:PATH, e.g. file:.mailroom/db.`);
    return openPglite(resolve(path));
  }
  throw new ConfigError(
    `Unsupported database URL "${redact(url)}": use postgres://user:pass@host:5432/db, postgresql://…, or file:PATH for the embedded database.`,
  );
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`Malformed database URL "${redact(url)}": expected postgres://user:pass@host:5432/database.`);
  }
  for (const part of [parsed.username, parsed.password]) decodeCredential(part, url); // postgres.js throws a bare URIError on a stray %
  const label = redact(url);
  // prepare: false reaches the client too: a named Drizzle query (enqueue's) asks for a
  // server-side statement, which PgBouncer in transaction mode cannot keep.
  // Loaded when a postgres:// URL is opened: an app that hands mailroom its own Drizzle db
  // (node-postgres, PGlite) or only renders never pays for postgres.js at import.
  const [{ default: postgresClient }, { drizzle: drizzlePostgres }] = await Promise.all([import('postgres'), import('drizzle-orm/postgres-js')]);
  const client = postgresClient(url, { max: options.max ?? 10, onnotice: () => {}, connect_timeout: 10, prepare: options.prepare !== false });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseError(`Cannot connect to Postgres at ${parsed.host}${parsed.pathname}: ${redact(describe(error))}`, { cause: error });
  }
  const db: Db = drizzlePostgres(options.prepare === false ? client : preparing(client));
  const database: Database = {
    db,
    kind: 'postgres',
    label,
    sql: client,
    migrate: () => migrateMailroom(drizzlePostgres(client)),
    async listen(channel, onNotify) {
      // Also on every re-LISTEN after a lost connection: NOTIFYs sent meanwhile are gone.
      const { unlisten } = await client.listen(channel, onNotify, onNotify);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
  if (options.migrate) await database.migrate();
  return database;
}

/**
 * One PGlite per folder per process, shared and reference-counted. The entry is
 * set before the first await, so concurrent opens of one folder share one start.
 */
const embedded = new Map<string, { opening: Promise<Database>; refs: number }>();

function openPglite(folder: string): Promise<Database> {
  const open = embedded.get(folder);
  if (open) {
    open.refs++;
    return open.opening;
  }
  const entry = { refs: 1, opening: undefined as unknown as Promise<Database> };
  entry.opening = startPglite(folder, async (close) => {
    if (--entry.refs > 0) return;
    embedded.delete(folder);
    await close();
  });
  embedded.set(folder, entry);
  entry.opening.catch(() => embedded.delete(folder));
  return entry.opening;
}

async function startPglite(folder: string, onClose: (close: () => Promise<void>) => Promise<void>): Promise<Database> {
  // Loaded only when used: a Postgres deployment never pays for the WebAssembly build.
  const [, { drizzle: drizzlePglite }, { PGliteThread }] = await Promise.all([importPglite(), import('drizzle-orm/pglite'), import('./pglite-thread.js')]);
  const release = acquireLock(`${folder}.lock`, folder);
  try {
    checkEmbeddedFolder(folder); // never initialise a damaged or foreign folder
  } catch (error) {
    release();
    throw error;
  }
  let client: Awaited<ReturnType<typeof PGliteThread.open>> | undefined;
  try {
    // PGlite zeroes its whole buffer pool at start: the default 128 MB was 140 MB of RSS
    // before the first query. A queue reads each row once or twice; 16 MB is plenty.
    client = await PGliteThread.open(folder, ['-c', 'shared_buffers=16MB']);
    const db: Db = drizzlePglite(client as never); // the thread's client has the calls the driver makes
    await migrateMailroom(db);
    const open = client;
    return {
      db,
      kind: 'pglite',
      label: `file:${folder}`,
      migrate: () => migrateMailroom(db),
      listen: (channel, onNotify) => open.listen(channel, onNotify),
      close: () =>
        onClose(async () => {
          try {
            await open.close();
          } finally {
            release();
          }
        }),
    };
  } catch (error) {
    await client?.close().catch(() => {});
    release();
    throw new DatabaseError(`Cannot open the embedded database at ${folder}: ${describe(error)}${startFailureAdvice(folder, error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e?.message || e?.code || String(error);
}

/** An open mailroom Database (as opposed to a bare Drizzle db or transaction). */
function isDatabase(value: unknown): value is Database {
  return typeof value === 'object' && value !== null && 'db' in value && 'kind' in value;
}

/** The Drizzle db of either an open Database or a Drizzle db/transaction itself. */
export const dbOf = (target: DrizzleDb | Database): Db => (isDatabase(target) ? target.db : (target as unknown as Db));

/**
 * The Drizzle db behind any of the ways mailroom is given a database: a URL is opened
 * here and comes with its `close`; an open Database or a Drizzle db/transaction is
 * borrowed and left open.
 */
export async function resolveDatabase(source: string | Database | DrizzleDb): Promise<{ db: Db; close?: () => Promise<void> }> {
  if (typeof source !== 'string') return { db: dbOf(source) };
  const database = await openDatabase(source);
  return { db: database.db, close: () => database.close() };
}

