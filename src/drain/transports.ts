import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { ConfigError } from '../errors.js';
import { redact } from '../store/redact.js';
import { signingDomain } from './dkim.js';
import { createSmtpTransport, type SmtpConfig, type SmtpOptions } from './smtp.js';

/**
 * Several transports behind the one transporter the drain sends through: servers in
 * failover order, and routes chosen by the sender's domain. Each is a nodemailer custom
 * transport, so what the drain gets is a real Transporter (sendMail, verify, close).
 */

/**
 * `smtp://a,smtp://b` or `smtp://a smtp://b` → the URLs in order. A comma splits only
 * before a scheme, so one inside a password stays (URLs hold no raw whitespace).
 */
export function splitUrls(value: string): string[] {
  return value
    .split(/\s+|,\s*(?=smtps?:\/\/)/i)
    .map((v) => v.trim())
    .filter(Boolean);
}

/** A transport and the name it goes by in logs and errors (an SMTP URL with its password hidden). */
export interface NamedTransport {
  name: string;
  transporter: Transporter;
}

/** Why a member was set aside, for logs: `{ from, to, reason, retryAfterMs }`; `to` is null when none is left. */
export interface FailoverEvent {
  from: string;
  to: string | null;
  reason: string;
  retryAfterMs: number;
}

export interface FailoverOptions {
  /** How long a server that failed at connect is skipped before one message tries it again. Default 60 s. */
  retryAfterMs?: number;
  /** Called when a server is set aside (and which one takes over), and when it is used again. */
  onFailover?: (event: FailoverEvent) => void;
  onRecover?: (name: string) => void;
}

interface SmtpFailure {
  code?: string;
  originalCode?: string;
  timeoutType?: string;
  command?: string;
  syscall?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * Whether a send failed before the server could have taken the message: the connection
 * refused, unreachable or unresolvable, a greeting or EHLO that was not 2xx (a 421 or 554
 * at connect), a connect or greeting timeout, a failed STARTTLS or a refused login. Only
 * these move a message to the next server at once; a failure later in the session (a
 * 4xx to MAIL, RCPT or DATA, a connection lost mid-message) is the drain's to defer, since
 * the server may already hold the message.
 */
export function failedAtConnect(error: unknown): boolean {
  const e = (error ?? {}) as SmtpFailure;
  if (e.syscall === 'connect' || e.syscall === 'getaddrinfo' || e.code === 'EDNS') return true;
  if (e.code === 'ETLS' || e.code === 'EAUTH') return true;
  if (e.command === 'EHLO' || e.command === 'HELO' || e.command === 'LHLO') return true;
  // nodemailer's connect, greeting and TLS upgrade timers (a socket timeout later on is not one).
  if (e.timeoutType === 'CONNECT_TIMEOUT' || e.timeoutType === 'GREETING_TIMEOUT' || e.timeoutType === 'UPGRADE_TIMEOUT') return true;
  // A greeting that is not 220 (421 busy, 554 no service). A silent close is left out: nodemailer
  // reports one before the greeting and one mid-message alike.
  return e.command === 'CONN' && /^Invalid greeting/.test(e.message ?? '');
}

const VERSION = '1';

/** Wraps a custom nodemailer transport's promise-returning parts into the callback shape nodemailer calls. */
function customTransport(
  name: string,
  send: (data: SendMailOptions) => Promise<unknown>,
  verify: () => Promise<void>,
  close: () => void,
): Transporter {
  return nodemailer.createTransport({
    name,
    version: VERSION,
    send(mail: { data: SendMailOptions }, callback: (error: Error | null, info?: unknown) => void) {
      send(mail.data).then(
        (info) => callback(null, info),
        (error: Error) => callback(error),
      );
    },
    verify(callback?: (error: Error | null, ok?: true) => void): Promise<true> | void {
      const result = verify().then(() => true as const);
      if (!callback) return result;
      result.then(
        () => callback(null, true),
        (error: Error) => callback(error),
      );
    },
    close,
  } as never) as Transporter;
}

/**
 * Servers in order of preference: each message goes to the first one not set aside. A
 * server that fails at connect (see `failedAtConnect`) is set aside for `retryAfterMs`
 * and the message goes on to the next at once; after that one message tries it again
 * (the others keep using the next meanwhile), and a success brings it back. When every
 * server failed, the last error is the send's, and the drain defers the message.
 * `verify()` passes when any server answers (those that do not are set aside).
 */
export function createFailoverTransport(members: NamedTransport[], options: FailoverOptions = {}): Transporter {
  if (members.length === 0) throw new ConfigError('A failover transport needs at least one server.');
  if (members.length === 1) return members[0]!.transporter;
  const retryAfterMs = options.retryAfterMs ?? 60_000;
  const downUntil = new Map<NamedTransport, number>();
  const probing = new Set<NamedTransport>();

  /** The members to try, in order: those up, then one whose time is up (if no message is probing it), and the rest last. */
  const order = (): NamedTransport[] => {
    const now = Date.now();
    const up: NamedTransport[] = [];
    const resting: NamedTransport[] = [];
    for (const member of members) {
      const until = downUntil.get(member);
      if (until === undefined) up.push(member);
      else if (until <= now && !probing.has(member)) {
        probing.add(member);
        up.push(member);
      } else resting.push(member);
    }
    // Every server set aside: still try them all rather than fail without a word.
    return up.length ? up : resting;
  };

  const setAside = (member: NamedTransport, next: NamedTransport | undefined, error: unknown) => {
    const wasUp = !downUntil.has(member) || probing.has(member);
    downUntil.set(member, Date.now() + retryAfterMs);
    if (wasUp) options.onFailover?.({ from: member.name, to: next?.name ?? null, reason: reasonOf(error), retryAfterMs });
  };
  const cameBack = (member: NamedTransport) => {
    if (downUntil.delete(member)) options.onRecover?.(member.name);
  };

  const send = async (data: SendMailOptions): Promise<unknown> => {
    const candidates = order();
    let last: unknown;
    for (const [i, member] of candidates.entries()) {
      try {
        const info = await member.transporter.sendMail(data);
        cameBack(member);
        return info;
      } catch (error) {
        last = error;
        if (!failedAtConnect(error) || data.signal?.aborted) throw error;
        setAside(member, candidates[i + 1], error);
      } finally {
        probing.delete(member);
      }
    }
    throw last;
  };

  const verify = async () => {
    const errors: string[] = [];
    for (const [i, member] of members.entries()) {
      try {
        await member.transporter.verify();
        return;
      } catch (error) {
        errors.push(`${member.name}: ${reasonOf(error)}`);
        setAside(member, members[i + 1], error);
      }
    }
    throw new Error(`no server answered (${errors.join('; ')})`);
  };

  return customTransport(
    'mailroom-failover',
    send,
    verify,
    () => members.forEach((m) => m.transporter.close()),
  );
}

function reasonOf(error: unknown): string {
  const e = (error ?? {}) as SmtpFailure;
  return redact((e.response ?? e.message ?? String(error)).split(/\r?\n/)[0]!.slice(0, 200));
}

/** The domain of the envelope sender (else of the From address), for routing. */
function senderDomain(data: SendMailOptions): string | undefined {
  const envelopeFrom = (data.envelope as { from?: unknown } | undefined)?.from;
  const from = typeof envelopeFrom === 'string' ? envelopeFrom : typeof data.from === 'string' ? data.from : (data.from as { address?: string } | undefined)?.address;
  const address = from ? (/<([^>]*)>/.exec(from)?.[1] ?? from) : undefined;
  const at = address?.lastIndexOf('@') ?? -1;
  return at < 0 ? undefined : address!.slice(at + 1);
}

/**
 * Routes by the sender's domain (the envelope sender, as relays authorise it): a message
 * from `billing.example.com` takes the route for `billing.example.com`, else
 * `example.com`'s, else `fallback`. A message no route takes fails its send with a reply
 * naming the domain (the drain defers it: a configuration to fix, not a bad message).
 * `verify()` checks every route.
 */
export function createRoutedTransport(routes: Record<string, NamedTransport>, fallback?: NamedTransport): Transporter {
  const table = new Map<string, NamedTransport>();
  for (const [domain, transport] of Object.entries(routes)) {
    const key = signingDomain(domain);
    if (!key) throw new ConfigError(`Route "${domain}" is not a domain name: routes are keyed by the sender's domain, e.g. example.com.`);
    if (table.has(key)) throw new ConfigError(`Two routes for ${key}: give one per sender domain.`);
    table.set(key, transport);
  }
  const pick = (data: SendMailOptions): NamedTransport | undefined => {
    let domain = signingDomain(senderDomain(data) ?? '') ?? undefined;
    while (domain) {
      const found = table.get(domain);
      if (found) return found;
      const dot = domain.indexOf('.');
      domain = dot < 0 ? undefined : domain.slice(dot + 1);
    }
    return fallback;
  };
  const all = [...new Set([...table.values(), ...(fallback ? [fallback] : [])])];
  return customTransport(
    'mailroom-routes',
    async (data) => {
      const route = pick(data);
      if (!route) {
        throw new Error(`no route for sender domain ${senderDomain(data) ?? '(none)'}: add a route for it, or a default server`);
      }
      return route.transporter.sendMail(data);
    },
    async () => {
      for (const route of all) {
        try {
          await route.transporter.verify();
        } catch (error) {
          throw Object.assign(new Error(`${route.name}: ${reasonOf(error)}`), { cause: error });
        }
      }
    },
    () => all.forEach((r) => r.transporter.close()),
  );
}

/**
 * Where the drain sends, as `mailroom send` reads it: one server, or several in failover
 * order (an array), or routes by sender domain (`{ routes, default }`, each one server or
 * a failover list). Every SMTP server gets the same `options` (connections, timeouts, DKIM).
 */
export type DeliveryConfig = SmtpConfig | SmtpConfig[] | { routes: Record<string, SmtpConfig | SmtpConfig[]>; default?: SmtpConfig | SmtpConfig[] };

const nameOf = (config: SmtpConfig): string =>
  typeof config === 'string' ? redact(config) : typeof (config as Transporter).sendMail === 'function' ? 'transporter' : `smtp://${(config as { host?: string }).host ?? 'localhost'}`;

function isRouted(config: DeliveryConfig): config is Extract<DeliveryConfig, { routes: unknown }> {
  return typeof config === 'object' && !Array.isArray(config) && typeof (config as { sendMail?: unknown }).sendMail !== 'function' && 'routes' in config;
}

/** Builds the transporter for a `DeliveryConfig` (see there). */
export function createDeliveryTransport(config: DeliveryConfig, options: SmtpOptions & FailoverOptions = {}): Transporter {
  const group = (servers: SmtpConfig | SmtpConfig[]): NamedTransport => {
    const list = Array.isArray(servers) ? servers : [servers];
    const members = list.map((server) => ({ name: nameOf(server), transporter: createSmtpTransport(server, options) }));
    return { name: members.map((m) => m.name).join(' | '), transporter: createFailoverTransport(members, options) };
  };
  if (isRouted(config)) {
    const routes = Object.fromEntries(Object.entries(config.routes).map(([domain, servers]) => [domain, group(servers)]));
    return createRoutedTransport(routes, config.default === undefined ? undefined : group(config.default));
  }
  return group(config as SmtpConfig | SmtpConfig[]).transporter;
}
