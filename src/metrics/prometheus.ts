import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../store/database.js';
import { queueGauges } from '../store/queue-gauges.js';
import { backedOffDomains } from '../store/status.js';
import { getSetting, PAUSED } from '../store/settings.js';
import type { ClaimedMessage } from '../drain/claim.js';
import type { Delivery } from '../drain/deliver.js';
import { domainClass } from './domain-class.js';
import { bouncesByDomain } from '../bounces/rates.js';
import { leaseExpiries } from '../store/lease-expiries.js';
import { loadOptional } from '../optional.js';

/** prom-client is an optional peer: only metrics load it, and only they need it installed. */
const promClient = () => loadOptional(() => import('prom-client'), 'Prometheus metrics', ['prom-client']);

/**
 * Prometheus metrics with prom-client (loaded only by `status --prometheus` and
 * `worker --metrics-port`). The queue's gauges are read from the database at each
 * scrape, so every drain and a cron set-up report the same numbers; the counters and the
 * latency histogram are the worker's own since it started. One counter is kept in the
 * database too: `mailroom_lease_expiries_total` is the worker's own takeovers in the
 * worker, and every drain's since the database was made in `status --prometheus`.
 */

type PromClient = typeof import('prom-client');

/** The queue gauges on `registry`, each read at scrape time (one set of queries per scrape). */
function addQueueGauges(client: PromClient, registry: Registry, db: Db): void {
  // One read per scrape, shared by the gauges' collect() calls.
  let reading: Promise<Awaited<ReturnType<typeof queueGauges>> & { paused: boolean }> | undefined;
  const read = () =>
    (reading ??= (async () => ({ ...(await queueGauges(db)), paused: (await getSetting(db, PAUSED)) !== undefined || process.env.MAILROOM_PAUSED === '1' }))().finally(() =>
      setImmediate(() => (reading = undefined)),
    ));
  const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge, v: Awaited<ReturnType<typeof read>>) => void) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        set(this, await read());
      },
    });
  gauge('mailroom_messages', 'Messages in the queue by state.', ['state'], (g, v) => {
    for (const [state, count] of Object.entries(v.counts)) g.set({ state }, count);
  });
  gauge('mailroom_oldest_due_seconds', 'Seconds the most overdue waiting message has been due (0 when none is due).', [], (g, v) => g.set(v.oldestDueSeconds));
  gauge('mailroom_oldest_waiting_seconds', 'Seconds since the oldest queued or deferred message was created (0 when none).', [], (g, v) => g.set(v.oldestWaitingSeconds));
  gauge('mailroom_expired_leases', 'Messages still sending whose lease ran out (their drain died or stalled).', [], (g, v) => g.set(v.expiredLeases));
  gauge('mailroom_paused', '1 while sending is paused (mailroom pause or MAILROOM_PAUSED=1).', [], (g, v) => g.set(v.paused ? 1 : 0));
  new client.Gauge({
    name: 'mailroom_domains_backed_off',
    help: 'Recipient domains the per-domain throttles are backing off now (after a 421/450/451 from them).',
    registers: [registry],
    async collect() {
      this.set((await backedOffDomains(db, 0)).total);
    },
  });
  new client.Counter({
    name: 'mailroom_bounces_total',
    help: 'Bounces (hard, soft) and complaints recorded by mailroom bounces and the webhooks, by recipient domain class, since the database was made.',
    labelNames: ['kind', 'domain_class'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await bouncesByDomain(db)) this.inc({ kind: row.kind, domain_class: domainClass(row.domain) }, row.n);
    },
  });
}

const LEASE_EXPIRIES_HELP = 'Messages a drain took back from sending after another drain\'s lease ran out (that drain died, stalled or lost the database).';

/**
 * `mailroom status --prometheus`: the queue gauges once, and the lease expiries every
 * drain counted in the database, in the text exposition format.
 */
export async function queueMetricsText(db: Db): Promise<string> {
  const client = await promClient();
  const registry = new client.Registry();
  addQueueGauges(client, registry, db);
  new client.Counter({
    name: 'mailroom_lease_expiries_total',
    help: `${LEASE_EXPIRIES_HELP} Every drain's, since the database was made.`,
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(await leaseExpiries(db));
    },
  });
  return registry.metrics();
}

export interface WorkerMetrics {
  registry: Registry;
  contentType: string;
  /** Counts one attempt's outcome by domain class, and its SMTP time. */
  observe(message: ClaimedMessage, delivery: Delivery, maxAttempts: number): void;
  /** Counts messages this worker took back after another drain's lease ran out. */
  leaseExpired(count: number): void;
}

/** SMTP exchanges take milliseconds on a LAN and seconds to a slow receiver. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The worker's registry: the queue gauges, delivery counters, SMTP latency and Node's process metrics. */
export async function workerMetrics(db: Db): Promise<WorkerMetrics> {
  const client = await promClient();
  const registry = new client.Registry();
  addQueueGauges(client, registry, db);
  client.collectDefaultMetrics({ register: registry, prefix: 'mailroom_' }); // mailroom_process_…, mailroom_nodejs_…
  const deliveries: Counter = new client.Counter({
    name: 'mailroom_deliveries_total',
    help: 'Recipients by outcome (sent, deferred, failed) and recipient domain class, counted per attempt.',
    labelNames: ['outcome', 'domain_class'],
    registers: [registry],
  });
  const latency: Histogram = new client.Histogram({
    name: 'mailroom_smtp_duration_seconds',
    help: 'Time of one SMTP exchange (one message, all its recipients), by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const expiries: Counter = new client.Counter({
    name: 'mailroom_lease_expiries_total',
    help: `${LEASE_EXPIRIES_HELP} This worker's, since it started.`,
    registers: [registry],
  });
  return {
    registry,
    contentType: registry.contentType,
    leaseExpired: (count) => expiries.inc(count),
    observe(message, delivery, maxAttempts) {
      const last = message.attempts >= maxAttempts;
      for (const recipient of delivery.recipients) {
        const state = delivery.status[recipient]?.state ?? delivery.outcome;
        // A deferral on the last attempt fails the message, as the drain records it.
        const outcome = state === 'deferred' && last ? 'failed' : state;
        deliveries.inc({ outcome, domain_class: domainClass(recipient.slice(recipient.lastIndexOf('@') + 1)) });
      }
      if (delivery.ms !== undefined) latency.observe({ outcome: delivery.outcome === 'deferred' && last ? 'failed' : delivery.outcome }, delivery.ms / 1000);
    },
  };
}
