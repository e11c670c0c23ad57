import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Account } from '../accounts/account.entity';
import type { Bearer } from '../auth/bearer';
import { CurrentAccount, CurrentBearer } from '../auth/decorators';
import { JsonApiBody } from '../jsonapi/body.pipe';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument, singleDocument } from '../jsonapi/serializer';
import { CreateEntitlementDto, ENTITLEMENT_ATTRIBUTES, UpdateEntitlementDto } from './dto';
import { EntitlementSerializer } from './entitlement.serializer';
import { ENTITLEMENT_SORT, EntitlementsService } from './entitlements.service';

const LIST = { sort: Object.keys(ENTITLEMENT_SORT), fields: { entitlements: [...EntitlementSerializer.attributeNames, 'account'] } };

@Controller('v1/accounts/:account/entitlements')
export class EntitlementsController {
  constructor(private readonly entitlements: EntitlementsService) {}

  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: Account,
    @JsonApiBody({ type: 'entitlements', dto: CreateEntitlementDto, attributes: ENTITLEMENT_ATTRIBUTES }) dto: CreateEntitlementDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    const doc = singleDocument(EntitlementSerializer, await this.entitlements.create(bearer, account.id, dto));
    res.status(201).location(doc.data!.links.self);
    return doc;
  }

  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.entitlements.list(bearer, account.id, q);
    return listDocument(EntitlementSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account, @Param('id') id: string, @Query() query: Q) {
    const q = parseListQuery(query, LIST);
    return singleDocument(EntitlementSerializer, await this.entitlements.findVisible(bearer, account.id, id), { fields: q.fields });
  }

  @Patch(':id')
  async update(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: Account,
    @Param('id') id: string,
    @JsonApiBody({ type: 'entitlements', dto: UpdateEntitlementDto, attributes: ENTITLEMENT_ATTRIBUTES, partial: true }) dto: UpdateEntitlementDto,
  ) {
    return singleDocument(EntitlementSerializer, await this.entitlements.update(bearer, account.id, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account, @Param('id') id: string): Promise<void> {
    await this.entitlements.remove(bearer, account.id, id);
  }
}
