import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { EventsService } from '../events/events.service';
import type { NewEvent } from '../events/events.service';
import { copiedFrom, toResource } from '../jsonapi/serializer';
import type { ResourceObject } from '../jsonapi/serializer';
import { Release } from '../releases/release.entity';
import { ReleaseSerializer } from '../releases/release.serializer';
import { PendingCounts } from '../releases/pending-counts';
import { innerMap } from '../common/maps';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';

interface Tally {
  accountId: string;
  releaseId: string;
  downloads: number;
  upgrades: number;
}

/**
 * Counted uses with the same release, caller and starting version, since the last flush: one
 * `artifact.downloaded` or `release.upgraded` event each, with `count` (an app polling every
 * minute makes one event per flush, not one per poll).
 */
interface Use {
  event: 'artifact.downloaded' | 'release.upgraded';
  accountId: string;
  releaseId: string;
  license: string | null;
  user: string | null;
  /** The version the caller ran (upgrades). */
  from: string | null;
  count: number;
}

/** Counts by account, then release: nested maps of ids the request already holds (no key is built per count). */
class Tallies {
  private readonly byAccount = new Map<string, Map<string, Tally>>();

  get isEmpty(): boolean {
    return this.byAccount.size === 0;
  }

  get(accountId: string, releaseId: string): Tally | undefined {
    return this.byAccount.get(accountId)?.get(releaseId);
  }

  tally(accountId: string, releaseId: string): Tally {
    const releases = innerMap(this.byAccount, accountId);
    let t = releases.get(releaseId);
    if (!t) releases.set(releaseId, (t = { accountId, releaseId, downloads: 0, upgrades: 0 }));
    return t;
  }

  *values(): IterableIterator<Tally> {
    for (const releases of this.byAccount.values()) yield* releases.values();
  }
}

/**
 * Counted uses added up by event, account, release, caller and starting version: nested maps of
 * strings the request already holds, so that counting one more use builds no key.
 */
class UseTally {
  private readonly byEvent = new Map<Use['event'], Map<string, Map<string, Map<string, Map<string, Use>>>>>();
  size = 0;

  add(event: Use['event'], accountId: string, releaseId: string, license: string | null, user: string | null, from: string | null, count: number): void {
    // license and user ids are both UUIDs: the prefix keeps the two kinds apart all the same
    const caller = license ?? (user === null ? '' : `user:${user}`);
    const versions = innerMap(innerMap(innerMap(innerMap(this.byEvent, event), accountId), releaseId), caller);
    const use = versions.get(from ?? '');
    if (use) {
      use.count += count;
      return;
    }
    versions.set(from ?? '', { event, accountId, releaseId, license, user, from, count });
    this.size++;
  }

  *values(): IterableIterator<Use> {
    for (const accounts of this.byEvent.values())
      for (const releases of accounts.values()) for (const callers of releases.values()) for (const versions of callers.values()) yield* versions.values();
  }
}

/** The channel flushed totals are notified on (`<id>:<downloads>:<upgrades>,...`, see parseCounters). */
export const COUNTERS_CHANNEL = 'shipgate_counters';

/** A release's counters as some instance's flush wrote them (absolute: counters only grow). */
export interface CounterTotals {
  id: string;
  downloads: number;
  upgrades: number;
}

/** How long flushed totals are kept for loads running meanwhile (a load takes well under this). */
const RECENT_TOTALS_MS = 60_000;

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
export class CountersService implements PendingCounts, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Counters');
  /** By account, then release (a count never reaches another account's row). */
  private pending = new Tallies();
  /** Counts of the flush in progress: still shown by withPending until the flush has committed. */
  private inflight = new Tallies();
  private uses = new UseTally();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private failing = false;
  /**
   * Grows whenever a counter that answers may show moves: counted here, or flushed by any instance.
   * An answer that shows counters is kept only while it stands still.
   */
  version = 0;
  /** Totals flushed lately by any instance (oldest first), for loads whose snapshot predates them. */
  private readonly recent = new Map<string, CounterTotals & { at: number }>();
  private readonly totalsListeners: Array<(rows: readonly CounterTotals[]) => void> = [];
  /** Running totals of this process since it started (read by /metrics); never reset. */
  readonly totals = { checks: 0, downloads: 0, upgrades: 0 };
  /** Downloads per artifact not written yet (written with the releases' counters). */
  private artifactDownloads = new Map<string, { accountId: string; downloads: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
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

  /** A download by a customer (`bearer`: for its event; a HEAD's probe counts nothing). */
  /** One download of a 1.1 release's artifact (besides its release's, which countDownload counts). */
  countArtifactDownload(accountId: string, artifactId: string): void {
    this.version++;
    const t = this.artifactDownloads.get(artifactId);
    if (t) t.downloads++;
    else this.artifactDownloads.set(artifactId, { accountId, downloads: 1 });
  }

  countDownload(accountId: string, releaseId: string, bearer?: Bearer): void {
    if (bearer?.probe) return;
    this.totals.downloads++;
    this.tally(accountId, releaseId).downloads++;
    if (bearer) this.use('artifact.downloaded', accountId, releaseId, bearer, null);
  }

  /** An upgrade offered to a customer (`bearer`, running `from`: for its event; a HEAD's probe counts nothing). */
  countUpgrade(accountId: string, releaseId: string, bearer?: Bearer, from?: string): void {
    if (bearer?.probe) return;
    this.totals.upgrades++;
    this.tally(accountId, releaseId).upgrades++;
    if (bearer) this.use('release.upgraded', accountId, releaseId, bearer, from ?? null);
  }

  private use(event: Use['event'], accountId: string, releaseId: string, bearer: Bearer, from: string | null): void {
    const license = bearer.kind === 'license' ? bearer.license.id : null;
    const user = bearer.kind === 'user' ? bearer.userId : null;
    this.uses.add(event, accountId, releaseId, license, user, from, 1);
  }

  /** An update check answered (with or without an update); only a total, nothing is written. */
  countCheck(): void {
    this.totals.checks++;
  }

  /** The release with the counts this instance has not written yet added (a copy when there are any). */
  withPending<T extends { id: string; accountId: string; downloads: number; upgrades: number }>(release: T): T {
    if (this.pending.isEmpty && this.inflight.isEmpty) return release;
    const a = this.pending.get(release.accountId, release.id);
    const b = this.inflight.get(release.accountId, release.id);
    if (!a && !b) return release;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(release) as object) as T, release);
    copy.downloads += (a?.downloads ?? 0) + (b?.downloads ?? 0);
    copy.upgrades += (a?.upgrades ?? 0) + (b?.upgrades ?? 0);
    copiedFrom(copy, release);
    return copy;
  }

  /**
   * Absolute totals written by some instance's flush (this one's, or another's through
   * COUNTERS_CHANNEL): kept a minute for loads running meanwhile, and passed to the listeners
   * (the catalogue raises the counters of the releases it holds).
   */
  applyTotals(rows: readonly CounterTotals[]): void {
    this.version++;
    const now = Date.now();
    for (const [id, c] of this.recent) {
      if (now - c.at <= RECENT_TOTALS_MS) break; // oldest first
      this.recent.delete(id);
    }
    for (const row of rows) {
      this.recent.delete(row.id);
      this.recent.set(row.id, { ...row, at: now });
    }
    for (const listener of this.totalsListeners) listener(rows);
  }

  /** Calls `listener` with every applyTotals' rows. */
  onTotals(listener: (rows: readonly CounterTotals[]) => void): void {
    this.totalsListeners.push(listener);
  }

  /** The latest totals flushed for a release in the last minute, if any (a load's snapshot may predate them). */
  recentTotals(releaseId: string): CounterTotals | undefined {
    return this.recent.get(releaseId);
  }

  /** Writes what is pending now (waits for a flush already running first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.isEmpty && !this.uses.size && !this.artifactDownloads.size) return;
    this.flushing = this.write().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private recordUses(m: EntityManager, uses: UseTally, totals: Map<string, { downloads: number; upgrades: number }>): Promise<void> {
    return recordUsesIn(m, this.events, uses, totals);
  }

  private tally(accountId: string, releaseId: string): Tally {
    this.version++;
    return this.pending.tally(accountId, releaseId);
  }

  private async write(): Promise<void> {
    this.inflight = this.pending;
    this.pending = new Tallies();
    const uses = this.uses;
    this.uses = new UseTally();
    const perArtifact = this.artifactDownloads;
    this.artifactDownloads = new Map();
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
      // the counts, their daily rollup (analytics) and their events commit together
      const rows = await this.db.transaction(async (m) => {
        const counted: Array<{ id: string; downloads: string; upgrades: string }> = await m.query(
          `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[]) AS v(id, account_id, d, u)),
                changed AS (
                  UPDATE releases r SET downloads = r.downloads + v.d, upgrades = r.upgrades + v.u
                    FROM v WHERE r.id = v.id AND r.account_id = v.account_id
                  RETURNING r.id, r.account_id, r.product_id, r.version, r.platform, r.channel, r.downloads, r.upgrades, v.d, v.u),
                daily AS (
                  INSERT INTO analytics_daily (account_id, product_id, day, version, platform, channel, downloads, upgrades)
                  -- a 1.1 release whose artifacts name no platform (a wheel, an npm tarball) has none: ''
                  SELECT account_id, product_id, (now() AT TIME ZONE 'UTC')::date, version, COALESCE(platform, ''), channel, sum(d), sum(u)
                    FROM changed GROUP BY account_id, product_id, version, COALESCE(platform, ''), channel
                   ORDER BY product_id, version, COALESCE(platform, ''), channel
                  ON CONFLICT (product_id, day, version, platform, channel) DO UPDATE
                     SET downloads = analytics_daily.downloads + EXCLUDED.downloads, upgrades = analytics_daily.upgrades + EXCLUDED.upgrades),
                notified AS (
                  SELECT pg_notify($5, string_agg(id || ':' || downloads || ':' || upgrades, ',')) FROM (
                    SELECT id, downloads, upgrades, (row_number() OVER ()) / ${NOTIFY_BATCH} AS batch FROM changed) b
                  GROUP BY batch)
           SELECT id, downloads, upgrades, (SELECT count(*) FROM notified) AS notifications FROM changed`,
          [ids, accounts, downloads, upgrades, COUNTERS_CHANNEL],
        );
        await this.recordUses(m, uses, new Map(counted.map((r) => [r.id, { downloads: Number(r.downloads), upgrades: Number(r.upgrades) }])));
        if (perArtifact.size) {
          const entries = [...perArtifact];
          await m.query(
            `UPDATE artifacts a SET downloads = a.downloads + v.d
               FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS v(id, account_id, d)
              WHERE a.id = v.id AND a.account_id = v.account_id`,
            [entries.map(([id]) => id), entries.map(([, t]) => t.accountId), entries.map(([, t]) => t.downloads)],
          );
        }
        return counted;
      });
      this.applyTotals(rows.map((r) => ({ id: r.id, downloads: Number(r.downloads), upgrades: Number(r.upgrades) })));
      if (this.failing) this.logger.log('counters written again');
      this.failing = false;
    } catch (error) {
      // keep the counts for the next flush
      for (const t of this.inflight.values()) {
        const p = this.tally(t.accountId, t.releaseId);
        p.downloads += t.downloads;
        p.upgrades += t.upgrades;
      }
      for (const u of uses.values()) this.uses.add(u.event, u.accountId, u.releaseId, u.license, u.user, u.from, u.count);
      for (const [id, t] of perArtifact) {
        const kept = this.artifactDownloads.get(id);
        if (kept) kept.downloads += t.downloads;
        else this.artifactDownloads.set(id, t);
      }
      if (!this.failing) this.logger.warn(`writing counters failed, will retry: ${(error as Error).message}`);
      this.failing = true;
    } finally {
      this.inflight = new Tallies();
      this.version++;
    }
  }
}

/**
 * Events of counted uses, in the flush's transaction: the release as the API shows it (with the
 * counters this flush wrote), the caller, the versions: the releases in one query, each release's
 * resource serialized once per flush.
 */
async function recordUsesIn(
  m: EntityManager,
  events: EventsService,
  uses: UseTally,
  totals: Map<string, { downloads: number; upgrades: number }>,
): Promise<void> {
  if (!uses.size) return;
  const ids = new Set<string>();
  for (const u of uses.values()) ids.add(u.releaseId);
  const releases = new Map<string, Release>();
  for (const r of await m.find(Release, { where: { id: In([...ids]) } })) releases.set(r.id, r);
  const resources = new Map<string, { resource: ResourceObject; json: string }>();
  const out: NewEvent[] = [];
  for (const u of uses.values()) {
    const release = releases.get(u.releaseId);
    if (!release || release.accountId !== u.accountId) continue; // deleted since
    let r = resources.get(release.id);
    if (!r) {
      const resource = toResource(ReleaseSerializer, release);
      const counted = totals.get(release.id);
      if (counted && resource.attributes) Object.assign(resource.attributes, counted);
      resources.set(release.id, (r = { resource, json: JSON.stringify(resource) }));
    }
    const versions = u.event === 'release.upgraded' ? { fromVersion: u.from, toVersion: release.version } : { version: release.version };
    out.push({
      accountId: u.accountId,
      event: u.event,
      resource: r.resource,
      // {release, license, user, versions..., count}: the release's JSON made once above, and sent once (shared)
      payloadJson: JSON.stringify({ license: u.license, user: u.user, ...versions, count: u.count }),
      shared: { name: 'release', json: r.json },
    });
  }
  await events.recordMany(m, out);
}

/** `<id>:<downloads>:<upgrades>,...` (written by CountersService.flush). */
export function parseCounters(payload: string): CounterTotals[] {
  const rows: CounterTotals[] = [];
  for (const item of payload.split(',')) {
    const [id, downloads, upgrades] = item.split(':');
    if (id && downloads !== undefined && upgrades !== undefined) rows.push({ id, downloads: Number(downloads), upgrades: Number(upgrades) });
  }
  return rows;
}
