import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { ConfigError } from '../errors.js';
import { isIP } from 'node:net';
import { isLoopbackBind } from './hosts.js';
import { createPreviewHandler, type PreviewHandlerOptions } from './handler.js';

export { createPreviewHandler, type PreviewHandler, type PreviewHandlerOptions } from './handler.js';
export { hashPreviewPassword, parseUsers, type PreviewUser } from './auth/password.js';
export type { PreviewAuthOptions } from './auth/login.js';

/** Options of `startPreviewServer`: those of `createPreviewHandler` plus where to listen. */
export interface PreviewServerOptions extends Omit<PreviewHandlerOptions, 'basePath' | 'boundHost' | 'allowedHosts' | 'clientAddress'> {
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /**
   * Default 127.0.0.1. Anywhere else the server refuses to start without `auth`
   * and, bound to a wildcard (0.0.0.0, ::) or a name, without `allowedHosts`.
   */
  host?: string;
  /** Host names it answers to besides loopback literals, `localhost` and its bound address (`--allowed-host`). */
  allowedHosts?: readonly string[];
}

/** A running preview server (`startPreviewServer`). */
export interface PreviewServer {
  /** `http://127.0.0.1:3000` */
  readonly url: string;
  /** The address it is bound to. */
  readonly host: string;
  /** The port it listens on (the one picked, when 0 was asked). */
  readonly port: number;
  /** Re-import the templates and reload open pages, as a file change does. */
  reload(): void;
  /** Stops listening, ends the live-reload streams and closes what it opened itself (never a database it was given). */
  close(): Promise<void>;
}

/**
 * What a server reachable from other machines must have: a login, and the names
 * it is reached by (so a rebound DNS name is refused there too). A bound IP
 * literal is a name already; a wildcard or a host name is not.
 */
function checkExposure(host: string, options: PreviewServerOptions): void {
  if (isLoopbackBind(host)) return;
  if (!options.auth) {
    throw new ConfigError(
      `Listening on ${host} shows the outbox to the network: set MAILROOM_PREVIEW_PASSWORD (or MAILROOM_PREVIEW_USERS) so it asks for a login, or bind to 127.0.0.1.`,
    );
  }
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const wildcard = bare === '0.0.0.0' || bare === '::' || isIP(bare) === 0;
  if (wildcard && !options.allowedHosts?.length) {
    throw new ConfigError(`Listening on ${host}, the preview must know the names it is reached by: pass --allowed-host NAME (e.g. --allowed-host mail.staging.example).`);
  }
}

/**
 * Starts the preview server: the templates and views of `emailsDir` (live-reloaded)
 * and the outbox of `database`. Resolves once it listens; `close()` stops it and
 * whatever it opened itself (never a database it was given). Throws a ConfigError for a
 * bad port, a port in use, an address not of this machine, or a non-loopback `host`
 * without `auth` (and, on a wildcard or a name, without `allowedHosts`). Needs the
 * optional packages hono, @hono/node-server, mailparser and tsx.
 */
export async function startPreviewServer(options: PreviewServerOptions = {}): Promise<PreviewServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`Port ${port} is not a port number: use 1-65535, or 0 for any free port.`);
  checkExposure(host, options);

  const handler = createPreviewHandler({ ...options, boundHost: host, allowedHosts: options.allowedHosts ?? [] });
  // overrideGlobalObjects: false — an app embedding the preview keeps its own global Request/Response.
  const server = createAdaptorServer({ fetch: handler, overrideGlobalObjects: false }) as Server;
  try {
    await handler.ready;
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    await handler.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`Port ${port} on ${host} is in use: pass --port with another port (0 picks a free one).`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError(`Cannot listen on ${host}: it is not an address of this machine (see --host).`, { cause: error });
    if (code === 'EACCES') throw new ConfigError(`Not allowed to listen on port ${port}: use a port above 1023.`, { cause: error });
    throw error;
  }

  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${actualPort}`,
    host,
    port: actualPort,
    reload: () => handler.reload(),
    close() {
      closing ??= (async () => {
        // Requests in flight finish first (open event streams are cut after 500 ms), then what the handler opened closes.
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 500).unref();
        });
        await handler.close();
      })();
      return closing;
    },
  };
}
