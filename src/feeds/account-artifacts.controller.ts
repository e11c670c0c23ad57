import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiError } from '../jsonapi/errors';
import type { Request, Response } from 'express';
import { apiVersionOf, hasArtifacts } from '../jsonapi/api-version';
import { ArtifactsV11Service } from '../artifacts/artifacts-v11.service';
import { ArtifactSerializerV11, withRedirectV11 } from '../releases/artifact-view';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { intParam, queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { singleDocument } from '../jsonapi/serializer';
import { ApiAnswer, ApiDocument, ApiQueryParams } from '../openapi/decorators';
import { ReleasesService } from '../releases/releases.service';
import { ArtifactSerializer, withRedirect } from '../releases/artifact.serializer';
import { prefersNoRedirect } from '../artifacts/artifacts.controller';
import { downloadCaller, DownloadUrlsService, DOWNLOAD_TTL_MAX, DOWNLOAD_TTL_MIN } from '../artifacts/download-urls.service';
import { isElectronFile, parseElectronFile, parseFeedQuery } from './feed-params';
import { FeedsService } from './feeds.service';

/**
 * Keygen's account-level artifact route, `GET /v1/accounts/:account/artifacts/:filename`
 * (electron-updater's Keygen provider reads it): answers like `GET /releases/:id/artifact` for the
 * release with that filename that the caller sees (`?product=`, an id or a code, picks among
 * products that share a filename). When no stored file has that name and it is an electron channel
 * file (`latest.yml`, `stable-mac.yml`, ...) with `?product=`, it answers the generated electron feed
 * (which is why the route lives with the feeds).
 */
@Controller('v1/accounts/:account/artifacts')
export class AccountArtifactsController {
  constructor(
    private readonly releases: ReleasesService,
    private readonly artifacts: DownloadUrlsService,
    private readonly feeds: FeedsService,
    private readonly artifactsV11: ArtifactsV11Service,
  ) {}

  @ApiDocument(ArtifactSerializer, 'single')
  @ApiAnswer(303, 'The artifact document, and Location: its signed download URL')
  @ApiAnswer(200, "No stored file of that name, an electron channel file and ?product=: the generated electron feed", 'text/yaml', { type: 'string' })
  @ApiQueryParams({ product: 'Product id or code', ttl: 'Lifetime of the download URL in seconds (admins and product tokens)' })
  @Get(':filename')
  @Public()
  async download(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('filename') filename: string,
    @Query() query: Q,
    @Headers('prefer') prefer: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const ttl = intParam(query, 'ttl', DOWNLOAD_TTL_MIN, DOWNLOAD_TTL_MAX);
    const product = queryParam(query, 'product');
    const v11 = hasArtifacts(apiVersionOf(req));
    try {
      if (!v11) {
        // 1.0: the 1.0 release of that filename first, as always
        const release = await this.releases.findVisibleByFilename(bearer, account.id, filename, product).catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return null;
          throw error;
        });
        if (release) {
          const { artifact, url } = await this.artifacts.issueDownload(downloadCaller(bearer, req), account.id, release, ttl);
          this.redirect(res, prefer, url);
          return singleDocument(ArtifactSerializer, withRedirect(artifact, url));
        }
      }
      // an artifact by id or filename (newest visible version first): every release's in 1.1, 1.1 releases' in 1.0
      const found = await this.artifactsV11.findVisible(bearer, account.id, filename, product);
      if (found.artifact.status !== 'UPLOADED') return singleDocument(ArtifactSerializerV11, found.view);
      const { url } = await this.artifacts.issueDownload(downloadCaller(bearer, req), account.id, found.release, ttl, found.artifact);
      this.redirect(res, prefer, url);
      return v11 ? singleDocument(ArtifactSerializerV11, withRedirectV11(found.view, url)) : singleDocument(ArtifactSerializer, withRedirect(found.artifact, url));
    } catch (error) {
      // no stored file of that name: electron-updater's Keygen provider asks for its channel file here
      if (!(error instanceof ApiError && error.status === 404) || !product || !isElectronFile(filename)) throw error;
      const { channel, group } = parseElectronFile(filename);
      const yaml = await this.feeds.electron(bearer, account.id, product, group, parseFeedQuery(query, channel));
      if (yaml === null) throw error;
      res.setHeader('Content-Type', 'text/yaml; charset=utf-8');
      res.setHeader('Cache-Control', 'private, no-cache');
      return yaml;
    }
  }

  /** 303 to the download URL, or 200 with `Prefer: no-redirect`; never cached (the body holds the URL). */
  private redirect(res: Response, prefer: string | undefined, url: string): void {
    res.setHeader('Cache-Control', 'no-store');
    if (prefersNoRedirect(prefer)) res.setHeader('Preference-Applied', 'no-redirect');
    else res.status(303).location(url);
  }
}
