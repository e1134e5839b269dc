import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { watchFolder, type FolderWatch } from './watch-folder.js';

interface Client {
  send(event: string, data: string): void;
  end(): void;
}

/**
 * Live reload: watches the emails folder and tells every open page, over
 * Server-Sent Events, that what it shows is out of date. Each change bumps a
 * generation number; a page knows the generation it was rendered at and reloads
 * when the server's differs, so a change made while it was connecting is not lost.
 */
export class LiveReload {
  generation = 1;
  private readonly clients = new Set<Client>();
  private readonly watchers: FolderWatch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly ping: NodeJS.Timeout;

  constructor(private readonly onChange: () => void) {
    // A comment line now and then keeps idle connections (and proxies) open.
    this.ping = setInterval(() => this.broadcast('ping', ''), 25_000);
    this.ping.unref();
  }

  /**
   * Watches `dir` and the folders below it, files saved by rename included; several
   * quick events, as editors save, count as one change.
   */
  watch(dir: string): void {
    this.watchers.push(
      watchFolder(dir, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.changed(), 80);
      }),
    );
  }

  /** Marks everything stale and tells the pages. */
  changed(): void {
    this.generation++;
    this.onChange();
    this.broadcast('reload', String(this.generation));
  }

  /** GET /events */
  handle(c: Context): Response {
    return streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: 'hello', data: String(this.generation) });
      await new Promise<void>((resolve) => {
        const client: Client = {
          send: (event, data) => {
            const write = event === 'ping' ? stream.write(': ping\n\n') : stream.writeSSE({ event, data });
            write.catch(() => client.end());
          },
          end: () => {
            this.clients.delete(client);
            resolve();
          },
        };
        this.clients.add(client);
        stream.onAbort(() => client.end());
      });
    });
  }

  private broadcast(event: string, data: string): void {
    for (const client of this.clients) client.send(event, data);
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.ping);
    for (const watcher of this.watchers) watcher.close();
    for (const client of [...this.clients]) client.end();
  }
}
