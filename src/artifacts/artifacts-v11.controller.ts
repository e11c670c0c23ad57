import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { enumParam, parseListQuery, queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { ApiAnswer, ApiDocument, ApiJsonApiBody, ApiLinkageBody, ApiListQuery, ApiNoContent, ApiQueryParams } from '../openapi/decorators';
import { ArtifactConstraintSerializer } from '../releases/artifact-constraint.serializer';
import { artifactV11, ArtifactSerializerV11, withRedirectV11 } from '../releases/artifact-view';
import { CREATE_ARTIFACT_ATTRIBUTES, CreateArtifactDto, UPDATE_ARTIFACT_ATTRIBUTES, UpdateArtifactDto } from '../releases/dto/release-v11.dto';
import { CHANNELS } from '../releases/release.entity';
import { parseAttachBody, parseDetachBody } from '../constraints/constraint-body';
import { prefersNoRedirect } from './artifacts.controller';
import { ARTIFACT_SORT, ArtifactsV11Service } from './artifacts-v11.service';
import type { ArtifactFilters } from './artifacts-v11.service';

const LIST = { sort: Object.keys(ARTIFACT_SORT), include: [] as const, fields: { artifacts: [...ArtifactSerializerV11.attributeNames, 'account', 'product', 'release', 'constraints'] } };
const CONSTRAINT_LIST = { sort: ['created'], include: [] as const, fields: {} };
const STATUSES = ['WAITING', 'UPLOADED', 'FAILED', 'YANKED'] as const;

const createBody = new JsonApiBodyPipe({
  type: 'artifacts',
  dto: CreateArtifactDto,
  attributes: CREATE_ARTIFACT_ATTRIBUTES,
  relationships: { release: { type: 'releases', byCode: true } },
});
const updateBody = new JsonApiBodyPipe({ type: 'artifacts', dto: UpdateArtifactDto, attributes: UPDATE_ARTIFACT_ATTRIBUTES, partial: true, serverOwned: ['downloads'] });

function parseArtifactFilters(query: Q): ArtifactFilters {
  return {
    release: queryParam(query, 'release'),
    product: queryParam(query, 'product'),
    platform: queryParam(query, 'platform'),
    arch: queryParam(query, 'arch'),
    filetype: queryParam(query, 'filetype'),
    status: enumParam(query, 'status', STATUSES),
    channel: enumParam(query, 'channel', CHANNELS),
  };
}

/**
 * Artifacts, API 1.1 (many per release): `POST /artifacts` answers 307 to a signed upload URL
 * (201 with `Prefer: no-redirect`), then a PUT of the bytes to it makes the artifact UPLOADED.
 * `GET /artifacts/:id` (by id or filename, 303 to a download URL) is Keygen's account-level
 * artifact route, in feeds/ (it also answers electron channel files).
 */
@SettlesCatalogue()
@Controller('v1/accounts/:account')
export class ArtifactsV11Controller {
  constructor(private readonly artifacts: ArtifactsV11Service) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(ArtifactSerializerV11, 'created')
  @ApiAnswer(307, 'Location (and links.redirect): the signed URL to PUT the bytes to; `Prefer: no-redirect` answers 201')
  @Post('artifacts')
  async create(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Body() body: unknown, @Req() req: Request, @Headers('prefer') prefer: string | undefined, @Res({ passthrough: true }) res: Response) {
    if (bearer.kind !== 'admin' && bearer.kind !== 'product') throw ApiError.forbidden();
    const { view, url } = await this.artifacts.create(bearer, account.id, await createBody.transform(body), req);
    const doc = singleDocument(ArtifactSerializerV11, withRedirectV11(view, url));
    res.setHeader('Cache-Control', 'no-store');
    // either way Location is the upload URL (as links.redirect)
    if (prefersNoRedirect(prefer)) {
      res.setHeader('Preference-Applied', 'no-redirect');
      res.status(201).location(url);
    } else {
      res.status(307).location(url);
    }
    return doc;
  }

  @ApiDocument(ArtifactSerializerV11, 'list')
  @ApiListQuery({ sort: LIST.sort, include: LIST.include })
  @ApiQueryParams({ release: 'Release id, version or tag', product: 'Product id or code', platform: 'Platform', arch: 'Architecture', filetype: 'File type', status: 'WAITING, UPLOADED, FAILED or YANKED', channel: 'Channel (inclusive)' })
  @Get('artifacts')
  @Public()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.artifacts.list(bearer, account.id, q, parseArtifactFilters(query));
    return listDocument(ArtifactSerializerV11, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(ArtifactSerializerV11, 'list')
  @ApiListQuery({ sort: LIST.sort, include: LIST.include })
  @Get('releases/:id/artifacts')
  @Public()
  async ofRelease(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.artifacts.list(bearer, account.id, q, { ...parseArtifactFilters(query), release: id, product: queryParam(query, 'product') });
    return listDocument(ArtifactSerializerV11, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(ArtifactSerializerV11, 'single')
  @Patch('artifacts/:id')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown) {
    const { artifact, release } = await this.artifacts.findWritable(bearer, account.id, id);
    const dto = await updateBody.transformFor(body, artifact.id, toResource(ArtifactSerializerV11, artifactV11(artifact, release)));
    return singleDocument(ArtifactSerializerV11, await this.artifacts.update(bearer, account.id, artifact.id, dto));
  }

  /** Yanks the artifact: YANKED, its download URLs stop working at once; the release's other artifacts stay. */
  @ApiNoContent()
  @Delete('artifacts/:id')
  @HttpCode(204)
  async yank(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.artifacts.yank(bearer, account.id, id);
  }

  @ApiDocument(ArtifactConstraintSerializer, 'list')
  @Get('artifacts/:id/constraints')
  @Public()
  async constraints(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, CONSTRAINT_LIST);
    const items = await this.artifacts.constraints(bearer, account.id, id);
    return listDocument(ArtifactConstraintSerializer, { items, count: items.length }, { path: res.req.path, query, page: q.page });
  }

  @ApiDocument(ArtifactConstraintSerializer, 'list')
  @ApiLinkageBody('entitlements')
  @Post('artifacts/:id/constraints')
  @HttpCode(200)
  async attach(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const items = await this.artifacts.attach(bearer, account.id, id, parseAttachBody(body));
    return { data: items.map((c) => toResource(ArtifactConstraintSerializer, c)) };
  }

  @ApiLinkageBody('constraints')
  @ApiNoContent()
  @Delete('artifacts/:id/constraints')
  @HttpCode(204)
  async detach(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown): Promise<void> {
    await this.artifacts.detach(bearer, account.id, id, parseDetachBody(body));
  }
}
