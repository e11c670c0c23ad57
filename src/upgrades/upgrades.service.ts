import { Injectable } from '@nestjs/common';
import type { Bearer } from '../auth/bearer';
import { ArtifactsService } from '../artifacts/artifacts.service';
import { CountersService } from '../counters/counters.service';
import { CatalogueService } from '../catalogue/catalogue.service';
import { resolveProductRef } from '../products/product-ref';
import { withRedirect } from '../artifacts/artifact.serializer';
import type { ArtifactView } from '../artifacts/artifact.serializer';
import { ApiError } from '../jsonapi/errors';
import type { Release } from '../releases/release.entity';
import { ReleasesService } from '../releases/releases.service';
import { parseLooseVersion, parseStrictVersion } from '../releases/semver';
import { UpgradeFinder } from './upgrade-finder';
import type { UpgradeCheck, UpgradeTarget } from './upgrade-params';

export interface UpgradeMeta {
  current: string;
  next: string;
}

/** Upgrade checks answered with a download (303) or with the next release (200). */
@Injectable()
export class UpgradesService {
  constructor(
    private readonly finder: UpgradeFinder,
    private readonly releases: ReleasesService,
    private readonly artifacts: ArtifactsService,
    private readonly counters: CountersService,
    private readonly catalogue: CatalogueService,
  ) {}

  /**
   * `GET /releases/actions/upgrade`: the highest visible candidate that has an uploaded file, its
   * download URL (counted as a download) and the upgrade counted; null when there is none (204).
   */
  async check(bearer: Bearer, accountId: string, check: UpgradeCheck): Promise<{ artifact: ArtifactView; url: string; meta: UpgradeMeta } | null> {
    if (check.productCode !== undefined) check = { ...check, productId: await resolveProductRef(this.catalogue, accountId, check.productCode) };
    const next = await this.finder.findNext(bearer, accountId, { ...check, requireArtifact: true });
    if (!next) return null;
    const { artifact, url } = await this.artifacts.issueDownload(bearer, accountId, next.release, undefined, next.artifact);
    this.finder.countUpgrade(bearer, accountId, next.release.id);
    return { artifact: withRedirect(artifact, url), url, meta: { current: check.version, next: next.release.version } };
  }

  /**
   * `GET /releases/:id/upgrade`: from a release the caller sees (404 otherwise), the highest
   * visible release of the same product, platform and filetype above it; 404 when there is none.
   */
  async fromRelease(bearer: Bearer, accountId: string, idOrFilename: string, target: UpgradeTarget, product?: string): Promise<{ release: Release; meta: UpgradeMeta }> {
    const current = await this.releases.findVisible(bearer, accountId, idOrFilename, product);
    const version = parseStrictVersion(current.version) ?? parseLooseVersion(current.version);
    if (!version) throw ApiError.notFound('No upgrade is available for this release');
    const next = await this.finder.findNext(bearer, accountId, {
      productId: current.productId,
      platform: current.platform,
      filetype: current.filetype,
      current: version,
      ...target,
    });
    if (!next) throw ApiError.notFound('No upgrade is available for this release');
    this.finder.countUpgrade(bearer, accountId, next.release.id);
    // the counter just moved: show the caller the count as it is now
    return { release: this.counters.withPending(next.release), meta: { current: current.version, next: next.release.version } };
  }
}
