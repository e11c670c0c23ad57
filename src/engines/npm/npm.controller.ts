import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { CallerRequest } from '../../access/decorators';
import { LicenseKeyAsBearer, Public } from '../../access/decorators';
import { downloadCaller, DOWNLOAD_TTL_DEFAULT, DownloadUrlsService } from '../../artifacts/download-urls.service';
import { APP_CONFIG } from '../../config/config';
import { sendArtifact } from '../../artifacts/artifact-sender';
import { STORAGE_DRIVER } from '../../storage/storage-driver';
import type { StorageDriver } from '../../storage/storage-driver';
import type { AppConfig } from '../../config/config';
import { ApiError, ErrorCode } from '../../jsonapi/errors';
import { ApiAnswer } from '../../openapi/decorators';
import { PackageCatalogue, packageNotFound } from '../package-catalogue';
import type { PackageView } from '../package-catalogue';
import { npmFile, renderPackument } from './packument';

/**
 * A read-only npm registry over the account's `npm` packages. npm sends the `_authToken` of the
 * registry's `.npmrc` line as `Authorization: Bearer <token>`: here a license key is accepted that
 * way too (LicenseKeyAsBearer). Scoped names arrive as `@scope%2fname` or `@scope/name`.
 */
@Controller('v1/accounts/:account/engines/npm')
@Public()
@LicenseKeyAsBearer()
export class NpmController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly packages: PackageCatalogue,
    private readonly downloads: DownloadUrlsService,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  /** npm's audit, search, login and ping routes: not served by a read-only registry (npm install goes on). */
  @ApiAnswer(404, "npm's own routes (security advisories, audits, search, login): not served here; npm goes on without them")
  @Get('-/*rest')
  npmRoutes(): never {
    throw notServed();
  }

  @ApiAnswer(404, "npm's audit routes: not served here; npm install goes on without them")
  @Post('-/*rest')
  npmAudit(): never {
    throw notServed();
  }

  @ApiAnswer(200, 'The packument: {name, dist-tags, versions, time}, the versions the caller may install', 'application/json')
  @ApiAnswer(401, 'A wrong key, or no credential for a package that needs one')
  @ApiAnswer(404, 'No such package, or not one the caller may see')
  @Get(':name')
  async packument(@Req() req: CallerRequest, @Param('name') name: string, @Res() res: Response): Promise<void> {
    return this.sendPackument(req, name, res);
  }

  @ApiAnswer(200, 'The packument of a scoped package (`@scope/name`)', 'application/json')
  @Get(':scope/:name')
  async scopedPackument(@Req() req: CallerRequest, @Param('scope') scope: string, @Param('name') name: string, @Res() res: Response): Promise<void> {
    if (!scope.startsWith('@')) throw ApiError.notFound('The package was not found');
    return this.sendPackument(req, `${scope}/${name}`, res);
  }

  @ApiAnswer(200, 'The tarball (counted as a download); with S3 storage a 302 to a short-lived presigned URL', 'application/octet-stream')
  @Get(':name/-/:artifactId/:filename')
  tarball(@Req() req: CallerRequest, @Param('name') name: string, @Param('artifactId') artifactId: string, @Param('filename') filename: string, @Res() res: Response): Promise<void> {
    return this.sendTarball(req, name, artifactId, filename, res);
  }

  @ApiAnswer(200, 'A scoped package\'s tarball (counted as a download); with S3 storage a 302 to a short-lived presigned URL', 'application/octet-stream')
  @Get(':scope/:name/-/:artifactId/:filename')
  scopedTarball(
    @Req() req: CallerRequest,
    @Param('scope') scope: string,
    @Param('name') name: string,
    @Param('artifactId') artifactId: string,
    @Param('filename') filename: string,
    @Res() res: Response,
  ): Promise<void> {
    if (!scope.startsWith('@')) throw ApiError.notFound('The package was not found');
    return this.sendTarball(req, `${scope}/${name}`, artifactId, filename, res);
  }

  private async find(req: CallerRequest, key: string): Promise<PackageView> {
    const pv = await this.packages.find(req.bearer, req.account!.id, 'npm', key);
    if (!pv) throw packageNotFound(req.bearer);
    return pv;
  }

  private async sendPackument(req: CallerRequest, key: string, res: Response): Promise<void> {
    const pv = await this.find(req, key);
    const base = `${this.config.publicUrl}/v1/accounts/${req.account!.id}/engines/npm/${pv.pkg.key}/-`;
    const body = this.packages.memo(pv, 'npm', () => {
      const doc = renderPackument(pv.pkg.key, this.packages.versions(pv, false), (id, filename) => `${base}/${id}/${encodeURIComponent(filename)}`);
      return doc && JSON.stringify(doc);
    });
    this.packages.countCheck(pv);
    if (body === null) throw ApiError.notFound('The package has no version you may install');
    res.status(200);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.send(body);
  }

  private async sendTarball(req: CallerRequest, key: string, artifactId: string, filename: string, res: Response): Promise<void> {
    const pv = await this.find(req, key);
    for (const v of this.packages.versions(pv, false)) {
      const file = npmFile(v);
      if (file?.artifact.id !== artifactId || file.artifact.filename !== filename) continue;
      // counted as any issued download; the URL itself is not handed out: npm would send its
      // Bearer key along a same-host redirect, and the signed route reads Bearer as a token
      this.downloads.issue(downloadCaller(req.bearer, req), req.account!.id, v.release, file.artifact, DOWNLOAD_TTL_DEFAULT, pv.view.releases.memos);
      res.setHeader('Cache-Control', 'no-store');
      // S3: its presigned URL is another host, to which npm sends no credential
      if (this.storage.presignGet) return res.redirect(302, await this.downloads.presignedUrl(file.artifact));
      await sendArtifact(req, res, file.artifact, this.storage);
      return;
    }
    throw ApiError.notFound('The tarball was not found');
  }
}

/** What a read-only registry answers to npm's own routes: 404, on which npm goes on (audit: "no advisories"). */
function notServed(): ApiError {
  return new ApiError(404, ErrorCode.NOT_FOUND, 'This registry serves packages only (no audit, search or login)');
}
