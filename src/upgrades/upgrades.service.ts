import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { DownloadUrlsService } from '../artifacts/download-urls.service';
import { CountersService } from '../counters/counters.service';
import type { Memos } from '../catalogue/memos';
import { ProductDirectory, resolveProductRef } from '../products/product-ref';
import { ArtifactSerializer, withRedirect } from '../releases/artifact.serializer';
import { JsonTemplate, slot } from '../jsonapi/json-bytes';
import { singleDocument } from '../jsonapi/serializer';
import type { Artifact } from '../releases/artifact.entity';
import { AnalyticsRecorder } from '../analytics/analytics-recorder';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import type { Release } from '../releases/release.entity';
import { ReleasesService } from '../releases/releases.service';
import { parseLooseVersion, parseStrictVersion } from '../releases/semver';
import { UpgradeFinder } from './upgrade-finder';
import type { ChangelogEntry, OfferedRelease } from './upgrade-finder';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Account } from '../accounts/account.entity';
import { AuthService } from '../auth/auth.service';
import { License } from '../licenses/license.entity';
import type { UpgradeCheck, UpgradeTarget } from './upgrade-params';

export interface UpgradeMeta {
  current: string;
  next: string;
  /** A visible release above `current`, up to `next`, is critical. */
  critical: boolean;
  /** The visible releases above `current` up to `next`, newest first (at most 50). */
  changelog: readonly ChangelogEntry[];
  /** The caller's version is below the product's minimumVersion (present only then). */
  belowMinimum?: true;
  /** `next` is below `current`: the caller's release was yanked (present only then). */
  rollback?: true;
}

/**
 * The 303 document of another API version than 1.0 (which answer() builds and memoizes): from the
 * offered artifact, its release, the download URL and the meta.
 */
export type UpgradeDocument = (artifact: Artifact, release: Release, url: string, meta: UpgradeMeta) => object;

/** An upgrade's answer: the signed URL (Location) and the 303 document (serialized). */
export interface UpgradeAnswer {
  url: string;
  body: string;
}

/** Upgrade checks answered with a download (303) or with the next release (200). */
@Injectable()
export class UpgradesService {
  constructor(
    private readonly finder: UpgradeFinder,
    private readonly releases: ReleasesService,
    private readonly artifacts: DownloadUrlsService,
    private readonly counters: CountersService,
    private readonly analytics: AnalyticsRecorder,
    private readonly auth: AuthService,
    @InjectRepository(License) private readonly licenses: Repository<License>,
    private readonly products: ProductDirectory,
  ) {}

  /**
   * `GET /releases/actions/upgrade`: the highest visible candidate that has an uploaded file, its
   * download URL (counted as a download) and the upgrade counted; null when there is none (204).
   */
  async check(bearer: Bearer, accountId: string, check: UpgradeCheck, document?: UpgradeDocument): Promise<UpgradeAnswer | null> {
    if (check.productCode !== undefined) check = { ...check, productId: await resolveProductRef(this.products, accountId, check.productCode) };
    this.recordCheck(bearer, accountId, check);
    const caller = await this.caller(bearer, accountId, check.license);
    const next = await this.finder.findNext(caller, accountId, { ...check, requireArtifact: true });
    if (!next) return null;
    const { artifact, url } = await this.artifacts.issueDownload(bearer, accountId, next.release, undefined, next.artifact);
    if (document) {
      this.finder.countUpgrade(bearer, accountId, next.release.id, check.version);
      return { url, body: JSON.stringify(document(artifact, this.counters.withPending(next.release), url, upgradeMeta(check.version, next))) };
    }
    return this.answer(bearer, accountId, check, next, artifact, url);
  }

  /** An update check, for adoption analytics (counted whether or not there is an upgrade). */
  recordCheck(bearer: Bearer, accountId: string, check: UpgradeCheck): void {
    this.analytics.recordCheck(bearer, { accountId, productId: check.productId, platform: check.platform, channel: check.channel, version: check.current.version, installId: check.installId });
  }

  /**
   * Counts the upgrade and fills the 303 document. `memos`: the product load the offer was found
   * in, which keeps the document serialized once per offered release (when its artifact is the
   * one offered), with slots for the URL and the caller's version.
   */
  answer(bearer: Bearer, accountId: string, check: UpgradeCheck, next: OfferedRelease, artifact: Artifact, url: string, memos?: Memos): UpgradeAnswer {
    this.finder.countUpgrade(bearer, accountId, next.release.id, check.version);
    const build = () => JsonTemplate.of(singleDocument(ArtifactSerializer, withRedirect(artifact, slot(0)), { meta: { ...upgradeMeta(slot(1), next) } }), 2);
    const template = memos && artifact === next.artifact ? memos.table('upgradeDocument').of(next, build) : build();
    return { body: template.fill([url, check.version]), url };
  }

  /**
   * Who the check is answered for: the caller, or the license an admin or product token names
   * with `?license=` (what that customer would get, its suspension and expiry included).
   */
  private async caller(bearer: Bearer, accountId: string, licenseId: string | undefined): Promise<Bearer> {
    if (licenseId === undefined) return bearer;
    if (bearer.kind !== 'admin' && bearer.kind !== 'product') {
      throw new ApiError(403, ErrorCode.FORBIDDEN, 'Only an admin or a product token may ask what another license gets', { parameter: 'license' });
    }
    const license = await this.licenses.findOne({ where: { id: licenseId, accountId } });
    if (!license || (bearer.kind === 'product' && license.productId !== bearer.productId)) {
      throw new ApiError(404, ErrorCode.NOT_FOUND, 'The license was not found', { parameter: 'license' });
    }
    return this.auth.authenticateLicense({ id: accountId } as Account, license.key);
  }

  /**
   * `GET /releases/:id/upgrade`: from a release the caller sees (404 otherwise), the highest
   * visible release of the same product, platform and filetype above it; 404 when there is none.
   */
  async fromRelease(bearer: Bearer, accountId: string, idOrFilename: string, target: UpgradeTarget, product?: string): Promise<{ release: Release; meta: UpgradeMeta }> {
    const caller = await this.caller(bearer, accountId, target.license);
    const current = await this.releases.findVisible(caller, accountId, idOrFilename, product);
    const version = parseStrictVersion(current.version) ?? parseLooseVersion(current.version);
    if (!version) throw ApiError.notFound('No upgrade is available for this release');
    this.analytics.recordCheck(bearer, { accountId, productId: current.productId, platform: current.platform, channel: target.channel, version: version.version, installId: target.installId });
    const next = await this.finder.findNext(caller, accountId, {
      productId: current.productId,
      platform: current.platform,
      filetype: current.filetype,
      current: version,
      ...target,
    });
    if (!next) throw ApiError.notFound('No upgrade is available for this release');
    this.finder.countUpgrade(bearer, accountId, next.release.id, current.version);
    // the counter just moved: show the caller the count as it is now
    return { release: this.counters.withPending(next.release), meta: upgradeMeta(current.version, next) };
  }
}

function upgradeMeta(current: string, next: OfferedRelease): UpgradeMeta {
  const meta: UpgradeMeta = { current, next: next.release.version, critical: next.critical, changelog: next.changelog };
  if (next.belowMinimum) meta.belowMinimum = true;
  if (next.rollback) meta.rollback = true;
  return meta;
}
