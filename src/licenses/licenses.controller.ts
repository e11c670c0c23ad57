import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { EntitlementSerializer } from '../entitlements/entitlement.serializer';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import {
  CreateLicenseDto,
  LICENSE_ATTRIBUTES,
  LICENSE_CREATE_RELATIONSHIPS,
  LICENSE_UPDATE_RELATIONSHIPS,
  parseEntitlementLinkage,
  UpdateLicenseDto,
} from './dto';
import { LicenseSerializer } from './license.serializer';
import { LICENSE_ENTITLEMENT_SORT, LICENSE_SORT, LicensePolicy, LicensesService } from './licenses.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiJsonApiBody, ApiLinkageBody, ApiListQuery, ApiNoContent, ApiQueryParams } from '../openapi/decorators';
import { parseLicenseFilters } from './license-filters';

const LIST = { sort: Object.keys(LICENSE_SORT), fields: { licenses: [...LicenseSerializer.attributeNames, 'account', 'product', 'user', 'entitlements'] } };
const ENTITLEMENT_LIST = {
  sort: Object.keys(LICENSE_ENTITLEMENT_SORT),
  fields: { entitlements: [...EntitlementSerializer.attributeNames, 'account'] },
};

// bodies are validated after the permission check: a caller who may not write gets 403 (or 404), not 422
const createBody = new JsonApiBodyPipe({ type: 'licenses', dto: CreateLicenseDto, attributes: LICENSE_ATTRIBUTES, relationships: LICENSE_CREATE_RELATIONSHIPS });
const updateBody = new JsonApiBodyPipe({
  type: 'licenses',
  dto: UpdateLicenseDto,
  attributes: LICENSE_ATTRIBUTES,
  relationships: LICENSE_UPDATE_RELATIONSHIPS,
  partial: true,
});

@SettlesCatalogue()
@Controller('v1/accounts/:account/licenses')
export class LicensesController {
  constructor(private readonly licenses: LicensesService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(LicenseSerializer, 'created')
  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!LicensePolicy.canCreate(bearer)) throw ApiError.forbidden();
    const dto = await createBody.transform(body);
    const doc = singleDocument(LicenseSerializer, await this.licenses.create(bearer, account.id, dto));
    return created(res, doc);
  }

  @ApiDocument(LicenseSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @ApiQueryParams({
    product: 'Product id or code',
    user: 'Owner (user id)',
    status: 'ACTIVE, EXPIRED or SUSPENDED',
    'expires[before]': 'Expiring before this ISO 8601 time',
    'expires[after]': 'Expiring after this ISO 8601 time',
  })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const filters = parseLicenseFilters(query);
    const page = await this.licenses.list(bearer, account.id, q, filters);
    return listDocument(LicenseSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  /** By id, or (admins and product tokens) by key. */
  @ApiDocument(LicenseSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q) {
    const q = parseListQuery(query, LIST);
    return singleDocument(LicenseSerializer, await this.licenses.findVisible(bearer, account.id, id), { fields: q.fields });
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(LicenseSerializer, 'single')
  @Patch(':id')
  async update(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const license = await this.licenses.findManageable(bearer, account.id, id);
    const dto = await updateBody.transformFor(body, license.id, toResource(LicenseSerializer, license));
    return singleDocument(LicenseSerializer, await this.licenses.update(account.id, license, dto));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.licenses.remove(bearer, account.id, id);
  }

  @ApiDocument(LicenseSerializer, 'single')
  @Post(':id/actions/suspend')
  @HttpCode(200)
  async suspend(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(LicenseSerializer, await this.licenses.setSuspended(bearer, account.id, id, true));
  }

  @ApiDocument(LicenseSerializer, 'single')
  @Post(':id/actions/reinstate')
  @HttpCode(200)
  async reinstate(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(LicenseSerializer, await this.licenses.setSuspended(bearer, account.id, id, false));
  }

  @ApiDocument(EntitlementSerializer, 'list')
  @ApiListQuery({ sort: ENTITLEMENT_LIST.sort })
  @Get(':id/entitlements')
  async entitlements(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Query() query: Q,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = parseListQuery(query, ENTITLEMENT_LIST);
    const page = await this.licenses.listEntitlements(bearer, account.id, id, q);
    return listDocument(EntitlementSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  /** Attaches `data: [{type: 'entitlements', id}]`; answers 200 with the entitlements just attached. */
  @ApiDocument(EntitlementSerializer, 'list')
  @ApiLinkageBody('entitlements')
  @Post(':id/entitlements')
  @HttpCode(200)
  async attach(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const license = await this.licenses.findManageable(bearer, account.id, id);
    const attached = await this.licenses.attachEntitlements(account.id, license, parseEntitlementLinkage(body));
    return { data: attached.map((e) => toResource(EntitlementSerializer, e)), links: { self: res.req.path }, meta: { count: attached.length } };
  }

  @ApiNoContent()
  @ApiLinkageBody('entitlements')
  @Delete(':id/entitlements')
  @HttpCode(204)
  async detach(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown): Promise<void> {
    const license = await this.licenses.findManageable(bearer, account.id, id);
    await this.licenses.detachEntitlements(account.id, license, parseEntitlementLinkage(body));
  }
}
