import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { afterAttempt, capacityOf } from './circuit';
import type { Circuit } from './circuit';
import { shareSlots } from './fair-share';
import { postWebhook } from './webhook-sender';
import type { AttemptResult } from './webhook-sender';

/** One delivery handed to this process: it holds the lease until the outcome is recorded. */
interface Leased {
  id: string;
  accountId: string;
  endpointId: string;
  token: string;
  attempts: number;
  /** The half-open circuit's probe. */
  probe: boolean;
  url: string;
  secret: string;
  eventId: string;
  body: string;
}

/** A lease outlives the attempt's timeout by this much: only a dead worker's lease expires. */
const LEASE_MARGIN_SECONDS = 30;

/** Endpoints looked at per pick, per free slot (the fair share is made among them). */
const CANDIDATES_PER_SLOT = 4;

/**
 * Endpoints with a due delivery that nobody holds, whose circuit lets something through (closed,
 * or a probe is due; a disabled endpoint's deliveries are failed), in round-robin order: each
 * account's least recently served endpoint first, and among those the least recently served.
 * `pending` walks the distinct endpoints of pending deliveries on the index (a skip scan), so the
 * cost follows the number of endpoints, not of deliveries.
 */
const CANDIDATES_SQL = `
  WITH RECURSIVE pending(endpoint_id) AS (
    (SELECT endpoint_id FROM webhook_deliveries WHERE status = 'PENDING' ORDER BY endpoint_id LIMIT 1)
    UNION ALL
    SELECT (SELECT d.endpoint_id FROM webhook_deliveries d WHERE d.status = 'PENDING' AND d.endpoint_id > p.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
      FROM pending p WHERE p.endpoint_id IS NOT NULL
  )
  SELECT id FROM (
    SELECT w.id, w.last_dispatched, row_number() OVER (PARTITION BY w.account_id ORDER BY w.last_dispatched NULLS FIRST, w.id) AS turn
      FROM pending p JOIN webhook_endpoints w ON w.id = p.endpoint_id
     WHERE (NOT w.enabled OR w.circuit = 'closed' OR w.next_probe <= now())
       AND EXISTS (SELECT 1 FROM webhook_deliveries d
                    WHERE d.endpoint_id = w.id AND d.status = 'PENDING' AND d.next_attempt <= now()
                      AND (d.lease_until IS NULL OR d.lease_until <= now()))
  ) c
  ORDER BY turn, last_dispatched NULLS FIRST, id
  LIMIT $1`;

/**
 * Delivers webhooks from `webhook_deliveries` (the durable queue, written in the change's
 * transaction), fairly: each pick (one short transaction) locks the candidate endpoints (SKIP
 * LOCKED, so instances pick different ones and never exceed an endpoint's limit together), gives
 * each endpoint at most WEBHOOKS_ENDPOINT_CONCURRENCY deliveries in flight across all instances,
 * hands this process's free slots (WORKERS) out in turns per account and endpoint, and leases the
 * oldest due delivery of each. The HTTP attempt runs outside any transaction, bounded by
 * WEBHOOKS_TIMEOUT_SECONDS; its outcome, the retry schedule and the endpoint's circuit are then
 * recorded in one transaction, only while the lease is still ours. A worker that dies leaves its
 * lease to expire; the delivery is then due again (at least once).
 *
 * Lock order everywhere (here and the retry action): the endpoint row, then its deliveries.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  /** Attempts made by this process since it started, by outcome (read by /metrics). */
  readonly outcomes = { delivered: 0, retrying: 0, failed: 0 };
  private readonly logger = new Logger('Webhooks');
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private picking: Promise<void> | undefined;
  private pickAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Deliveries in flight per account in this process (the account's share of the slots). */
  private readonly busy = new Map<string, number>();
  private lastError = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  private get slots(): number {
    return this.config.events.workers;
  }

  /** One account holds at most half of this process's slots (all of them when there is one). */
  private get accountCap(): number {
    return Math.max(1, Math.ceil(this.slots / 2));
  }

  onApplicationBootstrap(): void {
    if (this.slots === 0) return;
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.config.events.pollSeconds * 1000);
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    await this.picking;
    // attempts in progress end within their timeout; their outcomes are recorded before the pool closes
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Looks for due deliveries now; calls while a pick runs make one more pick after it. */
  wake(): void {
    if (!this.running) return;
    if (this.picking) {
      this.pickAgain = true;
      return;
    }
    this.picking = (async () => {
      try {
        do {
          this.pickAgain = false;
          await this.pick();
        } while (this.pickAgain && this.running);
      } catch (error) {
        this.warn(`picking webhook deliveries failed: ${(error as Error).message}`);
      } finally {
        this.picking = undefined;
      }
    })();
  }

  private async pick(): Promise<void> {
    const free = this.slots - this.inFlight.size;
    if (free <= 0 || !this.running) return;
    for (const d of await this.lease(free)) {
      this.busy.set(d.accountId, (this.busy.get(d.accountId) ?? 0) + 1);
      const attempt = this.attempt(d)
        .catch((error: Error) => this.warn(`recording a webhook attempt failed: ${error.message}`))
        .finally(() => {
          this.inFlight.delete(d.id);
          const n = (this.busy.get(d.accountId) ?? 1) - 1;
          if (n > 0) this.busy.set(d.accountId, n);
          else this.busy.delete(d.accountId);
          this.wake();
        });
      this.inFlight.set(d.id, attempt);
    }
  }

  /** Leases up to `free` due deliveries, fairly (one transaction; see the class comment). */
  async lease(free: number): Promise<Leased[]> {
    const { endpointConcurrency, deliveryTimeoutMs } = this.config.events;
    // an idle queue costs one read per poll, no transaction
    const candidates: Array<{ id: string }> = await this.db.query(CANDIDATES_SQL, [free * CANDIDATES_PER_SLOT]);
    if (!candidates.length) return [];
    return this.db.transaction(async (m) => {
      // another instance picking from one of these endpoints holds its row: skip it this time
      const endpoints: Array<{ id: string; account_id: string; enabled: boolean; circuit: Circuit; probe_due: boolean }> = await m.query(
        `SELECT w.id, w.account_id, w.enabled, w.circuit, coalesce(w.next_probe <= now(), false) AS probe_due
           FROM webhook_endpoints w WHERE w.id = ANY($1::uuid[])
          ORDER BY array_position($1::uuid[], w.id)
            FOR NO KEY UPDATE SKIP LOCKED`,
        [candidates.map((c) => c.id)],
      );
      if (!endpoints.length) return [];
      // counted after the locks, in a statement of its own: it sees every lease committed before
      // them, and none can be added while they are held
      const counts: Array<{ endpoint_id: string; n: number }> = await m.query(
        `SELECT endpoint_id, count(*)::int AS n FROM webhook_deliveries
          WHERE endpoint_id = ANY($1::uuid[]) AND lease_token IS NOT NULL AND status = 'PENDING' AND lease_until > now()
          GROUP BY endpoint_id`,
        [endpoints.map((e) => e.id)],
      );
      const inFlight = new Map(counts.map((c) => [c.endpoint_id, c.n]));
      const disabled = endpoints.filter((e) => !e.enabled).map((e) => e.id);
      if (disabled.length) await this.failDisabled(m, disabled);

      const open = endpoints.filter((e) => e.enabled).map((e) => ({ ...e, ...capacityOf({ circuit: e.circuit, probeDue: e.probe_due, inFlight: inFlight.get(e.id) ?? 0 }, endpointConcurrency) }));
      const shares = shareSlots(open.map((e) => ({ endpointId: e.id, accountId: e.account_id, capacity: e.capacity })), free, this.accountCap, this.busy);
      if (!shares.size) return [];
      const ids = [...shares.keys()];
      const leased: Array<{ id: string; account_id: string; endpoint_id: string; lease_token: string; attempts: number; event_id: string; event: string; url: string; secret: string; payload: unknown; created: Date }> = await m.query(
        `WITH picked AS (
           SELECT p.id FROM unnest($1::uuid[], $2::int[]) AS x(endpoint_id, n)
           CROSS JOIN LATERAL (
             SELECT d.id FROM webhook_deliveries d
              WHERE d.endpoint_id = x.endpoint_id AND d.status = 'PENDING' AND d.next_attempt <= now()
                AND (d.lease_until IS NULL OR d.lease_until <= now())
              ORDER BY d.next_attempt, d.created, d.id
              LIMIT x.n
                FOR UPDATE SKIP LOCKED) p
         ), leased AS (
           UPDATE webhook_deliveries d
              SET lease_token = gen_random_uuid(), lease_until = now() + make_interval(secs => $3), job_token = NULL
             FROM picked WHERE d.id = picked.id
           RETURNING d.id, d.account_id, d.endpoint_id, d.lease_token, d.attempts, d.event_id, d.event
         )
         SELECT l.*, w.url, w.secret, e.payload, e.created
           FROM leased l
           JOIN webhook_endpoints w ON w.id = l.endpoint_id AND w.account_id = l.account_id
           JOIN events e ON e.id = l.event_id AND e.account_id = l.account_id`,
        [ids, ids.map((id) => shares.get(id)), deliveryTimeoutMs / 1000 + LEASE_MARGIN_SECONDS],
      );
      const probes = open.filter((e) => e.probe && shares.has(e.id)).map((e) => e.id);
      await m.query(
        `UPDATE webhook_endpoints SET last_dispatched = clock_timestamp(), circuit = CASE WHEN id = ANY($2) THEN 'half-open' ELSE circuit END WHERE id = ANY($1)`,
        [ids, probes],
      );
      return leased.map((d) => ({
        id: d.id,
        accountId: d.account_id,
        endpointId: d.endpoint_id,
        token: d.lease_token,
        attempts: d.attempts,
        probe: probes.includes(d.endpoint_id),
        url: d.url,
        secret: d.secret,
        eventId: d.event_id,
        body: JSON.stringify({ id: d.event_id, event: d.event, created: new Date(d.created).toISOString(), account: d.account_id, data: d.payload }),
      }));
    });
  }

  /** One attempt of a leased delivery, then its outcome. */
  async attempt(d: Leased): Promise<void> {
    const result = await postWebhook(
      { url: d.url, secret: d.secret, messageId: d.eventId, body: d.body },
      { timeoutMs: this.config.events.deliveryTimeoutMs, allowPrivate: this.config.events.allowPrivateUrls },
    );
    await this.record(d, result);
  }

  /** The attempt's outcome, the next attempt (WEBHOOKS_RETRY_SCHEDULE) and the endpoint's circuit, in one transaction. */
  private async record(d: Leased, result: AttemptResult): Promise<void> {
    const { retrySchedule, circuitThreshold, circuitProbeSeconds } = this.config.events;
    await this.db.transaction(async (m) => {
      const endpoints: Array<{ url: string; circuit: Circuit; consecutive_failures: number }> = await m.query(
        'SELECT url, circuit, consecutive_failures FROM webhook_endpoints WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE',
        [d.endpointId, d.accountId],
      );
      const endpoint = endpoints[0];
      if (!endpoint) return;
      const attempts = d.attempts + 1;
      // an attempt at the endpoint's former url says nothing about the new one: a failure there is retried at once
      const moved = endpoint.url !== d.url;
      const scheduled = result.ok ? undefined : retrySchedule[attempts - 1];
      const wait = moved && scheduled !== undefined ? 0 : scheduled;
      const status = result.ok ? 'DELIVERED' : wait === undefined ? 'FAILED' : 'PENDING';
      // (TypeORM answers an UPDATE with [rows, affected])
      const [, affected]: [unknown, number] = await m.query(
        `UPDATE webhook_deliveries
            SET status = $3::varchar, attempts = $4, last_status_code = $5, last_error = $6,
                next_attempt = CASE WHEN $3::varchar = 'PENDING' THEN clock_timestamp() + make_interval(secs => $7) END,
                delivered = CASE WHEN $3::varchar = 'DELIVERED' THEN clock_timestamp() ELSE delivered END,
                lease_token = NULL, lease_until = NULL, updated = clock_timestamp()
          WHERE id = $1 AND lease_token = $2`,
        [d.id, d.token, status, attempts, result.statusCode, result.error, wait ?? 0],
      );
      // the lease expired and the delivery went to another worker: its outcome is that worker's
      if (!affected) return;
      this.outcomes[status === 'DELIVERED' ? 'delivered' : status === 'FAILED' ? 'failed' : 'retrying']++;

      if (moved) return;
      const after = afterAttempt({ circuit: endpoint.circuit, failures: endpoint.consecutive_failures }, result.ok, d.probe, { threshold: circuitThreshold, probeSeconds: circuitProbeSeconds });
      if (after.openForSeconds !== null) {
        await this.open(m, d.endpointId, after.failures, after.openForSeconds);
      } else if (after.circuit !== endpoint.circuit || after.failures !== endpoint.consecutive_failures) {
        await m.query(
          `UPDATE webhook_endpoints SET circuit = $2::varchar, consecutive_failures = $3, next_probe = CASE WHEN $2::varchar = 'closed' THEN NULL ELSE next_probe END WHERE id = $1`,
          [d.endpointId, after.circuit, after.failures],
        );
      }
    });
  }

  /**
   * Opens the endpoint's circuit until the probe, and postpones its pending deliveries to it (their
   * own schedule still applies when it is later). One that would wait past its whole retry schedule
   * (created + the sum of WEBHOOKS_RETRY_SCHEDULE) fails now, as its last retry would have.
   */
  private async open(m: EntityManager, endpointId: string, failures: number, seconds: number): Promise<void> {
    await m.query(
      `UPDATE webhook_endpoints SET circuit = 'open', consecutive_failures = $2, next_probe = clock_timestamp() + make_interval(secs => $3) WHERE id = $1`,
      [endpointId, failures, seconds],
    );
    const span = this.config.events.retrySchedule.reduce((a, b) => a + b, 0);
    // (the probe's time is read in SQL: a JavaScript Date would drop its microseconds)
    const probe = '(SELECT next_probe FROM webhook_endpoints WHERE id = $1)';
    const idle = `endpoint_id = $1 AND status = 'PENDING' AND (lease_until IS NULL OR lease_until <= now())`;
    await m.query(
      `UPDATE webhook_deliveries
          SET status = 'FAILED', last_error = 'not attempted: the endpoint kept failing (circuit open) past the retry schedule',
              next_attempt = NULL, lease_token = NULL, lease_until = NULL, updated = clock_timestamp()
        WHERE ${idle} AND created + make_interval(secs => $2) < ${probe}`,
      [endpointId, span],
    );
    await m.query(
      `UPDATE webhook_deliveries SET next_attempt = ${probe}, lease_token = NULL, lease_until = NULL, updated = clock_timestamp()
        WHERE ${idle} AND next_attempt < ${probe}`,
      [endpointId],
    );
  }

  /** A disabled endpoint's due deliveries fail without an attempt. */
  private async failDisabled(m: EntityManager, endpointIds: string[]): Promise<void> {
    await m.query(
      `UPDATE webhook_deliveries
          SET status = 'FAILED', last_error = 'the endpoint is disabled', next_attempt = NULL, lease_token = NULL, lease_until = NULL, updated = clock_timestamp()
        WHERE endpoint_id = ANY($1) AND status = 'PENDING' AND next_attempt <= now() AND (lease_until IS NULL OR lease_until <= now())`,
      [endpointIds],
    );
  }

  /** At most one line a minute: a database outage must not flood the log. */
  private warn(message: string): void {
    if (Date.now() - this.lastError > 60_000) this.logger.warn(message);
    this.lastError = Date.now();
  }
}
