import { openDatabase, type Database } from 'mailroom';
import { createSmtpTransport } from 'mailroom/drain';
import { runWorker, type WorkerOptions } from '../../src/drain/worker.js';
import { pg } from './databases.js';
import { startTcpProxy, throughProxy } from './tcp-proxy.js';

const POSTGRES_PORT = Number(new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').port || 5432);

/**
 * A fresh Postgres database reached two ways: `direct` (the test's own connection) and
 * `proxiedUrl`, through a TCP proxy the test cuts (`proxy.down()`) and restores
 * (`proxy.up()`) as a Postgres restart would. `close()` undoes all of it.
 */
export async function proxiedPostgres() {
  const { url, database: direct, drop } = await pg.create();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: POSTGRES_PORT });
  const opened: Database[] = [];
  return {
    direct,
    proxy,
    proxiedUrl: throughProxy(url, proxy),
    /** A Database whose connections go through the proxy; closed by `close()`. */
    async openProxied(): Promise<Database> {
      const database = await openDatabase(throughProxy(url, proxy));
      opened.push(database);
      return database;
    },
    async close() {
      for (const database of opened) await database.close().catch(() => {});
      await proxy.close();
      await drop();
    },
  };
}

/** An in-process worker on `database` delivering to `smtpUrl`, and how to stop it (aborted, awaited, transport closed). */
export function startWorker(database: Database, smtpUrl: string, options: Omit<WorkerOptions, 'smtp' | 'signal'>) {
  const transport = createSmtpTransport(smtpUrl);
  const controller = new AbortController();
  const worker = runWorker(database, { ...options, smtp: transport, signal: controller.signal });
  return {
    worker,
    async stop() {
      controller.abort();
      await worker.catch(() => {});
      transport.close();
    },
  };
}
