import { Controller, Delete, Get, Headers, HttpCode, Param, Put, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { intParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { singleDocument } from '../jsonapi/serializer';
import { ArtifactSerializer, withRedirect } from '../releases/artifact.serializer';
import { ArtifactStorageService } from './artifact-storage.service';
import { ArtifactUploadsService } from './artifact-uploads.service';
import { downloadCaller, DownloadUrlsService, DOWNLOAD_TTL_MAX, DOWNLOAD_TTL_MIN } from './download-urls.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiAnswer, ApiDocument, ApiNoContent } from '../openapi/decorators';
import { hasBody } from '../jsonapi/media-type';
import { UploadUrlsService } from './upload-urls.service';

/** `Prefer: no-redirect` (RFC 7240 preference tokens, comma separated, parameters after `;`). */
export function prefersNoRedirect(prefer: string | undefined): boolean {
  return !!prefer && prefer.split(',').some((p) => p.split(';')[0].trim().toLowerCase() === 'no-redirect');
}

/** A release's file: upload (PUT, raw bytes), download URL (GET), removal (DELETE). */
@SettlesCatalogue()
@Controller('v1/accounts/:account/releases/:id/artifact')
export class ReleaseArtifactController {
  constructor(
    private readonly uploads: ArtifactUploadsService,
    private readonly downloads: DownloadUrlsService,
    private readonly storedFiles: ArtifactStorageService,
    private readonly uploadUrls: UploadUrlsService,
  ) {}

  /**
   * The file's raw bytes, or (an empty body) Keygen's upload flow: 307 to an upload URL, with the
   * WAITING artifact and `links.redirect`.
   */
  @ApiDocument(ArtifactSerializer, 'single')
  @ApiAnswer(307, 'An empty body: Location (and links.redirect) is the URL to PUT the bytes to; `Prefer: no-redirect` answers 200')
  @ApiAnswer(415, 'A multipart/form-data or urlencoded form: send the raw bytes (curl -T <file>)')
  @Put()
  async upload(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Req() req: Request,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!hasBody(req)) {
      const { artifact, url } = await this.uploadUrls.issue(bearer, account.id, id, req);
      res.setHeader('Cache-Control', 'no-store');
      if (prefersNoRedirect(prefer)) res.setHeader('Preference-Applied', 'no-redirect');
      else res.status(307).location(url);
      return singleDocument(ArtifactSerializer, withRedirect(artifact, url));
    }
    return singleDocument(ArtifactSerializer, await this.uploads.upload(bearer, account.id, id, req));
  }

  @ApiDocument(ArtifactSerializer, 'single')
  @Get()
  @Public()
  async download(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Query() query: Q,
    @Headers('prefer') prefer: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const ttl = intParam(query, 'ttl', DOWNLOAD_TTL_MIN, DOWNLOAD_TTL_MAX);
    const release = await this.downloads.findVisibleRelease(bearer, account.id, id);
    const { artifact, url } = await this.downloads.issueDownload(downloadCaller(bearer, req), account.id, release, ttl);
    // the body carries a credential-like URL: never cache it
    res.setHeader('Cache-Control', 'no-store');
    if (prefersNoRedirect(prefer)) res.setHeader('Preference-Applied', 'no-redirect');
    else res.status(303).location(url);
    return singleDocument(ArtifactSerializer, withRedirect(artifact, url));
  }

  @ApiNoContent()
  @Delete()
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.storedFiles.remove(bearer, account.id, id);
  }
}
