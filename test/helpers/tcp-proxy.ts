import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy that can cut every connection through it and refuse new ones, to fake a lost database. */
export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open(): number;
  /** The client addresses of the connections open now. */
  peers(): Set<string>;
  /** Destroys every open connection, both ends. */
  cut(): void;
  /** The database goes away: every connection is cut and new ones are refused (ECONNREFUSED). */
  down(): Promise<void>;
  /** It comes back, on the same port. */
  up(): Promise<void>;
  /** While on, connections are accepted and closed at once, without a word (a half-dead pooler or firewall). */
  blackhole(on: boolean): void;
  /** From now on nothing passes either way, on open connections and new ones: queries hang, unanswered. */
  freeze(): void;
  close(): Promise<void>;
}

/** `listen`: the address to listen on (0.0.0.0 for hosts in network namespaces). */
export async function startTcpProxy(target: { host: string; port: number }, { listen = '127.0.0.1' }: { listen?: string } = {}): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let blackhole = false;
  let frozen = false;
  const silence = ([client, upstream]: [Socket, Socket]) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const server = createServer((client) => {
    client.on('error', () => {});
    if (blackhole) {
      client.destroy();
      return;
    }
    proxy.accepted++;
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const done = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
    if (frozen) return void client.pause();
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, listen, () => resolve()));
  const address = server.address();
  const proxy: TcpProxy = {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: 0,
    open: () => pairs.size,
    peers: () => new Set([...pairs].map(([client]) => client.remoteAddress ?? '')),
    cut() {
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
    },
    async down() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.cut();
      await closed;
    },
    blackhole(on) {
      blackhole = on;
    },
    freeze() {
      frozen = true;
      for (const pair of pairs) silence(pair);
    },
    async up() {
      await new Promise<void>((resolve) => server.listen(proxy.port, listen, () => resolve()));
    },
    async close() {
      if (server.listening) await proxy.down();
    },
  };
  return proxy;
}

/** The same URL, pointed at the proxy. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
