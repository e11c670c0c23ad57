import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, NotRateLimited, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { ApiError } from '../jsonapi/errors';
import { queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { ArtifactErrorCode } from './artifact-errors';
import { sendArtifact, servesSeveralRanges } from './artifact-sender';
import { downloadCaller, DownloadUrlsService } from './download-urls.service';
import type { Artifact } from '../releases/artifact.entity';
import { downloadGeneration, DownloadSigner } from './download-signer';
import { LicensedArtifacts } from './licensed-artifacts';
import { STORAGE_DRIVER } from '../storage/storage-driver';
import type { StorageDriver } from '../storage/storage-driver';

/**
 * The signed download URL of local storage (`GET|HEAD`, no credential but the signature):
 * `/v1/accounts/:account/artifacts/:artifactId/:filename?expires=<unix seconds>&signature=<hmac>`.
 * Without a signature the same URL takes a credential (key, token, or none for open releases) and
 * answers 303 to a signed URL, counted as a download: electron feeds list these URLs.
 * The filename may hold a prefix (`prod-1/linux.tar.gz`), hence the wildcard. With S3 storage a
 * signed URL redirects to a presigned one, except for a request of several ranges, which S3 cannot
 * answer: Shipgate streams those itself (servesSeveralRanges).
 */
@Controller('v1/accounts/:account/artifacts')
export class SignedDownloadController {
  constructor(
    private readonly artifacts: DownloadUrlsService,
    private readonly signer: DownloadSigner,
    private readonly licenses: LicensedArtifacts,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  @Get(':artifactId/*filename')
  @Public()
  @NotRateLimited()
  async download(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('artifactId') artifactId: string,
    @Param('filename') filename: string | string[],
    @Query() query: Q,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'private, no-cache');
    const expires = queryParam(query, 'expires');
    const signature = queryParam(query, 'signature');
    const name = Array.isArray(filename) ? filename.join('/') : filename;
    if (signature === undefined && expires === undefined) {
      // no signature: the caller's credential decides (the file URLs of electron feeds)
      const url = await this.artifacts.issueDownloadOf(downloadCaller(bearer, req), account.id, artifactId, name);
      res.redirect(303, url);
      return;
    }
    const generation = queryParam(query, 'g');
    const licenseId = queryParam(query, 'l');
    const target = {
      accountId: account.id,
      artifactId,
      filename: name,
      expires: expires !== undefined && /^\d{1,12}$/.test(expires) ? Number(expires) : NaN,
      generation,
      licenseId,
    };
    const check = signature ? this.signer.verify(target, signature) : 'invalid';
    if (check === 'invalid') {
      // signed for another account (or for none): its artifact is not found in the path's
      if (!(await this.artifacts.existsIn(account.id, artifactId))) throw ApiError.notFound('The artifact was not found');
      throw new ApiError(403, ArtifactErrorCode.SIGNATURE_INVALID, 'The download URL is not validly signed');
    }
    if (check === 'expired') throw new ApiError(403, ArtifactErrorCode.SIGNATURE_EXPIRED, 'The download URL has expired');
    // issued to a license that may no longer download it, yanked, deleted or replaced since: gone
    const artifact = licenseId !== undefined ? await this.licensed(account.id, licenseId, artifactId, name, generation) : await this.artifacts.findForSignedUrl(account.id, artifactId, generation);
    if (!artifact) throw ApiError.notFound('The artifact was not found');
    if (this.storage.presignGet && !servesSeveralRanges(req, artifact)) {
      res.redirect(302, await this.artifacts.presignedUrl(artifact));
      return;
    }
    await sendArtifact(req, res, artifact, this.storage);
  }

  /** The artifact of a URL bound to a license, if that license may download it now and the URL's generation is current. */
  private async licensed(accountId: string, licenseId: string, artifactId: string, filename: string, generation: string | undefined): Promise<Artifact | null> {
    const found = await this.licenses.find(accountId, licenseId, artifactId, filename);
    if (!found?.artifact.storageKey || downloadGeneration(found.artifact.storageKey, found.release) !== generation) return null;
    return found.artifact;
  }
}
