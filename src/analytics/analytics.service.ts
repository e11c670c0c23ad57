import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SelectQueryBuilder } from 'typeorm';
import * as semver from 'semver';
import type { Bearer } from '../access/bearer';
import { CountersService } from '../counters/counters.service';
import { NO_PRODUCT_ID, ProductDirectory, resolveProductRef } from '../products/product-ref';
import { ApiError } from '../jsonapi/errors';
import { enumParam, intParam, queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { CHANNELS, Release } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { releaseOnPlatformSql } from '../releases/release-list-filters';
import { INCLUSIVE_CHANNELS, precedenceColumns } from '../releases/semver';
import { AnalyticsRecorder } from './analytics-recorder';
import { latestAtEnds } from './latest-by-day';
import type { PublishedSpan } from './latest-by-day';

export interface AnalyticsFilters {
  days: number;
  platform?: string;
  channel?: Channel;
}

export function parseAnalyticsFilters(query: Query): AnalyticsFilters {
  const platform = queryParam(query, 'platform');
  if (platform !== undefined && platform.trim() === '') throw ApiError.invalidParameter('platform', 'must not be empty');
  return { days: intParam(query, 'days', 1, 365) ?? 30, platform, channel: enumParam(query, 'channel', CHANNELS) };
}

export interface VersionsInUse {
  data: Array<{ version: string; installs: number; share: number }>;
  meta: { latest: string | null; onLatestShare: number; installs: number; checks: number; days: number };
}

/** One UTC day of the adoption series. */
export interface AdoptionDay {
  day: string;
  /** The highest version PUBLISHED (not yanked) at the end of the day (now, for today); null when none. */
  latest: string | null;
  /** Installs that checked that day. */
  installs: number;
  /** Of those, the installs whose last check of the day reported `latest`. */
  onLatest: number;
  /** onLatest / installs (4 decimals); null on a day without checks. */
  share: number | null;
}

export interface AdoptionSeries {
  data: AdoptionDay[];
  meta: { days: number };
}

export interface DownloadsByDay {
  data: Array<{ day: string; version: string; downloads: number; upgrades: number }>;
  meta: { downloads: number; upgrades: number; days: number };
}

const DAY_MS = 86_400_000;

/** The platform and channel filters as conditions on the analytics tables' columns (their values appended to `params`). */
function filterSql(f: AnalyticsFilters, params: unknown[]): string {
  let where = '';
  if (f.platform !== undefined) where += ` AND platform = $${params.push(f.platform)}`;
  if (f.channel !== undefined) where += ` AND channel = $${params.push(f.channel)}`;
  return where;
}

/** Shares are given to 4 decimal places. */
const share = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/**
 * A comparator: highest semver first; strings that are not semver (should not occur) last, by
 * name. Each distinct version is parsed once, however many rows carry it.
 */
function byVersionDesc(): (a: string, b: string) => number {
  const parsed = new Map<string, semver.SemVer | null>();
  const parse = (v: string) => {
    let p = parsed.get(v);
    if (p === undefined) parsed.set(v, (p = semver.parse(v)));
    return p;
  };
  return (a, b) => {
    const va = parse(a);
    const vb = parse(b);
    if (va && vb) return semver.compareBuild(vb, va);
    if (va) return -1;
    if (vb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  };
}

/** Admin read-outs of the analytics tables (see AnalyticsRecorder for how they are filled). */
@Injectable()
export class AnalyticsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly recorder: AnalyticsRecorder,
    private readonly counters: CountersService,
    private readonly directory: ProductDirectory,
  ) {}

  private async product(bearer: Bearer, accountId: string, productId: string): Promise<string> {
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin can read analytics');
    // by id or code, as everywhere a product is named
    const id = productId.length <= 255 && productId.trim() !== '' ? await resolveProductRef(this.directory, accountId, productId) : NO_PRODUCT_ID;
    const rows: unknown[] = await this.db.query('SELECT 1 FROM products WHERE id = $1 AND account_id = $2', [id, accountId]);
    if (!rows.length) throw ApiError.notFound('The product was not found');
    // this instance's latest counts first, so that an answer includes what it has just seen
    await Promise.all([this.recorder.flush(), this.counters.flush()]);
    return id;
  }

  /** Installs by the version they last reported within the window; the share on the latest release. */
  async versions(bearer: Bearer, accountId: string, rawProductId: string, f: AnalyticsFilters): Promise<VersionsInUse> {
    const productId = await this.product(bearer, accountId, rawProductId);
    const params: unknown[] = [productId, accountId, f.days];
    const where = filterSql(f, params);
    const [counts, checks, latest] = await Promise.all([
      this.db.query(
        `SELECT version, sum(installs)::int AS installs FROM analytics_last_seen
          WHERE product_id = $1 AND account_id = $2 AND day > (now() AT TIME ZONE 'UTC')::date - $3::int${where}
          GROUP BY version HAVING sum(installs) > 0`,
        params,
      ) as Promise<Array<{ version: string; installs: number }>>,
      this.db.query(
        `SELECT coalesce(sum(checks), 0)::bigint AS checks FROM analytics_daily
          WHERE product_id = $1 AND account_id = $2 AND day > (now() AT TIME ZONE 'UTC')::date - $3::int${where}`,
        params,
      ) as Promise<Array<{ checks: string }>>,
      this.latest(accountId, productId, f),
    ]);
    const total = counts.reduce((n, c) => n + c.installs, 0);
    const order = byVersionDesc();
    const data = counts.sort((a, b) => order(a.version, b.version)).map((c) => ({ version: c.version, installs: c.installs, share: share(c.installs, total) }));
    const onLatest = latest ? counts.filter((c) => semver.valid(c.version) && semver.eq(c.version, latest)).reduce((n, c) => n + c.installs, 0) : 0;
    return { data, meta: { latest, onLatestShare: share(onLatest, total), installs: total, checks: Number(checks[0].checks), days: f.days } };
  }

  /**
   * Share on latest over time: for each UTC day of the window, oldest first, the installs that
   * checked that day (by their last check of the day: analytics_day_installs), the release that
   * was latest at the end of the day (release_publications) and how many of them ran it.
   */
  async adoption(bearer: Bearer, accountId: string, rawProductId: string, f: AnalyticsFilters): Promise<AdoptionSeries> {
    const productId = await this.product(bearer, accountId, rawProductId);
    const params: unknown[] = [productId, accountId, f.days];
    const where = filterSql(f, params);
    // every day of the window, a day without checks as a row without a version
    const rows: Array<{ day: string; version: string | null; installs: number }> = await this.db.query(
      `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, c.version, coalesce(c.installs, 0)::int AS installs
         FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($3::int - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
         LEFT JOIN (SELECT i.day, i.version, sum(i.installs) AS installs FROM analytics_day_installs i
                     WHERE i.product_id = $1 AND i.account_id = $2 AND i.day > (now() AT TIME ZONE 'UTC')::date - $3::int${where}
                     GROUP BY i.day, i.version HAVING sum(i.installs) > 0) c ON c.day = d.day::date
        ORDER BY d.day`,
      params,
    );
    const days = [...new Set(rows.map((r) => r.day))];
    const latest = await this.latestByDay(accountId, productId, f, days);
    const byDay = new Map(days.map((day, i) => [day, { day, latest: latest[i], installs: 0, onLatest: 0, share: null as number | null }]));
    for (const r of rows) {
      if (r.version === null) continue;
      const d = byDay.get(r.day)!;
      d.installs += r.installs;
      if (d.latest !== null && semver.valid(r.version) && semver.eq(r.version, d.latest)) d.onLatest += r.installs;
    }
    const data = [...byDay.values()].map((d) => ({ ...d, share: d.installs ? share(d.onLatest, d.installs) : null }));
    return { data, meta: { days: f.days } };
  }

  /** Downloads and upgrades per day and per version (of the release downloaded or upgraded to), newest day first. */
  async downloads(bearer: Bearer, accountId: string, rawProductId: string, f: AnalyticsFilters): Promise<DownloadsByDay> {
    const productId = await this.product(bearer, accountId, rawProductId);
    const params: unknown[] = [productId, accountId, f.days];
    const where = filterSql(f, params);
    const rows: Array<{ day: string; version: string; downloads: string; upgrades: string }> = await this.db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, version, sum(downloads)::bigint AS downloads, sum(upgrades)::bigint AS upgrades
         FROM analytics_daily
        WHERE product_id = $1 AND account_id = $2 AND day > (now() AT TIME ZONE 'UTC')::date - $3::int${where}
          AND (downloads > 0 OR upgrades > 0)
        GROUP BY day, version`,
      params,
    );
    const order = byVersionDesc();
    const data = rows
      .map((r) => ({ day: r.day, version: r.version, downloads: Number(r.downloads), upgrades: Number(r.upgrades) }))
      .sort((a, b) => (a.day === b.day ? order(a.version, b.version) : a.day < b.day ? 1 : -1));
    return {
      data,
      meta: { downloads: data.reduce((n, r) => n + r.downloads, 0), upgrades: data.reduce((n, r) => n + r.upgrades, 0), days: f.days },
    };
  }

  /** The product's releases on the channel (stable by default, inclusive) and platform (any, when none given; as the release list's filter). */
  private candidates(accountId: string, productId: string, f: AnalyticsFilters): SelectQueryBuilder<Release> {
    const qb = this.db
      .createQueryBuilder(Release, 'release')
      .where('release.account_id = :accountId AND release.product_id = :productId', { accountId, productId })
      .andWhere('release.channel IN (:...channels)', { channels: INCLUSIVE_CHANNELS[f.channel ?? 'stable'] });
    if (f.platform !== undefined) qb.andWhere(releaseOnPlatformSql('release', 'platform'), { platform: f.platform });
    return qb;
  }

  /** The highest PUBLISHED version of the product on the platform and channel now. */
  private async latest(accountId: string, productId: string, f: AnalyticsFilters): Promise<string | null> {
    const qb = this.candidates(accountId, productId, f).select('release.version', 'version').andWhere(`release.status = 'PUBLISHED'`);
    for (const column of precedenceColumns('release')) qb.addOrderBy(column, 'DESC');
    const row = await qb.limit(1).getRawOne<{ version: string }>();
    return row?.version ?? null;
  }

  /**
   * The latest version at the end of each of `days` (UTC dates, oldest first; for today, now):
   * the highest version among the releases that were PUBLISHED then (release_publications), from
   * the publications that reach into the window, in one read (latestAtEnds).
   */
  private async latestByDay(accountId: string, productId: string, f: AnalyticsFilters, days: string[]): Promise<Array<string | null>> {
    const ends = days.map((d) => Date.parse(`${d}T00:00:00Z`) + DAY_MS);
    if (!ends.length) return [];
    const rows = await this.candidates(accountId, productId, f)
      .innerJoin('release_publications', 'pub', 'pub.release_id = release.id AND pub.account_id = release.account_id')
      .andWhere('pub.started < :lastEnd AND (pub.ended IS NULL OR pub.ended >= :firstEnd)', { lastEnd: new Date(ends[ends.length - 1]), firstEnd: new Date(ends[0]) })
      .select('release.version', 'version')
      .addSelect('release.semver_major', 'major')
      .addSelect('release.semver_minor', 'minor')
      .addSelect('release.semver_patch', 'patch')
      .addSelect('release.semver_is_release', 'isRelease')
      .addSelect('release.semver_pre_key', 'preKey')
      .addSelect('release.semver_build_key', 'buildKey')
      .addSelect('floor(extract(epoch FROM pub.started) * 1000)', 'started')
      .addSelect('floor(extract(epoch FROM pub.ended) * 1000)', 'ended')
      .getRawMany<{ version: string; major: string; minor: string; patch: string; isRelease: boolean; preKey: string[]; buildKey: string[]; started: string; ended: string | null }>();
    const spans: PublishedSpan[] = rows.map((r) => ({
      version: r.version,
      semverMajor: Number(r.major),
      semverMinor: Number(r.minor),
      semverPatch: Number(r.patch),
      semverIsRelease: r.isRelease,
      semverPreKey: r.preKey,
      semverBuildKey: r.buildKey,
      started: Number(r.started),
      ended: r.ended === null ? null : Number(r.ended),
    }));
    return latestAtEnds(spans, ends);
  }
}
