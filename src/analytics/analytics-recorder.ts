import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';

/** What an update check tells about the caller's install. */
export interface CheckFacts {
  accountId: string;
  productId: string;
  platform: string;
  /** The channel the caller asked for (`stable` when it named none). */
  channel: string;
  /** The version the caller runs, as the route parsed it (e.g. a SemVer's `.version`). */
  version: string;
  /** An anonymous caller's `installId`, when it sent one. */
  installId?: string;
}

/** One install's checks since the last flush. */
interface InstallTally {
  version: string;
  platform: string;
  channel: string;
  /** Epoch milliseconds of its last check. */
  lastSeen: number;
  /** Checks reporting (version, platform, channel) on `day`. */
  checks: number;
  day: number;
}

/** One product's installs since the last flush, by kind (ids of different kinds never collide). */
interface ProductTally {
  accountId: string;
  licenses: Map<string, InstallTally>;
  users: Map<string, InstallTally>;
  installs: Map<string, InstallTally>;
}

/**
 * An install's last check of a day that ended before the flush (the install checked again after
 * midnight UTC): written before its tally, so that the day keeps it in analytics_day_installs.
 */
interface DayEnd {
  accountId: string;
  productId: string;
  /** `l:`, `u:` or `i:` and the id, as analytics_installs keys it. */
  identity: string;
  version: string;
  platform: string;
  channel: string;
  lastSeen: number;
}

/** Checks that no longer match their install's tally (it reported another version, or a day passed). */
interface SpilledChecks {
  accountId: string;
  productId: string;
  day: number;
  version: string;
  platform: string;
  channel: string;
  checks: number;
}

const DAY_MS = 86_400_000;
/** The prefix of each kind of install in analytics_installs.identity. */
const PREFIX = { licenses: 'l:', users: 'u:', installs: 'i:' } as const;
/** Advisory-lock key that serialises analytics flushes across instances. */
const ANALYTICS_FLUSH_LOCK_KEY = 7_305_218_463;
/** Longest version or platform kept (the columns' width). */
const MAX_TEXT = 255;

/**
 * Adoption analytics from update checks, with no database write per request: `recordCheck` is a
 * synchronous in-memory tally (two map lookups and a few field writes once an install has been
 * seen in the current interval), and every ANALYTICS_FLUSH_MS the tallies are written in one
 * transaction: the last version each install reported (`analytics_installs`, one row per license,
 * user or installId and product), those installs counted by the day of their last check and
 * version (`analytics_last_seen`, moved in step: the versions table reads these few rows), the
 * installs that checked on each day by the version of their last check that day
 * (`analytics_day_installs`, moved in step too: the adoption series reads it), and daily check
 * counts per version (`analytics_daily`).
 *
 * An install counts once per day: its first check of a day adds it to that day, a later check of
 * the same day with another version, platform or channel moves it within the day. Instances
 * flush one at a time, and a flush never moves an install back to an older check; so a check that
 * reaches the database after a newer check of the same install (one instance flushed a later
 * check first) is not counted for its day if that day is older: a few seconds of checks at
 * midnight, at worst, when one install checks through several instances.
 *
 * Only customers' checks are recorded: a license, a user token (counted per user), or an
 * anonymous caller that sends `installId`; admins and product tokens are internal.
 */
@Injectable()
export class AnalyticsRecorder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Analytics');
  private pending = new Map<string, ProductTally>();
  /** Spilled checks added up per product, day, version, platform and channel (see spill). */
  private spilled = new Map<string, SpilledChecks>();
  /** Installs' last checks of a day that ended since the last flush, oldest first (see DayEnd). */
  private dayEnds: DayEnd[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private failing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.events.analyticsFlushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Records one update check by `bearer` (ignored for admins, product tokens, anonymous callers
   * without an installId, and HEAD requests). Synchronous, no I/O: call it on the hot path.
   */
  recordCheck(bearer: Bearer, check: CheckFacts): void {
    if (bearer.probe) return; // a HEAD
    let kind: 'licenses' | 'users' | 'installs';
    let id: string;
    switch (bearer.kind) {
      case 'license':
        kind = 'licenses';
        id = bearer.license.id;
        break;
      case 'user':
        kind = 'users';
        id = bearer.userId;
        break;
      case 'anonymous':
        if (check.installId === undefined) return;
        kind = 'installs';
        id = check.installId;
        break;
      default:
        return;
    }
    let product = this.pending.get(check.productId);
    if (!product) {
      product = { accountId: check.accountId, licenses: new Map(), users: new Map(), installs: new Map() };
      this.pending.set(check.productId, product);
    }
    const now = Date.now();
    const day = Math.floor(now / DAY_MS);
    const tallies = product[kind];
    const tally = tallies.get(id);
    if (!tally) {
      tallies.set(id, { version: check.version, platform: check.platform, channel: check.channel, lastSeen: now, checks: 1, day });
      return;
    }
    if (tally.version !== check.version || tally.platform !== check.platform || tally.channel !== check.channel || tally.day !== day) {
      spill(this.spilled, { accountId: product.accountId, productId: check.productId, day: tally.day, version: tally.version, platform: tally.platform, channel: tally.channel, checks: tally.checks });
      // midnight passed since its last check (rare: at most once a day per install)
      if (tally.day !== day) this.dayEnds.push(dayEndOf(product.accountId, check.productId, PREFIX[kind] + id, tally));
      tally.version = check.version;
      tally.platform = check.platform;
      tally.channel = check.channel;
      tally.day = day;
      tally.checks = 0;
    }
    tally.checks++;
    tally.lastSeen = now;
  }

  /** Writes what was recorded so far (waits for a flush already running first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.size && !this.spilled.size && !this.dayEnds.length) return;
    this.flushing = this.write().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private async write(): Promise<void> {
    const pending = this.pending;
    const spilled = this.spilled;
    const dayEnds = this.dayEnds;
    this.pending = new Map();
    this.spilled = new Map();
    this.dayEnds = [];

    // each install's days in order: the days that ended since the last flush, then its tally
    const visits: DayEnd[] = [...dayEnds];
    for (const [productId, product] of pending) {
      for (const kind of KINDS) {
        for (const [id, t] of product[kind]) {
          visits.push(dayEndOf(product.accountId, productId, PREFIX[kind] + id, t));
          spill(spilled, { accountId: product.accountId, productId, day: t.day, version: t.version, platform: t.platform, channel: t.channel, checks: t.checks });
        }
      }
    }
    // a fixed order, so that instances flushing the same rows at once cannot deadlock
    const rows = [...spilled.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    try {
      await this.db.transaction(async (m) => {
        // instances flush one at a time: each statement then sees the rows the previous flush wrote,
        // so that the last-seen and per-day buckets move exactly with the install rows
        await m.query('SELECT pg_advisory_xact_lock($1)', [ANALYTICS_FLUSH_LOCK_KEY]);
        // an install is written once per statement: one round per visit (almost always one round)
        for (const round of rounds(visits)) await writeInstalls(m, round);
        await m.query(
          `INSERT INTO analytics_daily (account_id, product_id, day, version, platform, channel, checks)
           SELECT c.account_id, c.product_id, date '1970-01-01' + c.day, c.version, c.platform, c.channel, c.checks
             FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::varchar[], $5::varchar[], $6::varchar[], $7::bigint[])
                  AS c(account_id, product_id, day, version, platform, channel, checks)
             JOIN products p ON p.id = c.product_id AND p.account_id = c.account_id
           ON CONFLICT (product_id, day, version, platform, channel) DO UPDATE SET checks = analytics_daily.checks + EXCLUDED.checks`,
          [
            rows.map((r) => r.accountId),
            rows.map((r) => r.productId),
            rows.map((r) => r.day),
            rows.map((r) => r.version.slice(0, MAX_TEXT)),
            rows.map((r) => r.platform.slice(0, MAX_TEXT)),
            rows.map((r) => r.channel),
            rows.map((r) => r.checks),
          ],
        );
      });
      if (this.failing) this.logger.log('analytics written again');
      this.failing = false;
    } catch (error) {
      this.keepForRetry(pending, dayEnds, rows);
      if (!this.failing) this.logger.warn(`writing analytics failed, will retry: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /**
   * What a failed flush held goes back for the next one: the daily counts, the days that ended,
   * and each install's tally unless it has checked since (then that tally supersedes it, and the
   * old one's day, when older, is kept as a day that ended).
   */
  private keepForRetry(pending: Map<string, ProductTally>, dayEnds: DayEnd[], rows: SpilledChecks[]): void {
    for (const r of rows) spill(this.spilled, r);
    const ended: DayEnd[] = [...dayEnds];
    for (const [productId, product] of pending) {
      let now = this.pending.get(productId);
      if (!now) {
        now = { accountId: product.accountId, licenses: new Map(), users: new Map(), installs: new Map() };
        this.pending.set(productId, now);
      }
      for (const kind of KINDS) {
        for (const [id, t] of product[kind]) {
          // its checks are in the daily counts put back above
          t.checks = 0;
          const newer = now[kind].get(id);
          if (!newer) now[kind].set(id, t);
          else if (newer.day !== t.day) ended.push(dayEndOf(product.accountId, productId, PREFIX[kind] + id, t));
        }
      }
    }
    this.dayEnds = [...ended, ...this.dayEnds];
  }
}

const KINDS = ['licenses', 'users', 'installs'] as const;

function dayEndOf(accountId: string, productId: string, identity: string, t: InstallTally): DayEnd {
  return { accountId, productId, identity, version: t.version, platform: t.platform, channel: t.channel, lastSeen: t.lastSeen };
}

/** Splits visits into rounds in which each install appears once, its visits in order across rounds. */
function rounds(visits: DayEnd[]): DayEnd[][] {
  const out: DayEnd[][] = [];
  const seen = new Map<string, number>();
  for (const v of visits) {
    const key = `${v.productId}\u0000${v.identity}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    (out[n] ??= []).push(v);
  }
  return out;
}

/**
 * Writes installs' checks (one per install) to analytics_installs, and moves analytics_last_seen
 * and analytics_day_installs with them in the same statement: the install leaves the bucket of its
 * previous last check and joins the new one; for the per-day table it leaves its previous row only
 * when that was on the same day (another version, platform or channel the same day), and a first
 * check of a day adds it to that day. A check older than the install's row changes nothing.
 */
async function writeInstalls(m: EntityManager, visits: DayEnd[]): Promise<void> {
  await m.query(
    `WITH i AS (
       SELECT i.* FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::timestamptz[])
              AS i(account_id, product_id, identity, version, platform, channel, last_seen)
         JOIN products p ON p.id = i.product_id AND p.account_id = i.account_id),
     old AS (
       SELECT a.product_id, a.identity, a.version, a.platform, a.channel, a.last_seen
         FROM analytics_installs a JOIN i ON a.product_id = i.product_id AND a.identity = i.identity),
     up AS (
       INSERT INTO analytics_installs (account_id, product_id, identity, version, platform, channel, last_seen)
       SELECT * FROM i ORDER BY product_id, identity
       ON CONFLICT (product_id, identity) DO UPDATE
          SET version = EXCLUDED.version, platform = EXCLUDED.platform, channel = EXCLUDED.channel, last_seen = EXCLUDED.last_seen
        WHERE analytics_installs.last_seen <= EXCLUDED.last_seen
       RETURNING account_id, product_id, identity, version, platform, channel, last_seen),
     moves AS (
       SELECT account_id, product_id, (last_seen AT TIME ZONE 'UTC')::date AS day, version, platform, channel, 1 AS n, true AS within_day FROM up
       UNION ALL
       SELECT up.account_id, old.product_id, (old.last_seen AT TIME ZONE 'UTC')::date, old.version, old.platform, old.channel, -1,
              (old.last_seen AT TIME ZONE 'UTC')::date = (up.last_seen AT TIME ZONE 'UTC')::date
         FROM old JOIN up ON up.product_id = old.product_id AND up.identity = old.identity),
     last_seen AS (
       INSERT INTO analytics_last_seen (account_id, product_id, day, version, platform, channel, installs)
       SELECT account_id, product_id, day, version, platform, channel, sum(n) FROM moves
        GROUP BY account_id, product_id, day, version, platform, channel HAVING sum(n) <> 0
        ORDER BY product_id, day, version, platform, channel
       ON CONFLICT (product_id, day, version, platform, channel) DO UPDATE SET installs = analytics_last_seen.installs + EXCLUDED.installs)
     INSERT INTO analytics_day_installs (account_id, product_id, day, version, platform, channel, installs)
     SELECT account_id, product_id, day, version, platform, channel, sum(n) FROM moves WHERE within_day
      GROUP BY account_id, product_id, day, version, platform, channel HAVING sum(n) <> 0
      ORDER BY product_id, day, version, platform, channel
     ON CONFLICT (product_id, day, version, platform, channel) DO UPDATE SET installs = analytics_day_installs.installs + EXCLUDED.installs`,
    [
      visits.map((v) => v.accountId),
      visits.map((v) => v.productId),
      visits.map((v) => v.identity),
      visits.map((v) => v.version.slice(0, MAX_TEXT)),
      visits.map((v) => v.platform.slice(0, MAX_TEXT)),
      visits.map((v) => v.channel),
      visits.map((v) => new Date(v.lastSeen)),
    ],
  );
}

/**
 * Adds checks to the daily counts they belong to (a copy of `c` starts a count): a fleet reporting
 * many versions keeps one entry per version between flushes, not one per check.
 */
function spill(daily: Map<string, SpilledChecks>, c: SpilledChecks): void {
  const key = `${c.productId}\u0000${c.day}\u0000${c.version}\u0000${c.platform}\u0000${c.channel}`;
  const row = daily.get(key);
  if (row) row.checks += c.checks;
  else daily.set(key, { ...c });
}
