import type { Transporter } from 'nodemailer';
import { ConfigError } from '../errors.js';
import { loadDkimKeys, type DkimKey } from '../drain/dkim.js';
import { verifySmtp, type SmtpConfig } from '../drain/smtp.js';
import { createDeliveryTransport, type DeliveryConfig } from '../drain/transports.js';
import { loadTransportModule } from '../drain/transport-module.js';
import { checkUrls, FAILOVER_RETRY_SECONDS, parseRoutes } from './delivery-flags.js';

/** The flags `planDelivery` reads (a part of SendFlags). */
export interface DeliveryFlags {
  smtp?: string;
  route?: string[];
  transport?: string;
  failoverRetry?: number;
  dkim?: string[];
}

/** Where a run sends, worked out before the database opens: a bad URL, route, module or key claims nothing. */
export interface DeliveryPlan {
  config: DeliveryConfig;
  /** What to call it in the one-line error when nothing answers (passwords are hidden when printed). */
  label: string;
  dkim: DkimKey[];
}

export async function planDelivery(opts: DeliveryFlags): Promise<DeliveryPlan> {
  if (opts.smtp && opts.transport) throw new ConfigError('Both --smtp (or SMTP_URL) and --transport are set: give one default transport.');
  const routes = (opts.route ?? []).flatMap(parseRoutes);
  if (!opts.smtp && !opts.transport && routes.length === 0) {
    throw new ConfigError('No SMTP server: set SMTP_URL or pass --smtp smtp://user:pass@host:587 (or --route, or --transport MODULE).');
  }
  const dkim = loadDkimKeys(opts.dkim ?? []);
  let fallback: SmtpConfig | SmtpConfig[] | undefined;
  let label = '';
  if (opts.transport) {
    // Signed like the SMTP servers: createSmtpTransport adds DKIM to a transporter passed in too.
    fallback = await loadTransportModule(opts.transport);
    label = `transport module ${opts.transport}`;
  } else if (opts.smtp) {
    // A single URL keeps its own errors (a malformed one is named when the pool is made).
    const urls = /\s|,\s*smtps?:\/\//i.test(opts.smtp.trim()) ? checkUrls(opts.smtp) : [opts.smtp];
    fallback = urls.length === 1 ? urls[0] : urls;
    label = urls.join(', ');
  }
  if (routes.length === 0) return { config: fallback!, label, dkim };
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.domain)) throw new ConfigError(`Two routes for ${route.domain}: give one --route per sender domain.`);
    seen.add(route.domain);
  }
  return {
    config: { routes: Object.fromEntries(routes.map((r) => [r.domain, r.urls])), default: fallback },
    label: [...routes.map((r) => `${r.domain}=${r.urls.join(',')}`), ...(label ? [`default ${label}`] : [])].join(', '),
    dkim,
  };
}

/** Timeouts every SMTP server of the run gets. */
export interface DeliveryLimits {
  concurrency: number;
  socketTimeoutMs: number;
  connectionTimeoutMs: number;
}

/**
 * The run's transporter, verified before anything is claimed: one server must answer,
 * in a failover list any of them (the others are set aside and logged), with routes
 * every route. Failovers during the run are printed with `print`.
 */
export async function openDelivery(
  plan: DeliveryPlan,
  limits: DeliveryLimits,
  opts: DeliveryFlags,
  log: { info(line: string, fields?: Record<string, unknown>): void; warn(line: string, fields?: Record<string, unknown>): void },
): Promise<Transporter> {
  const retryAfterMs = (opts.failoverRetry ?? FAILOVER_RETRY_SECONDS) * 1000;
  const transporter = createDeliveryTransport(plan.config, {
    concurrency: limits.concurrency,
    socketTimeout: limits.socketTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    dkim: plan.dkim,
    retryAfterMs,
    onFailover: (e) =>
      log.warn(`${e.from} failed at connect (${e.reason}): ${e.to ? `sending through ${e.to}` : 'no other server left'}; trying it again in ${Math.round(e.retryAfterMs / 1000)}s`, {
        event: 'failover',
        server: e.from,
        next: e.to,
      }),
    onRecover: (name) => log.info(`${name} answers again: sending through it`, { event: 'failover', server: name, recovered: true }),
  });
  try {
    // A module transport without verify() (nodemailer answers false) is taken on trust.
    await verifySmtp(transporter, plan.label);
  } catch (error) {
    transporter.close();
    throw error;
  }
  return transporter;
}
