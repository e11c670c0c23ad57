import { Controller, Get, Param, Query, Res, Req } from '@nestjs/common';
import type { Response } from 'express';
import { ArtifactSerializer } from '../releases/artifact.serializer';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import type { CallerRequest } from '../access/decorators';
import { queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { singleDocument, toResource } from '../jsonapi/serializer';
import { apiVersionOf, hasArtifacts } from '../jsonapi/api-version';
import { artifactV11, ArtifactSerializerV11, withRedirectV11 } from '../releases/artifact-view';
import { ReleaseSerializerV11 } from '../releases/release-v11.serializer';
import type { Artifact } from '../releases/artifact.entity';
import type { Release } from '../releases/release.entity';
import { jsonUtf8Type, sendSerialized } from '../jsonapi/json-bytes';
import { ReleaseSerializer } from '../releases/release.serializer';
import { parseUpgradeCheck, parseUpgradeTarget } from './upgrade-params';
import { UpgradesService } from './upgrades.service';
import { UpgradeCheckFastPath } from './upgrade-check.fast-path';
import { NOT_WARM } from '../common/not-warm';
import type { UpgradeAnswer, UpgradeMeta } from './upgrades.service';
import { ApiAnswer, ApiDocument, ApiQueryParams } from '../openapi/decorators';
import { ApiError } from '../jsonapi/errors';
import { ExplainService, parseExplainQuery } from './explain.service';

/**
 * Upgrade checks. `actions/upgrade` is declared before `:id/upgrade` so that the
 * literal route wins.
 */
@Controller('v1/accounts/:account/releases')
export class UpgradesController {
  constructor(
    private readonly fast: UpgradeCheckFastPath,
    private readonly upgrades: UpgradesService,
    private readonly explainer: ExplainService,
  ) {}

  @ApiDocument(ArtifactSerializer, 'single')
  @ApiAnswer(303, 'An upgrade: the artifact document, and Location: its signed download URL')
  @ApiAnswer(204, 'No upgrade')
  @ApiQueryParams({
    'product!': 'Product id or code',
    'platform!': 'Platform, e.g. linux/amd64',
    arch: 'Architecture, e.g. amd64 (with platform=linux: the same as platform=linux/amd64)',
    'version!': 'The version the caller runs',
    filetype: 'File type, e.g. tar.gz',
    channel: 'stable (default), rc, beta, alpha or dev: the channel and every more stable one',
    constraint: 'Stay within a version range, e.g. 1 or 1.2',
    installId: "An installation's own id (1-64 characters): counts an anonymous install in analytics, and stands in for a license in staged rollouts",
    license: 'Admins and product tokens: answer as this license (id) would be answered',
  })
  @Get('actions/upgrade')
  @Public()
  async check(@Req() req: CallerRequest, @Query() query: Q, @Res() res: Response): Promise<void> {
    const { bearer, account } = req as Required<CallerRequest>;
    const check = parseUpgradeCheck(query);
    if (hasArtifacts(apiVersionOf(req))) return sendUpgrade(res, await this.upgrades.check(bearer, account.id, check, upgradeDocumentV11));
    // a hot route: memory answers when it holds the caller and the product (UpgradeCheckFastPath)
    const warm = this.fast.check(bearer, account.id, check);
    sendUpgrade(res, warm !== NOT_WARM ? warm : await this.upgrades.check(bearer, account.id, check));
  }

  @ApiAnswer(200, 'Per release of the line (newest first, at most 50) the decision for that customer and the rule behind it; meta.offered: what every update route offers it')
  @ApiAnswer(403, 'Not an admin token')
  @ApiQueryParams({
    'product!': 'Product id or code',
    'platform!': 'Platform, e.g. windows or linux/amd64',
    arch: 'Architecture, e.g. amd64',
    'version!': 'The version the customer runs',
    filetype: 'File type, e.g. exe',
    channel: 'stable (default), rc, beta, alpha or dev',
    license: 'The customer: a license id or key',
    installId: 'The customer, when it has no license: its installation id',
  })
  @Get('actions/explain')
  async explain(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q) {
    // admins only: checked before the query is read (403 before 400)
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin may ask why a customer is offered what it is');
    return this.explainer.explain(bearer, account.id, parseExplainQuery(query));
  }

  @ApiDocument(ReleaseSerializer, 'single')
  @ApiQueryParams({
    channel: 'stable (default), rc, beta, alpha or dev',
    constraint: 'Stay within a version range, e.g. 1 or 1.2',
    installId: "An installation's own id (1-64 characters): counts an anonymous install in analytics, and stands in for a license in staged rollouts",
    license: 'Admins and product tokens: answer as this license (id) would be answered',
  })
  @Get(':id/upgrade')
  @Public()
  async fromRelease(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q) {
    const target = parseUpgradeTarget(query);
    const { release, meta } = await this.upgrades.fromRelease(bearer, account.id, id, target, queryParam(query, 'product'));
    return singleDocument(ReleaseSerializer, release, { meta: { ...meta } });
  }
}

/**
 * API 1.1's 303 document: the artifact in 1.1's form with `links.redirect`, and in `meta` the
 * versions, the policy and the release it belongs to.
 */
function upgradeDocumentV11(artifact: Artifact, release: Release, url: string, meta: UpgradeMeta): object {
  const doc = singleDocument(ArtifactSerializerV11, withRedirectV11(artifactV11(artifact, release), url));
  return { ...doc, meta: { ...meta, release: toResource(ReleaseSerializerV11, release) } };
}

/** 303 to the signed URL with the artifact document, or 204 when there is no upgrade. */
function sendUpgrade(res: Response, found: UpgradeAnswer | null): void {
  if (!found) {
    res.status(204).end();
    return;
  }
  res.location(found.url);
  sendSerialized(res, 303, jsonUtf8Type(res), found.body);
}
