import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SelectQueryBuilder } from 'typeorm';
import type { SemVer } from 'semver';
import type { Bearer } from '../auth/bearer';
import { Release } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { greaterThanSql, INCLUSIVE_CHANNELS, precedenceColumns } from '../releases/semver';
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

/** The caller kinds whose upgrade checks are counted (admins and product tokens are internal). */
export function countsAsCustomer(bearer: Bearer): boolean {
  return bearer.kind === 'license' || bearer.kind === 'user' || bearer.kind === 'anonymous';
}

/**
 * Finds the release an application should move to, entirely in SQL: the caller's visibility
 * scope, the product/platform/filetype line, the inclusive channels, the constraint, then the
 * highest semver precedence (build metadata breaks ties, then the newest row).
 */
@Injectable()
export class UpgradeFinder {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The highest visible release greater than `current`, or null. */
  findNext(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<Release | null> {
    const qb = this.line(bearer, accountId, query);
    const gt = greaterThanSql('release', query.current, 'cur');
    qb.andWhere(gt.sql, gt.params);
    return qb.getOne();
  }

  /** The highest visible release of the line, or null. */
  findLatest(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<Release | null> {
    return this.line(bearer, accountId, line).getOne();
  }

  /**
   * Adds 1 to the next release's `upgrades` when the check was answered to a customer (license,
   * user or anonymous caller). A single UPDATE, so concurrent checks never lose a count.
   */
  async countUpgrade(bearer: Bearer, accountId: string, releaseId: string): Promise<void> {
    if (!countsAsCustomer(bearer)) return;
    await this.db.query('UPDATE releases SET upgrades = upgrades + 1 WHERE id = $1 AND account_id = $2', [releaseId, accountId]);
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
