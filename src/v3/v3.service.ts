import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { sendArtifact, servesSeveralRanges } from '../artifacts/artifact-sender';
import { downloadCaller, DownloadUrlsService } from '../artifacts/download-urls.service';
import type { Bearer } from '../access/bearer';
import { STORAGE_DRIVER } from '../storage/storage-driver';
import type { StorageDriver } from '../storage/storage-driver';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { AnalyticsRecorder } from '../analytics/analytics-recorder';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { UpgradeFinder } from '../upgrades/upgrade-finder';
import type { OfferedRelease } from '../upgrades/upgrade-finder';
import { JsonTemplate, slot } from '../jsonapi/json-bytes';
import type { Memos } from '../catalogue/memos';
import type { V3LatestQuery, V3UpdateQuery } from './v3-params';
import { toV3Release, v3DownloadUrl } from './v3-release.serializer';
import type { V3Release } from './v3-release.serializer';

/**
 * Cryptlex-compatible update checks and downloads. The account comes from the product (or the
 * release) id; the caller must be tied to the product: its license key (a key of another product
 * is invalid here), a token of a user owning a license of it, an admin token or its product token.
 */
@Injectable()
export class V3Service {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly finder: UpgradeFinder,
    private readonly artifacts: DownloadUrlsService,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly analytics: AnalyticsRecorder,
  ) {}

  /** The newest visible PUBLISHED release greater than `current`, or null (204). Counts the upgrade. */
  async update(bearer: Bearer, accountId: string, query: V3UpdateQuery): Promise<string | null> {
    await this.authorize(bearer, accountId, query.productId);
    const next = await this.finder.findNext(bearer, accountId, { ...query, publishedOnly: true });
    return this.answerUpdate(bearer, accountId, query, next);
  }

  /**
   * The update answer for what the finder offers: the check recorded, the upgrade counted, the
   * JSON with the caller's URL. `memos`: the product load the offer was found in, which keeps the
   * answer serialized once per offered release (with a slot for the URL).
   */
  answerUpdate(bearer: Bearer, accountId: string, query: V3UpdateQuery, next: OfferedRelease | null, memos?: Memos): string | null {
    this.analytics.recordCheck(bearer, { accountId, productId: query.productId, platform: query.platform, channel: query.channel, version: query.current.version, installId: query.installId });
    if (!next) return null;
    this.finder.countUpgrade(bearer, accountId, next.release.id, query.current.version);
    const build = () => JsonTemplate.of(toV3Release(next.release, slot(0), next.critical, next.changelog, next), 1);
    const template = memos ? memos.table('v3Update').of(next, build) : build();
    return template.fill([this.downloadUrl(bearer, next)]);
  }

  /** The newest visible PUBLISHED release, or 404. `reported`: the version the caller runs, when it says (analytics). */
  async latest(bearer: Bearer, accountId: string, query: V3LatestQuery, reported?: string): Promise<V3Release> {
    await this.authorize(bearer, accountId, query.productId);
    if (reported !== undefined) this.analytics.recordCheck(bearer, { accountId, productId: query.productId, platform: query.platform, channel: query.channel, version: reported, installId: query.installId });
    const latest = await this.finder.findLatest(bearer, accountId, { ...query, publishedOnly: true });
    if (!latest) throw ApiError.notFound('No release was found for this product, platform and channel');
    return this.present(bearer, latest);
  }

  /**
   * The release `/v3/:releaseId` names, if the caller may download it: a credential not tied to the
   * release's product is 401/403 (as on the update route: a key must belong to the release's
   * product); a release the caller cannot see, or without an uploaded file, is 404.
   */
  async downloadable(bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
    if (bearer.kind === 'anonymous') throw ApiError.tokenMissing();
    if (!isUuid(releaseId)) throw ApiError.notFound('The release was not found');
    const id = releaseId.toLowerCase();
    const rows: Array<{ product_id: string }> = await this.db.query('SELECT product_id FROM releases WHERE id = $1 AND account_id = $2', [id, accountId]);
    if (!rows.length) throw ApiError.notFound('The release was not found');
    await this.authorize(bearer, accountId, rows[0].product_id);
    const qb = this.db
      .createQueryBuilder(Release, 'release')
      .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId: id, accountId })
      .andWhere(`EXISTS (SELECT 1 FROM artifacts da WHERE da.release_id = release.id AND da.account_id = release.account_id AND da.status = 'UPLOADED')`);
    const release = await ReleaseVisibilityPolicy.scope(qb, bearer, 'release').getOne();
    if (!release) throw ApiError.notFound('The release was not found');
    return release;
  }

  /**
   * `GET /v3/:releaseId`: counts the download, then streams the file (local storage, 200 with
   * Content-Disposition so that `curl -O -J` keeps its name) or redirects to a presigned URL (S3,
   * 302; a request of several ranges is streamed from S3 and framed here, see servesSeveralRanges).
   */
  async download(bearer: Bearer, accountId: string, releaseId: string, req: Request, res: Response): Promise<void> {
    const release = await this.downloadable(bearer, accountId, releaseId);
    // counted as a download, unless it is a HEAD (a client probing size or name: Bearer.probe) or
    // continues a download (a Range that does not start at byte 0: downloadCaller)
    const { artifact } = await this.artifacts.issueDownload(downloadCaller(bearer, req), accountId, release);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (this.storage.presignGet && !servesSeveralRanges(req, artifact)) {
      // the release was checked just now: a short-lived presigned URL, not the hour-long signed one
      res.redirect(302, await this.artifacts.presignedUrl(artifact));
      return;
    }
    await sendArtifact(req, res, artifact, this.storage);
  }

  private present(bearer: Bearer, offered: OfferedRelease): V3Release {
    return toV3Release(offered.release, this.downloadUrl(bearer, offered), offered.critical);
  }

  /** `/v3/<id>`, with the key for license callers (token callers send their token). */
  private downloadUrl(bearer: Bearer, offered: OfferedRelease): string {
    return v3DownloadUrl(this.config.publicUrl, offered.release.id, bearer.kind === 'license' ? bearer.license.key : undefined);
  }

  private async authorize(bearer: Bearer, accountId: string, productId: string): Promise<void> {
    switch (bearer.kind) {
      case 'user': {
        const rows: unknown[] = await this.db.query(
          'SELECT 1 FROM licenses WHERE account_id = $1 AND product_id = $2 AND user_id = $3 LIMIT 1',
          [accountId, productId, bearer.userId],
        );
        if (!rows.length) throw ApiError.forbidden('The token does not belong to a user associated with a license of this product');
        return;
      }
      default:
        return this.assertTiedToProduct(bearer, productId);
    }
  }

  /** authorize for every caller kind but users (whose licenses take a query): throws unless tied to the product. */
  assertTiedToProduct(bearer: Bearer, productId: string): void {
    switch (bearer.kind) {
      case 'anonymous':
        throw ApiError.tokenMissing();
      case 'license':
        if (bearer.license.productId !== productId) {
          throw new ApiError(401, ErrorCode.LICENSE_INVALID, 'The license key is not valid for this product');
        }
        return;
      case 'product':
        if (bearer.productId !== productId) throw ApiError.forbidden('The product token belongs to another product');
        return;
      case 'admin':
        return;
      default:
        throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'The token is invalid', { header: 'Authorization' });
    }
  }
}
