import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { AccountFrom, CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import type { CallerRequest } from '../access/decorators';
import type { Query as Q } from '../jsonapi/query';
import { V3AccountLocator } from './v3-account.locator';
import { parseV3Latest, parseV3ReportedVersion, parseV3Update } from './v3-params';
import { JSON_UTF8, sendSerialized } from '../jsonapi/json-bytes';
import { V3Service } from './v3.service';
import { V3UpdateFastPath } from './v3-update.fast-path';
import { NOT_WARM } from '../common/not-warm';
import { V3_RELEASE_SCHEMA } from './v3-release.serializer';
import { ApiAnswer, ApiQueryParams } from '../openapi/decorators';

/**
 * Cryptlex-compatible release routes (plain JSON; errors as `{code, message}`). `@Public()` for the
 * global guard, which finds the account with V3AccountLocator and authenticates the key or token in
 * it; V3Service decides whether that caller is tied to the product.
 */
@Controller('v3')
@Public()
@AccountFrom(V3AccountLocator)
export class V3Controller {
  constructor(
    private readonly fast: V3UpdateFastPath,
    private readonly v3: V3Service,
  ) {}

  @ApiAnswer(200, 'The newest release above version', 'application/json', V3_RELEASE_SCHEMA)
  @ApiAnswer(204, 'No update')
  @ApiQueryParams({
    'productId!': 'Product id',
    'version!': 'The version the caller runs',
    'platform!': 'Platform, e.g. windows',
    key: 'License key (or Authorization: License <key>, or a token)',
    channel: 'stable (default), rc, beta, alpha or dev',
    installId: 'Staged rollouts: an installation id (1-64 characters) for callers without a license',
  })
  // a hot route: memory answers when it holds the caller and the product (V3UpdateFastPath)
  @Get('releases/update')
  async update(@Req() req: CallerRequest, @Query() query: Q, @Res() res: Response): Promise<void> {
    const parsed = parseV3Update(query);
    const warm = this.fast.update(req.bearer, req.account!.id, parsed);
    sendUpdate(res, warm !== NOT_WARM ? warm : await this.v3.update(req.bearer, req.account!.id, parsed));
  }

  @ApiAnswer(200, 'The newest release', 'application/json', V3_RELEASE_SCHEMA)
  @ApiQueryParams({
    'productId!': 'Product id',
    'platform!': 'Platform, e.g. windows',
    key: 'License key (or Authorization: License <key>, or a token)',
    channel: 'stable (default), rc, beta, alpha or dev',
    version: 'The version the caller runs, if it tells (recorded for adoption analytics)',
    installId: 'Staged rollouts: an installation id (1-64 characters) for callers without a license',
  })
  @Get('releases/latest')
  latest(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q) {
    return this.v3.latest(bearer, account.id, parseV3Latest(query), parseV3ReportedVersion(query));
  }

  /** Declared last: `releases/...` above are literal routes. */
  @ApiAnswer(200, 'The artifact bytes (or 302 to storage)', 'application/octet-stream', { type: 'string', contentMediaType: 'application/octet-stream' })
  @ApiQueryParams({ key: 'License key (or Authorization: License <key>, or a token)' })
  @Get(':releaseId')
  download(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('releaseId') releaseId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.v3.download(bearer, account.id, releaseId, req, res);
  }
}

/** The update's JSON, or 204 with no body when there is no newer release. */
function sendUpdate(res: Response, body: string | null): void {
  if (body !== null) sendSerialized(res, 200, JSON_UTF8, body);
  else res.status(204).end();
}
