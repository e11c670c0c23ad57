import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { CallerRequest } from '../../access/decorators';
import { Public } from '../../access/decorators';
import { downloadCaller, DOWNLOAD_TTL_DEFAULT, DownloadUrlsService } from '../../artifacts/download-urls.service';
import { CatalogueService, productByIdOrCode } from '../../catalogue/catalogue.service';
import { ApiError } from '../../jsonapi/errors';
import { ApiAnswer } from '../../openapi/decorators';
import type { Package } from '../../packages/package.entity';
import { PackageCatalogue, packageNotFound, releasesInNoPackage } from '../package-catalogue';
import type { PackageVersion } from '../package-catalogue';

/**
 * Stable vanity URLs for plain files: `.../engines/raw/<product>[/@<package>]/<release>/<filename>`,
 * where `<release>` is a version, a release tag or `latest` (the highest stable version the caller
 * is offered that has a file of that name). Without a package, the product's releases that belong
 * to no package. `303` to the signed download URL, counted as a download.
 */
@Controller('v1/accounts/:account/engines/raw')
@Public()
export class RawController {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly packages: PackageCatalogue,
    private readonly downloads: DownloadUrlsService,
  ) {}

  @ApiAnswer(303, "To the signed download URL of the package's file (counted as a download)")
  @ApiAnswer(404, 'No such package, release or file the caller may download')
  @Get(':product/:package/:release/:filename')
  async packageFile(
    @Req() req: CallerRequest,
    @Param('product') product: string,
    @Param('package') pkg: string,
    @Param('release') release: string,
    @Param('filename') filename: string,
    @Res() res: Response,
  ): Promise<void> {
    if (!pkg.startsWith('@')) throw ApiError.notFound('The file was not found');
    return this.send(req, product, pkg.slice(1), release, filename, res);
  }

  @ApiAnswer(303, "To the signed download URL of the product's file (counted as a download)")
  @ApiAnswer(404, 'No such release or file the caller may download')
  @Get(':product/:release/:filename')
  productFile(@Req() req: CallerRequest, @Param('product') product: string, @Param('release') release: string, @Param('filename') filename: string, @Res() res: Response): Promise<void> {
    return this.send(req, product, null, release, filename, res);
  }

  private async send(req: CallerRequest, productRef: string, packageKey: string | null, name: string, filename: string, res: Response): Promise<void> {
    const accountId = req.account!.id;
    const facts = productByIdOrCode(await this.catalogue.accountProducts(accountId), productRef);
    if (!facts) throw packageNotFound(req.bearer);
    let pkg: Package | null = null;
    if (packageKey !== null) {
      pkg = (await this.packages.packages(accountId)).byKey.get(packageKey) ?? null;
      if (!pkg || pkg.productId !== facts.id) throw packageNotFound(req.bearer);
    }
    const subject = pkg ?? releasesInNoPackage(facts.id);
    const pv = await this.packages.viewOf(req.bearer, accountId, subject);
    if (!pv) throw packageNotFound(req.bearer);
    const versions = this.packages.versions(pv, false);
    const named = (v: PackageVersion) => (name === 'latest' ? v.release.channel === 'stable' : v.release.version === name || v.release.tag === name);
    for (const v of versions) {
      if (!named(v)) continue;
      const file = v.files.find((f) => f.artifact.filename === filename);
      if (!file) continue;
      const url = this.downloads.issue(downloadCaller(req.bearer, req), accountId, v.release, file.artifact, DOWNLOAD_TTL_DEFAULT, pv.view.releases.memos);
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, url);
      return;
    }
    throw ApiError.notFound('The file was not found');
  }
}
