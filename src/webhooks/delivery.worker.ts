import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { JobQueue, QUEUES } from '../queue/job-queue';
import { postWebhook } from './webhook-sender';
import type { AttemptResult } from './webhook-sender';

export interface DeliveryJob {
  deliveryId: string;
  /** The delivery's job_token when the job was made: a job whose token is no longer the delivery's is void. */
  token: string;
}

interface DueDelivery {
  id: string;
  account_id: string;
  event_id: string;
  event: string;
  status: string;
  attempts: number;
  job_token: string | null;
  url: string;
  secret: string;
  enabled: boolean;
  payload: unknown;
  created: Date;
}

/** Thrown so that pg-boss hands the job out again later (the delivery is busy elsewhere). */
class DeliveryBusy extends Error {}

/**
 * Delivers webhook jobs: locks the delivery row for the attempt (so that two workers, on any
 * instances, never attempt one delivery at once), POSTs the signed body, and in the same
 * transaction records the outcome and, after a failure, inserts the job of the next attempt
 * (WEBHOOKS_RETRY_SCHEDULE) or marks the delivery FAILED. A worker that dies mid-attempt rolls the
 * transaction back; pg-boss expires its job and hands it out again (at least once).
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap {
  /** Attempts made by this process since it started, by outcome (read by /metrics). */
  readonly outcomes = { delivered: 0, retrying: 0, failed: 0 };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.queue.workersEnabled) return;
    await this.queue.work<DeliveryJob>(QUEUES.webhookDelivery, this.config.events.workers, (job) => this.attempt(job));
  }

  /** One attempt of the delivery the job names (nothing when the job is void). */
  async attempt(job: DeliveryJob): Promise<void> {
    await this.db.transaction(async (m) => {
      const rows: DueDelivery[] = await m.query(
        `SELECT d.id, d.account_id, d.event_id, d.event, d.status, d.attempts, d.job_token, w.url, w.secret, w.enabled, e.payload, e.created
           FROM webhook_deliveries d
           JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.account_id = d.account_id
           JOIN events e ON e.id = d.event_id AND e.account_id = d.account_id
          WHERE d.id = $1
          FOR UPDATE OF d SKIP LOCKED`,
        [job.deliveryId],
      );
      const d = rows[0];
      if (!d) {
        const current: Array<{ job_token: string | null }> = await m.query('SELECT job_token FROM webhook_deliveries WHERE id = $1', [job.deliveryId]);
        // locked by a worker attempting it now: try again later (gone or void: nothing to do)
        if (current[0]?.job_token === job.token) throw new DeliveryBusy('the delivery is being attempted by another worker');
        return;
      }
      if (d.job_token !== job.token || d.status !== 'PENDING') return;
      if (!d.enabled) {
        await m.query(
          `UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'the endpoint is disabled', next_attempt = NULL, job_token = NULL, updated = clock_timestamp() WHERE id = $1`,
          [d.id],
        );
        return;
      }
      const body = JSON.stringify({ id: d.event_id, event: d.event, created: new Date(d.created).toISOString(), account: d.account_id, data: d.payload });
      const result = await postWebhook(
        { url: d.url, secret: d.secret, messageId: d.event_id, body },
        { timeoutMs: this.config.events.deliveryTimeoutMs, allowPrivate: this.config.events.allowPrivateUrls },
      );
      await this.record(m, d, result);
    });
  }

  private async record(m: EntityManager, d: DueDelivery, result: AttemptResult): Promise<void> {
    const attempts = d.attempts + 1;
    if (result.ok) {
      this.outcomes.delivered++;
      await m.query(
        `UPDATE webhook_deliveries SET status = 'DELIVERED', attempts = $2, last_status_code = $3, last_error = NULL, next_attempt = NULL,
                delivered = clock_timestamp(), job_token = NULL, updated = clock_timestamp() WHERE id = $1`,
        [d.id, attempts, result.statusCode],
      );
      return;
    }
    const wait = this.config.events.retrySchedule[attempts - 1];
    if (wait === undefined) {
      this.outcomes.failed++;
      await m.query(
        `UPDATE webhook_deliveries SET status = 'FAILED', attempts = $2, last_status_code = $3, last_error = $4, next_attempt = NULL,
                job_token = NULL, updated = clock_timestamp() WHERE id = $1`,
        [d.id, attempts, result.statusCode, result.error],
      );
      return;
    }
    this.outcomes.retrying++;
    const token = randomUUID();
    const next = new Date(Date.now() + wait * 1000);
    await m.query(
      `UPDATE webhook_deliveries SET attempts = $2, last_status_code = $3, last_error = $4, next_attempt = $5, job_token = $6,
              updated = clock_timestamp() WHERE id = $1`,
      [d.id, attempts, result.statusCode, result.error, next, token],
    );
    await this.queue.enqueue(m, [{ name: QUEUES.webhookDelivery, data: { deliveryId: d.id, token }, startAfter: next.toISOString() }]);
  }
}
