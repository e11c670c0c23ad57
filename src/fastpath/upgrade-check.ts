import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { DOWNLOAD_TTL_DEFAULT, DownloadUrlsService, usableArtifact } from '../artifacts/download-urls.service';
import { NOT_WARM } from '../common/not-warm';
import type { NotWarm } from '../common/not-warm';
import { CountersService } from '../counters/counters.service';
import { ApiError } from '../jsonapi/errors';
import { UpgradeCheckFastPath } from '../upgrades/upgrade-check.fast-path';
import { walkLine } from '../upgrades/upgrade-finder';
import type { UpgradeCheck } from '../upgrades/upgrade-params';
import { UpgradesService } from '../upgrades/upgrades.service';
import type { UpgradeAnswer } from '../upgrades/upgrades.service';
import { WarmCatalogue } from './warm';

/**
 * `GET /releases/actions/upgrade` from memory: the caller's line walked in the product's load,
 * the offered release's uploaded artifact signed, the 303 document filled from the template the
 * load keeps per offered release. Counts as UpgradesService.check does.
 */
@Injectable()
export class UpgradeCheckFromMemory implements UpgradeCheckFastPath {
  constructor(
    private readonly warm: WarmCatalogue,
    private readonly upgrades: UpgradesService,
    private readonly artifacts: DownloadUrlsService,
    private readonly counters: CountersService,
  ) {}

  check(bearer: Bearer, accountId: string, check: UpgradeCheck): UpgradeAnswer | null | NotWarm {
    // a product code or `?license=` takes a lookup: the service answers
    if (check.productCode !== undefined || check.license !== undefined) return NOT_WARM;
    const viewer = this.warm.viewer(bearer, accountId);
    const product = viewer && this.warm.productReleases(accountId, check.productId);
    if (!viewer || product === undefined) return NOT_WARM;
    const policy = this.warm.accountProducts(accountId)?.get(check.productId)?.policy ?? null;
    const next = walkLine(viewer, product, { ...check, requireArtifact: true, policy }, check.current);
    this.counters.countCheck();
    this.upgrades.recordCheck(bearer, accountId, check);
    if (!next) return null;
    const artifact = next.artifact;
    if (!artifact || !usableArtifact(artifact, next.release)) throw ApiError.notFound('The release has no uploaded artifact');
    const url = this.artifacts.issue(bearer, accountId, next.release, artifact, DOWNLOAD_TTL_DEFAULT, product?.memos);
    return this.upgrades.answer(bearer, accountId, check, next, artifact, url, product?.memos);
  }
}
