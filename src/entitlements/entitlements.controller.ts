import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument } from '../jsonapi/serializer';
import { CreateEntitlementDto, ENTITLEMENT_ATTRIBUTES, UpdateEntitlementDto } from './dto';
import { EntitlementSerializer } from './entitlement.serializer';
import { ENTITLEMENT_SORT, EntitlementPolicy, EntitlementsService } from './entitlements.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent } from '../openapi/decorators';

const LIST = { sort: Object.keys(ENTITLEMENT_SORT), fields: { entitlements: [...EntitlementSerializer.attributeNames, 'account'] } };

// bodies are validated after the permission check: a caller who may not write gets 403 (or 404), not 422
const createBody = new JsonApiBodyPipe({ type: 'entitlements', dto: CreateEntitlementDto, attributes: ENTITLEMENT_ATTRIBUTES });
const updateBody = new JsonApiBodyPipe({ type: 'entitlements', dto: UpdateEntitlementDto, attributes: ENTITLEMENT_ATTRIBUTES, partial: true });

@SettlesCatalogue()
@Controller('v1/accounts/:account/entitlements')
export class EntitlementsController {
  constructor(private readonly entitlements: EntitlementsService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(EntitlementSerializer, 'created')
  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!EntitlementPolicy.canManage(bearer)) throw ApiError.forbidden();
    const dto = await createBody.transform(body);
    const doc = singleDocument(EntitlementSerializer, await this.entitlements.create(bearer, account.id, dto));
    return created(res, doc);
  }

  @ApiDocument(EntitlementSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.entitlements.list(bearer, account.id, q);
    return listDocument(EntitlementSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(EntitlementSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q) {
    const q = parseListQuery(query, LIST);
    return singleDocument(EntitlementSerializer, await this.entitlements.findVisible(bearer, account.id, id), { fields: q.fields });
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(EntitlementSerializer, 'single')
  @Patch(':id')
  async update(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const entitlement = await this.entitlements.findManageable(bearer, account.id, id);
    const dto = await updateBody.transformFor(body, entitlement.id);
    return singleDocument(EntitlementSerializer, await this.entitlements.update(account.id, entitlement, dto));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.entitlements.remove(bearer, account.id, id);
  }
}
