import { Controller, Get, Headers, Param, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { CallerRequest } from '../../access/decorators';
import { Public } from '../../access/decorators';
import { downloadCaller, DOWNLOAD_TTL_DEFAULT, DownloadUrlsService } from '../../artifacts/download-urls.service';
import { normalizePackageName } from '../../catalogue/catalogue.service';
import { ApiError } from '../../jsonapi/errors';
import { ApiAnswer } from '../../openapi/decorators';
import { PackageCatalogue, packageNotFound } from '../package-catalogue';
import { renderIndex, renderProject, simpleFormat } from './simple-index';

const FILE_ANSWER = '303 to the signed download URL of a file the caller may download (counted as a download)';

/**
 * PyPI's simple repository API (PEP 503 HTML, PEP 691 JSON) over the account's `pypi` packages:
 * `pip install --index-url http://license:<KEY>@host/v1/accounts/<account>/engines/pypi/simple/`.
 * Credentials as anywhere; pip sends HTTP Basic `license:<key>`.
 */
@Controller('v1/accounts/:account/engines/pypi')
@Public()
export class PypiController {
  constructor(
    private readonly packages: PackageCatalogue,
    private readonly downloads: DownloadUrlsService,
  ) {}

  @ApiAnswer(200, 'The projects the caller may install from (PEP 503 HTML, or PEP 691 JSON when Accept asks for it)', 'text/html', { type: 'string' })
  @Get('simple')
  async index(@Req() req: CallerRequest, @Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    const accountId = req.account!.id;
    const names: string[] = [];
    for (const pkg of (await this.packages.packages(accountId)).byId.values()) {
      if (pkg.engine === 'pypi' && (await this.packages.viewOf(req.bearer, accountId, pkg))) names.push(normalizePackageName(pkg.key));
    }
    const { format, contentType } = simpleFormat(accept);
    send(res, contentType, renderIndex(names.sort(), format));
  }

  @ApiAnswer(200, 'Every file of every version the caller may install: links with #sha256=, data-requires-python, data-yanked (PEP 592)', 'text/html', { type: 'string' })
  @ApiAnswer(401, 'No credential, and the package needs one (WWW-Authenticate: Basic)')
  @ApiAnswer(404, 'No such package, or not one the caller may see')
  @Get('simple/:name')
  async project(@Req() req: CallerRequest, @Param('name') name: string, @Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    const accountId = req.account!.id;
    const pv = await this.packages.find(req.bearer, accountId, 'pypi', name, true);
    if (!pv) throw packageNotFound(req.bearer);
    const { format, contentType } = simpleFormat(accept);
    const normal = normalizePackageName(pv.pkg.key);
    const base = `/v1/accounts/${accountId}/engines/pypi/files/${encodeURIComponent(normal)}`;
    const body = this.packages.memo(pv, `pypi:${format}`, () =>
      renderProject(normal, this.packages.versions(pv, true), format, (id, filename) => `${base}/${id}/${encodeURIComponent(filename)}`),
    );
    this.packages.countCheck(pv);
    send(res, contentType, body);
  }

  @ApiAnswer(303, FILE_ANSWER)
  @ApiAnswer(404, 'No such file, or not one the caller may download (a yanked release\'s files are listed, not served)')
  @Get('files/:name/:artifactId/:filename')
  async file(@Req() req: CallerRequest, @Param('name') name: string, @Param('artifactId') artifactId: string, @Param('filename') filename: string, @Res() res: Response): Promise<void> {
    const accountId = req.account!.id;
    const pv = await this.packages.find(req.bearer, accountId, 'pypi', name, true);
    if (!pv) throw packageNotFound(req.bearer);
    for (const v of this.packages.versions(pv, false)) {
      const file = v.files.find((f) => f.artifact.id === artifactId && f.artifact.filename === filename);
      if (!file) continue;
      const url = this.downloads.issue(downloadCaller(req.bearer, req), accountId, v.release, file.artifact, DOWNLOAD_TTL_DEFAULT, pv.view.releases.memos);
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, url);
      return;
    }
    throw req.bearer.kind === 'anonymous' ? packageNotFound(req.bearer) : ApiError.notFound('The file was not found');
  }
}

function send(res: Response, contentType: string, body: string): void {
  res.status(200);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Vary', 'Accept, Authorization');
  res.send(body);
}
