import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, Req } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import type { CallerRequest } from '../access/decorators';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { parseFields, parseInclude, parseListQuery, queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { ProductSerializer } from '../products/product.serializer';
import { jsonUtf8Type, sendSerialized } from '../jsonapi/json-bytes';
import { createReleaseBody, createReleaseBodyV11, releaseDialect, updateReleaseBody, updateReleaseBodyV11 } from './release-documents';
import { ReleaseSerializerV11 } from './release-v11.serializer';
import { ReleaseSerializer } from './release.serializer';
import { ReleaseListFastPath } from './release-list.fast-path';
import { NOT_WARM } from '../common/not-warm';
import { RELEASE_FIELDSETS, RELEASE_FIELDSETS_V11, RELEASE_INCLUDES, RELEASE_INCLUDES_V11, RELEASE_SORT, ReleasesService } from './releases.service';
import { parseReleaseFilters } from './release-list-filters';
import { ApiDocument, ApiInclude, ApiJsonApiBody, ApiListQuery, ApiNoContent, ApiQueryParams } from '../openapi/decorators';

const LIST = { sort: Object.keys(RELEASE_SORT), include: RELEASE_INCLUDES, fields: RELEASE_FIELDSETS };
const LIST_V11 = { sort: Object.keys(RELEASE_SORT), include: RELEASE_INCLUDES_V11, fields: RELEASE_FIELDSETS_V11 };

const createBody = createReleaseBody;
const updateBody = updateReleaseBody;

@Controller('v1/accounts/:account/releases')
export class ReleasesController {
  constructor(
    private readonly fast: ReleaseListFastPath,
    private readonly releases: ReleasesService,
  ) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(ReleaseSerializer, 'created')
  @SettlesCatalogue()
  @Post()
  async create(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    if (bearer.kind !== 'admin' && bearer.kind !== 'product') throw ApiError.forbidden();
    if (releaseDialect(res.req).artifacts) {
      const release = await this.releases.createMulti(bearer, account.id, await createReleaseBodyV11.transform(body));
      return created(res, singleDocument(ReleaseSerializerV11, release));
    }
    const dto = await createBody.transform(body);
    const doc = singleDocument(ReleaseSerializer, await this.releases.create(bearer, account.id, dto));
    return created(res, doc);
  }

  @ApiDocument(ReleaseSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort, include: LIST.include })
  @ApiQueryParams({
    product: 'Product id or code',
    package: 'Package id or key',
    platform:
      'Releases on this platform (`os` or `os/arch`): a release whose own platform it is, or a release with many artifacts (API 1.1) that has an artifact, not yanked, on it',
    channel: 'Releases of this channel and the more stable ones',
    filetype: 'Releases of this file type',
    version: 'Releases of exactly this version',
    status: 'NOT_PUBLISHED, PUBLISHED or YANKED (1.1: DRAFT, PUBLISHED or YANKED; NOT_PUBLISHED still works)',
    yanked: 'true: yanked releases only; false: never yanked ones',
  })
  @Get()
  @Public()
  async list(@Req() req: CallerRequest, @Query() query: Q, @Res() res: Response): Promise<void> {
    const { bearer, account } = req as Required<CallerRequest>;
    const dialect = releaseDialect(req);
    const q = parseListQuery(query, dialect.artifacts ? LIST_V11 : LIST);
    const filters = parseReleaseFilters(query, dialect.artifacts);
    // a hot route: memory answers a customer's page when it holds the caller and the products (ReleaseListFastPath)
    const warm = dialect.artifacts ? NOT_WARM : this.fast.page(bearer, account.id, { query: q, filters, raw: query, path: res.req.path, url: res.req.url });
    if (warm !== NOT_WARM) return sendSerialized(res, 200, jsonUtf8Type(res), warm);
    const page = await this.releases.list(bearer, account.id, q, filters);
    const inc = await this.releases.included(bearer, account.id, page.items, q.include, q.fields);
    const doc = listDocument(dialect.serializer, page, {
      path: res.req.path,
      query,
      page: q.page,
      fields: q.fields,
      included: q.include.size ? inc.included : undefined,
    });
    inc.link(doc.data);
    sendSerialized(res, 200, jsonUtf8Type(res), JSON.stringify(doc));
  }

  @ApiDocument(ReleaseSerializer, 'single')
  @ApiInclude(RELEASE_INCLUDES)
  @ApiQueryParams({
    product: 'Product id or code: picks among releases of several products that share the filename or version',
    platform: 'When `:id` is a version: picks among releases of several platforms',
    filetype: 'When `:id` is a version: picks among releases of several file types',
  })
  @Get(':id')
  @Public()
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q, @Req() req: Request) {
    const dialect = releaseDialect(req);
    const include = parseInclude(query, dialect.artifacts ? RELEASE_INCLUDES_V11 : RELEASE_INCLUDES);
    const fields = parseFields(query, dialect.artifacts ? RELEASE_FIELDSETS_V11 : RELEASE_FIELDSETS);
    const narrow = { platform: queryParam(query, 'platform'), filetype: queryParam(query, 'filetype'), ...dialect.narrow };
    const release = await this.releases.findVisible(bearer, account.id, id, queryParam(query, 'product'), narrow);
    const inc = await this.releases.included(bearer, account.id, [release], include, fields);
    const doc = singleDocument(dialect.serializer, release, { fields, included: include.size ? inc.included : undefined });
    inc.link([doc.data!]);
    return doc;
  }

  /** The related product of a release (its `product` relationship's `links.related`). */
  @ApiDocument(ProductSerializer, 'single')
  @Get(':id/product')
  @Public()
  async product(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(ProductSerializer, await this.releases.productOf(bearer, account.id, id));
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(ReleaseSerializer, 'single')
  @SettlesCatalogue()
  @Patch(':id')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown, @Req() req: Request) {
    const dialect = releaseDialect(req);
    const release = await this.releases.findWritable(bearer, account.id, id, dialect.narrow);
    // what the client read may come back whole: unchanged read-only parts are ignored
    const pipe = dialect.artifacts ? updateReleaseBodyV11 : updateBody;
    const dto = await pipe.transformFor(body, release.id, toResource(dialect.serializer, release));
    return singleDocument(dialect.serializer, await this.releases.update(release, dto));
  }

  @ApiNoContent()
  @SettlesCatalogue()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Req() req: Request): Promise<void> {
    await this.releases.remove(bearer, account.id, id, releaseDialect(req).narrow);
  }
}
