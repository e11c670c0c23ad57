import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { innerMap } from '../common/maps';

/** Where the per-process totals come from (read at scrape time, never on a request). */
export interface MetricSources {
  counters?: { totals: { checks: number; downloads: number; upgrades: number } };
  catalogue?: { stats: { hits: number; misses: number } };
  uploads?: { uploaded: { files: number; bytes: number } };
  pool?: () => { total: number; idle: number; waiting: number } | undefined;
  webhooks?: { outcomes: { delivered: number; retrying: number; failed: number } };
}

/** Seconds; the hot routes answer in about a millisecond, uploads may take minutes. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

type Observer = { observe(value: number): void };

/**
 * The Prometheus registry of one application. A request costs one histogram observation (the
 * label set's child is looked up once and kept); every other figure is a running total read
 * when /metrics is scraped, so that counting never touches the hot path.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  /** By route, status and method: strings the request already holds (no key is built per request). */
  private readonly observers = new Map<string, Map<number, Map<string, Observer>>>();
  private sources: MetricSources = {};

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'shipgate_' });
    this.latency = new Histogram({
      name: 'shipgate_http_request_duration_seconds',
      help: 'Time to answer a request, by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    const latency = this.latency;
    new Counter({
      name: 'shipgate_http_requests_total',
      help: 'Requests answered, by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
      // derived from the histogram's counts at scrape time (no second write per request)
      async collect() {
        this.reset();
        for (const v of (await latency.get()).values) {
          if (v.metricName === 'shipgate_http_request_duration_seconds_count') this.inc(v.labels as Record<string, string>, v.value);
        }
      },
    });
    const sources = () => this.sources;
    const total = (name: string, help: string, read: (s: MetricSources) => number | undefined, labelNames: string[] = []) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          const value = read(sources());
          this.reset();
          if (value !== undefined) this.inc(value);
        },
      });
    total('shipgate_update_checks_total', 'Update checks answered (upgrade actions and /v3 update checks)', (s) => s.counters?.totals.checks);
    total('shipgate_downloads_total', 'Artifact downloads counted for customers', (s) => s.counters?.totals.downloads);
    total('shipgate_upgrades_total', 'Upgrades counted for customers (a newer release was offered)', (s) => s.counters?.totals.upgrades);
    total('shipgate_catalogue_hits_total', 'In-memory catalogue lookups answered from memory', (s) => s.catalogue?.stats.hits);
    total('shipgate_catalogue_misses_total', 'In-memory catalogue lookups that had to load from the database', (s) => s.catalogue?.stats.misses);
    total('shipgate_uploads_total', 'Artifact uploads stored', (s) => s.uploads?.uploaded.files);
    total('shipgate_upload_bytes_total', 'Bytes of artifact uploads stored', (s) => s.uploads?.uploaded.bytes);
    new Counter({
      name: 'shipgate_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts made by this process, by outcome (delivered, retrying: failed and scheduled again, failed: given up)',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const outcomes = sources().webhooks?.outcomes;
        this.reset();
        if (outcomes) for (const [outcome, n] of Object.entries(outcomes)) this.inc({ outcome }, n);
      },
    });
    const pool = (name: string, help: string, read: (p: { total: number; idle: number; waiting: number }) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = sources().pool?.();
          this.set(p ? read(p) : 0);
        },
      });
    pool('shipgate_db_pool_connections', 'Database connections open in the pool', (p) => p.total);
    pool('shipgate_db_pool_in_use', 'Database connections in use', (p) => p.total - p.idle);
    pool('shipgate_db_pool_waiting', 'Queries waiting for a database connection', (p) => p.waiting);
  }

  /** Called once the application's services exist. */
  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  /** One request answered: `route` is the route template (never the raw path). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const byMethod = innerMap(innerMap(this.observers, route), status);
    let observer = byMethod.get(method);
    if (!observer) byMethod.set(method, (observer = this.latency.labels(method, route, String(status))));
    observer.observe(seconds);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
