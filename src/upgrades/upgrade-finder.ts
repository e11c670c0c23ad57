import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SelectQueryBuilder } from 'typeorm';
import type { SemVer } from 'semver';
import type { Artifact } from '../artifacts/artifact.entity';
import type { Bearer } from '../auth/bearer';
import { CatalogueService } from '../catalogue/catalogue.service';
import type { CatalogueRelease, ProductReleases } from '../catalogue/product-releases';
import { CountersService } from '../counters/counters.service';
import { Release } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { ReleaseVisibilityPolicy, visibilityClass } from '../releases/release.policy';
import type { ViewerFacts } from '../releases/release.policy';
import { comparePrecedence, greaterThanSql, INCLUSIVE_CHANNELS, precedenceColumns, semverColumns } from '../releases/semver';
import type { UpgradeConstraint } from '../releases/semver';

export interface ReleaseLine {
  productId: string;
  platform: string;
  /** Narrows to one filetype when given. */
  filetype?: string;
  channel: Channel;
  constraint?: UpgradeConstraint;
  /** Only releases whose artifact is UPLOADED (the redirecting route needs a file to send). */
  requireArtifact?: boolean;
  /** Only PUBLISHED releases, whoever asks (the Cryptlex routes). */
  publishedOnly?: boolean;
}

export interface UpgradeQuery extends ReleaseLine {
  current: SemVer;
}

/** A release the finder chose, with its artifact when the catalogue knew it (undefined: not looked up). */
export interface FoundRelease {
  release: Release;
  artifact?: Artifact | null;
}

/** The caller kinds whose upgrade checks are counted (admins and product tokens are internal). */
export function countsAsCustomer(bearer: Bearer): boolean {
  return bearer.kind === 'license' || bearer.kind === 'user' || bearer.kind === 'anonymous';
}

/**
 * The release findNext (with `current`) or findLatest (without) answers from the product's line:
 * the line's highest release that the query and the viewer admit, if it is above `current`. That
 * highest release is the same for every caller of one visibility class, so it is found once per
 * load of the product and class (the walk may pass hundreds of releases the class cannot see).
 */
function walkLine(viewer: ViewerFacts, product: ProductReleases | null, line: ReleaseLine, current?: SemVer): FoundRelease | null {
  const entries = product?.lines.get(line.platform);
  if (!product || !entries) return null;
  const now = Date.now();
  const constraint = line.constraint ? `${line.constraint.major}.${line.constraint.minor ?? ''}` : '';
  const key = `${visibilityClass(viewer, now)}|${viewer.strategyOf(product.productId)}|${line.platform}|${line.channel}|${line.filetype ?? ''}|${constraint}|${line.requireArtifact ? 1 : 0}${line.publishedOnly ? 1 : 0}`;
  const top = product.answer(key, () => highestVisible(viewer, entries, line, now));
  if (!top || (current && comparePrecedence(top.release, semverColumns(current)) <= 0)) return null;
  return top;
}

/** The first release of a line (sorted highest precedence first) that the filters and the viewer admit. */
function highestVisible(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, now: number): FoundRelease | null {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  for (const entry of entries) {
    const r = entry.release;
    if (line.constraint) {
      if (r.semverMajor > line.constraint.major) continue;
      if (r.semverMajor < line.constraint.major) break;
      if (line.constraint.minor !== undefined && r.semverMinor < line.constraint.minor) break;
    }
    if (!channels.includes(r.channel)) continue;
    if (line.filetype !== undefined && r.filetype !== line.filetype) continue;
    if (line.publishedOnly && r.status !== 'PUBLISHED') continue;
    if (line.requireArtifact && entry.artifact?.status !== 'UPLOADED') continue;
    if (!ReleaseVisibilityPolicy.sees(viewer, entry, now)) continue;
    return { release: r, artifact: entry.artifact };
  }
  return null;
}

/**
 * Finds the release an application should move to: the caller's visibility, the product/platform
 * (and filetype) line, the inclusive channels, the constraint, then the highest semver precedence
 * (build metadata breaks ties, then the newest row). From the in-memory catalogue when it serves
 * (a release line is already in that order: the first match wins), else in SQL.
 */
@Injectable()
export class UpgradeFinder {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly counters: CountersService,
  ) {}

  /** The highest visible release greater than `current`, or null. */
  async findNext(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<FoundRelease | null> {
    this.counters.countCheck();
    const warm = this.warmNext(bearer, accountId, query);
    if (warm !== undefined) return warm;
    const fromMemory = await this.fromCatalogue(bearer, accountId, query, query.current);
    if (fromMemory !== undefined) return fromMemory;
    const release = await this.nextQuery(bearer, accountId, query).getOne();
    return release ? { release } : null;
  }

  /** The highest visible release of the line, or null. */
  async findLatest(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<FoundRelease | null> {
    const warm = this.findLatestNow(bearer, accountId, line);
    if (warm !== undefined) return warm;
    const fromMemory = await this.fromCatalogue(bearer, accountId, line);
    if (fromMemory !== undefined) return fromMemory;
    const release = await this.line(bearer, accountId, line).getOne();
    return release ? { release } : null;
  }

  /**
   * findNext answered synchronously when all it reads is in memory (the check is counted then);
   * undefined: call findNext.
   */
  findNextNow(bearer: Bearer, accountId: string, query: UpgradeQuery): FoundRelease | null | undefined {
    const found = this.warmNext(bearer, accountId, query);
    if (found !== undefined) this.counters.countCheck();
    return found;
  }

  private warmNext(bearer: Bearer, accountId: string, query: UpgradeQuery): FoundRelease | null | undefined {
    return this.warmLine(bearer, accountId, query, query.current);
  }

  /** findLatest answered synchronously when all it reads is in memory; undefined: call findLatest. */
  findLatestNow(bearer: Bearer, accountId: string, line: ReleaseLine): FoundRelease | null | undefined {
    return this.warmLine(bearer, accountId, line);
  }

  /** walkLine over what memory holds now; undefined when the viewer or the product is not warm. */
  private warmLine(bearer: Bearer, accountId: string, line: ReleaseLine, current?: SemVer): FoundRelease | null | undefined {
    const viewer = this.catalogue.viewerNow(bearer, accountId);
    const product = viewer && this.catalogue.productReleasesNow(accountId, line.productId);
    return viewer && product !== undefined ? walkLine(viewer, product, line, current) : undefined;
  }

  /**
   * Adds 1 to the next release's `upgrades` when the check was answered to a customer (license,
   * user or anonymous caller), and a `release.upgraded` event from version `from`; written in the
   * next counters flush.
   */
  countUpgrade(bearer: Bearer, accountId: string, releaseId: string, from?: string): void {
    if (countsAsCustomer(bearer)) this.counters.countUpgrade(accountId, releaseId, bearer, from);
  }

  /** The answer from memory, loading what is missing; undefined when the catalogue is not serving. */
  private async fromCatalogue(bearer: Bearer, accountId: string, line: ReleaseLine, current?: SemVer): Promise<FoundRelease | null | undefined> {
    const viewer = await this.catalogue.viewer(bearer, accountId);
    if (!viewer) return undefined;
    const product = await this.catalogue.productReleases(accountId, line.productId);
    if (product === undefined) return undefined;
    return walkLine(viewer, product, line, current);
  }

  /** The SQL path's query for findNext (its plan is checked at 100,000 rows by a test). */
  nextQuery(bearer: Bearer, accountId: string, query: UpgradeQuery): SelectQueryBuilder<Release> {
    const qb = this.line(bearer, accountId, query);
    const gt = greaterThanSql('release', query.current, 'cur');
    return qb.andWhere(gt.sql, gt.params);
  }

  private line(bearer: Bearer, accountId: string, line: ReleaseLine): SelectQueryBuilder<Release> {
    const qb = this.db
      .createQueryBuilder(Release, 'release')
      .where('release.account_id = :accountId', { accountId })
      .andWhere('release.product_id = :productId', { productId: line.productId })
      .andWhere('release.platform = :platform', { platform: line.platform })
      .andWhere('release.channel IN (:...channels)', { channels: INCLUSIVE_CHANNELS[line.channel] });
    if (line.filetype !== undefined) qb.andWhere('release.filetype = :filetype', { filetype: line.filetype });
    if (line.constraint) {
      qb.andWhere('release.semver_major = :constraintMajor', { constraintMajor: line.constraint.major });
      if (line.constraint.minor !== undefined) {
        qb.andWhere('release.semver_minor >= :constraintMinor', { constraintMinor: line.constraint.minor });
      }
    }
    if (line.publishedOnly) qb.andWhere(`release.status = 'PUBLISHED'`);
    if (line.requireArtifact) {
      qb.andWhere(
        `EXISTS (SELECT 1 FROM artifacts ua WHERE ua.release_id = release.id AND ua.account_id = release.account_id AND ua.status = 'UPLOADED')`,
      );
    }
    ReleaseVisibilityPolicy.scope(qb, bearer, 'release');
    for (const column of precedenceColumns('release')) qb.addOrderBy(column, 'DESC');
    return qb.addOrderBy('release.created', 'DESC').addOrderBy('release.id', 'DESC').limit(1);
  }
}
