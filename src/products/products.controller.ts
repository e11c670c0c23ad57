import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { booleanParam, parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { CreateTokenDto, TOKEN_ATTRIBUTES } from '../tokens/dto';
import { TokenSerializer } from '../tokens/token.serializer';
import { CreateProductDto, PRODUCT_ATTRIBUTES, UpdateProductDto } from './dto';
import { ProductSerializer } from './product.serializer';
import { PRODUCT_SORT, ProductPolicy, ProductsService } from './products.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent } from '../openapi/decorators';

const LIST = { sort: Object.keys(PRODUCT_SORT), fields: { products: [...ProductSerializer.attributeNames, 'account', 'releases', 'licenses'] } };
// bodies are validated after the permission check: a caller who may not write gets 403 (or 404), not 422
const createBody = new JsonApiBodyPipe({ type: 'products', dto: CreateProductDto, attributes: PRODUCT_ATTRIBUTES });
const updateBody = new JsonApiBodyPipe({ type: 'products', dto: UpdateProductDto, attributes: PRODUCT_ATTRIBUTES, partial: true });
const tokenBody = new JsonApiBodyPipe({ type: 'tokens', dto: CreateTokenDto, attributes: TOKEN_ATTRIBUTES });

@SettlesCatalogue()
@Controller('v1/accounts/:account/products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(ProductSerializer, 'created')
  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!ProductPolicy.canManage(bearer)) throw ApiError.forbidden();
    const dto = await createBody.transform(body);
    const doc = singleDocument(ProductSerializer, await this.products.create(bearer, account.id, dto));
    return created(res, doc);
  }

  @ApiDocument(ProductSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.products.list(bearer, account.id, q);
    return listDocument(ProductSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(ProductSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q) {
    const q = parseListQuery(query, LIST);
    return singleDocument(ProductSerializer, await this.products.findVisible(bearer, account.id, id), { fields: q.fields });
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(ProductSerializer, 'single')
  @Patch(':id')
  async update(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const product = await this.products.findManageable(bearer, account.id, id);
    const dto = await updateBody.transformFor(body, product.id, toResource(ProductSerializer, product));
    return singleDocument(ProductSerializer, await this.products.update(account.id, product, dto));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q): Promise<void> {
    await this.products.remove(bearer, account.id, id, booleanParam(query, 'force') ?? false);
  }

  /** Issues a product token (the secret is in this response only). The body is optional. */
  @ApiJsonApiBody(tokenBody)
  @ApiDocument(TokenSerializer, 'created')
  @Post(':id/tokens')
  async issueToken(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const product = await this.products.findManageable(bearer, account.id, id);
    const hasBody = body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body as object).length === 0);
    const dto = hasBody ? await tokenBody.transform(body) : new CreateTokenDto();
    const doc = singleDocument(TokenSerializer, await this.products.issueToken(account.id, product, dto));
    return created(res, doc);
  }
}
