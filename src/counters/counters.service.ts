import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { copiedFrom } from '../jsonapi/serializer';
import { CatalogueService } from '../catalogue/catalogue.service';
import { COUNTERS_CHANNEL } from '../catalogue/catalogue-listener';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';

interface Tally {
  accountId: string;
  releaseId: string;
  downloads: number;
  upgrades: number;
}

/** Releases per NOTIFY payload (PostgreSQL caps a payload at 8,000 bytes; an entry is ~60). */
const NOTIFY_BATCH = 100;

/**
 * `downloads` and `upgrades` of releases, counted in memory and written every COUNTERS_FLUSH_MS
 * in one statement (never a database write per request), and on shutdown. The statement also
 * notifies the new totals, so every instance's catalogue shows them. Reads on this instance add
 * what is still pending (`withPending`).
 *
 * If a flush fails (database down), its counts go back to the pending tally and are retried.
 */
@Injectable()
export class CountersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Counters');
  private pending = new Map<string, Tally>();
  /** Counts of the flush in progress: still shown by withPending until the flush has committed. */
  private inflight = new Map<string, Tally>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private failing = false;
  /** Running totals of this process since it started (read by /metrics); never reset. */
  readonly totals = { checks: 0, downloads: 0, upgrades: 0 };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.countersFlushMs);
    this.timer.unref();
  }

  /** Runs before the database connection closes (Nest destroys modules before it shuts down TypeORM). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  countDownload(accountId: string, releaseId: string): void {
    this.totals.downloads++;
    this.tally(accountId, releaseId).downloads++;
  }

  countUpgrade(accountId: string, releaseId: string): void {
    this.totals.upgrades++;
    this.tally(accountId, releaseId).upgrades++;
  }

  /** An update check answered (with or without an update); only a total, nothing is written. */
  countCheck(): void {
    this.totals.checks++;
  }

  /** The release with the counts this instance has not written yet added (a copy when there are any). */
  withPending<T extends { id: string; accountId: string; downloads: number; upgrades: number }>(release: T): T {
    if (!this.pending.size && !this.inflight.size) return release;
    const key = tallyKey(release.accountId, release.id);
    const a = this.pending.get(key);
    const b = this.inflight.get(key);
    if (!a && !b) return release;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(release) as object) as T, release);
    copy.downloads += (a?.downloads ?? 0) + (b?.downloads ?? 0);
    copy.upgrades += (a?.upgrades ?? 0) + (b?.upgrades ?? 0);
    copiedFrom(copy, release);
    return copy;
  }

  /** Writes what is pending now (waits for a flush already running first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.size) return;
    this.flushing = this.write().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private tally(accountId: string, releaseId: string): Tally {
    const key = tallyKey(accountId, releaseId);
    let t = this.pending.get(key);
    if (!t) this.pending.set(key, (t = { accountId, releaseId, downloads: 0, upgrades: 0 }));
    return t;
  }

  private async write(): Promise<void> {
    this.inflight = this.pending;
    this.pending = new Map();
    const ids: string[] = [];
    const accounts: string[] = [];
    const downloads: number[] = [];
    const upgrades: number[] = [];
    for (const t of this.inflight.values()) {
      ids.push(t.releaseId);
      accounts.push(t.accountId);
      downloads.push(t.downloads);
      upgrades.push(t.upgrades);
    }
    try {
      const rows: Array<{ id: string; downloads: string; upgrades: string }> = await this.db.query(
        `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[]) AS v(id, account_id, d, u)),
              changed AS (
                UPDATE releases r SET downloads = r.downloads + v.d, upgrades = r.upgrades + v.u
                  FROM v WHERE r.id = v.id AND r.account_id = v.account_id
                RETURNING r.id, r.downloads, r.upgrades),
              notified AS (
                SELECT pg_notify($5, string_agg(id || ':' || downloads || ':' || upgrades, ',')) FROM (
                  SELECT id, downloads, upgrades, (row_number() OVER ()) / ${NOTIFY_BATCH} AS batch FROM changed) b
                GROUP BY batch)
         SELECT id, downloads, upgrades, (SELECT count(*) FROM notified) AS notifications FROM changed`,
        [ids, accounts, downloads, upgrades, COUNTERS_CHANNEL],
      );
      this.catalogue.applyCounters(rows.map((r) => ({ id: r.id, downloads: Number(r.downloads), upgrades: Number(r.upgrades) })));
      if (this.failing) this.logger.log('counters written again');
      this.failing = false;
    } catch (error) {
      // keep the counts for the next flush
      for (const t of this.inflight.values()) {
        const p = this.tally(t.accountId, t.releaseId);
        p.downloads += t.downloads;
        p.upgrades += t.upgrades;
      }
      if (!this.failing) this.logger.warn(`writing counters failed, will retry: ${(error as Error).message}`);
      this.failing = true;
    } finally {
      this.inflight = new Map();
    }
  }
}

/** Counts are kept per account and release (a count never reaches another account's row). */
function tallyKey(accountId: string, releaseId: string): string {
  return `${accountId}:${releaseId}`;
}
