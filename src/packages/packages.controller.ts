import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { enumParam, parseListQuery, queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { ApiAnswer, ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent, ApiQueryParams } from '../openapi/decorators';

const DOWNLOADS_SCHEMA = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          channel: { type: 'string' },
          status: { type: 'string' },
          downloads: { type: 'integer' },
          files: { type: 'array', items: { type: 'object', properties: { filename: { type: 'string' }, downloads: { type: 'integer' } } } },
        },
      },
    },
    meta: { type: 'object', properties: { package: { type: 'string' }, downloads: { type: 'integer' } } },
  },
};
import { assertProductRef } from '../products/product-ref';
import { CreatePackageDto, PACKAGE_ATTRIBUTES, UpdatePackageDto } from './dto';
import { PACKAGE_ENGINES } from './package.entity';
import { PackageSerializer } from './package.serializer';
import { PACKAGE_SORT, PackagesService } from './packages.service';

const LIST = { sort: Object.keys(PACKAGE_SORT), fields: { packages: [...PackageSerializer.attributeNames, 'account', 'product', 'releases'] } };
// bodies are validated after the permission check: a caller who may not write gets 403 (or 404), not 422
const createBody = new JsonApiBodyPipe({ type: 'packages', dto: CreatePackageDto, attributes: PACKAGE_ATTRIBUTES, relationships: { product: { type: 'products', byCode: true } } });
const updateBody = new JsonApiBodyPipe({ type: 'packages', dto: UpdatePackageDto, attributes: PACKAGE_ATTRIBUTES, partial: true });

/** Packages of products (docs/packages.md): admins and the product's token write, customers read those of their products. */
@Controller('v1/accounts/:account/packages')
export class PackagesController {
  constructor(private readonly packages: PackagesService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(PackageSerializer, 'created')
  @SettlesCatalogue()
  @Post()
  async create(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    if (bearer.kind !== 'admin' && bearer.kind !== 'product') throw ApiError.forbidden();
    const dto = await createBody.transform(body);
    return created(res, singleDocument(PackageSerializer, await this.packages.create(bearer, account.id, dto)));
  }

  @ApiDocument(PackageSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @ApiQueryParams({ product: 'Product id or code', engine: `One of ${PACKAGE_ENGINES.join(', ')}` })
  @Get()
  @Public()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const product = queryParam(query, 'product');
    if (product !== undefined) assertProductRef(product);
    const page = await this.packages.list(bearer, account.id, q, { product, engine: enumParam(query, 'engine', PACKAGE_ENGINES) });
    return listDocument(PackageSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(PackageSerializer, 'single')
  @Get(':id')
  @Public()
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(PackageSerializer, await this.packages.findVisible(bearer, account.id, id));
  }

  @ApiAnswer(200, "Downloads of each version of the package and of each of its files (admins and the product's token)", 'application/vnd.api+json', DOWNLOADS_SCHEMA)
  @Get(':id/analytics/downloads')
  downloads(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return this.packages.downloads(bearer, account.id, id);
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(PackageSerializer, 'single')
  @SettlesCatalogue()
  @Patch(':id')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown) {
    const pkg = await this.packages.findWritable(bearer, account.id, id);
    const dto = await updateBody.transformFor(body, pkg.id, toResource(PackageSerializer, pkg));
    return singleDocument(PackageSerializer, await this.packages.update(pkg, dto));
  }

  @ApiNoContent()
  @SettlesCatalogue()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.packages.remove(await this.packages.findWritable(bearer, account.id, id));
  }
}
