import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';

/**
 * The queues Shipgate uses, with their pg-boss options (created at start; creating is idempotent).
 * Webhook deliveries are not among them: their rows are their queue, picked fairly per endpoint
 * (src/webhooks/delivery.worker.ts). A `shipgate.webhook-delivery` queue left by an older version
 * is not worked; its jobs name deliveries whose token no longer matches and expire.
 */
export const QUEUES = {
  /** Deletes events past the retention (scheduled hourly, and once at start). */
  eventsPrune: 'shipgate.events-prune',
} as const;

const QUEUE_OPTIONS: Record<string, PgBoss.Queue> = {
  [QUEUES.eventsPrune]: { name: QUEUES.eventsPrune, retryLimit: 2, retryDelay: 60, expireInSeconds: 900, policy: 'singleton' },
};

/** Advisory-lock key under which instances set the queue up one at a time. */
const QUEUE_SETUP_LOCK_KEY = 7_305_218_462;

export type JobInsert = { name: string; data: object; startAfter?: string };

/**
 * pg-boss on the application's own PostgreSQL (its tables in schema `pgboss`, created and migrated
 * by pg-boss under its own lock, so instances may start together). Jobs are inserted with
 * `enqueue(manager, ...)` inside the transaction of the change they belong to: they exist exactly
 * when the change committed. Workers (WORKERS > 0) fetch with SKIP LOCKED, so several instances
 * share the jobs and each job goes to one of them.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Queue');
  private boss: PgBoss | undefined;
  private running = false;
  private lastError = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig & { databaseUrl?: string },
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  get workersEnabled(): boolean {
    return this.config.events.workers > 0;
  }

  async onModuleInit(): Promise<void> {
    const working = this.workersEnabled;
    const boss = new PgBoss({
      connectionString: this.config.databaseUrl,
      max: working ? 4 : 2,
      application_name: 'shipgate-queue',
      // maintenance (expiring, archiving) and cron schedules: on the instances that run workers
      supervise: working,
      schedule: working,
      migrate: true,
    });
    boss.on('error', (error: Error) => {
      // at most one line a minute: a database outage must not flood the log
      if (Date.now() - this.lastError > 60_000) this.logger.warn(`queue: ${error.message}`);
      this.lastError = Date.now();
    });
    // pg-boss creating its schema (or a queue) from several instances at once can deadlock on a
    // fresh database: instances take turns, as with migrations
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [QUEUE_SETUP_LOCK_KEY]);
      try {
        await boss.start();
        for (const options of Object.values(QUEUE_OPTIONS)) await boss.createQueue(options.name, options);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [QUEUE_SETUP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
    this.boss = boss;
    this.running = true;
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // waits for jobs in progress (the pruning), then closes pg-boss's
    // pool; `enqueue` keeps working (it uses the caller's transaction), e.g. for the last counters flush
    await this.boss?.stop({ graceful: true, wait: true, timeout: this.config.events.deliveryTimeoutMs + 2000 });
  }

  /** Inserts jobs in the transaction `manager` runs (they exist exactly when it commits). */
  async enqueue(manager: EntityManager, jobs: JobInsert[]): Promise<void> {
    if (!jobs.length) return;
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) throw new Error('jobs are enqueued inside the transaction of their change');
    if (!this.boss) throw new Error('the job queue has not started');
    await this.boss.insert(jobs, {
      db: { executeSql: async (text: string, values: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }) },
    } as PgBoss.InsertOptions);
  }

  /** Sends a job outside any transaction (scheduled maintenance). */
  async send(name: string, data: object = {}): Promise<void> {
    await this.started().send(name, data);
  }

  /** Runs `handler` for jobs of `name`, `concurrency` at a time (one pg-boss worker each). */
  async work<T extends object>(name: string, concurrency: number, handler: (data: T) => Promise<void>): Promise<void> {
    const boss = this.started();
    for (let i = 0; i < concurrency; i++) {
      await boss.work<T>(name, { batchSize: 1, pollingIntervalSeconds: this.config.events.pollSeconds }, async ([job]) => handler(job.data));
    }
  }

  /** A cron schedule (pg-boss sends the job from one instance at each time). */
  async schedule(name: string, cron: string): Promise<void> {
    await this.started().schedule(name, cron, {}, { tz: 'UTC' });
  }

  private started(): PgBoss {
    if (!this.boss || !this.running) throw new Error('the job queue is not running');
    return this.boss;
  }
}
