import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { parseFields, parseInclude, parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { EntitlementSerializer } from '../entitlements/entitlement.serializer';
import { ConstraintSerializer } from '../releases/constraint.serializer';
import { parseAttachBody, parseDetachBody } from './constraint-body';
import { CONSTRAINT_SORT, ConstraintsService } from './constraints.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiLinkageBody, ApiListQuery, ApiNoContent } from '../openapi/decorators';

const FIELDS = {
  constraints: [...ConstraintSerializer.attributeNames, 'account', 'release', 'entitlement'],
  entitlements: [...EntitlementSerializer.attributeNames, 'account'],
};
const LIST = { sort: Object.keys(CONSTRAINT_SORT), include: ['entitlement'], fields: FIELDS };

@SettlesCatalogue()
@Controller('v1/accounts/:account/releases/:release/constraints')
export class ConstraintsController {
  constructor(private readonly constraints: ConstraintsService) {}

  @ApiDocument(ConstraintSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort, include: LIST.include })
  @Get()
  @Public()
  async list(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('release') releaseId: string,
    @Query() query: Q,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = parseListQuery(query, LIST);
    const page = await this.constraints.list(bearer, account.id, releaseId, q);
    const included = q.include.has('entitlement') ? await this.constraints.includedEntitlements(account.id, page.items, q.fields) : undefined;
    return listDocument(ConstraintSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields, included });
  }

  @ApiDocument(ConstraintSerializer, 'single')
  @Get(':id')
  @Public()
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('release') releaseId: string, @Param('id') id: string, @Query() query: Q) {
    const include = parseInclude(query, ['entitlement']);
    const fields = parseFields(query, FIELDS);
    const constraint = await this.constraints.findVisible(bearer, account.id, releaseId, id);
    const included = include.has('entitlement') ? await this.constraints.includedEntitlements(account.id, [constraint], fields) : undefined;
    return singleDocument(ConstraintSerializer, constraint, { fields, included });
  }

  /** Attaches entitlements; answers 200 with the created constraints (Keygen's attach). */
  @ApiDocument(ConstraintSerializer, 'list')
  @ApiLinkageBody('entitlements')
  @Post()
  @HttpCode(200)
  async attach(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('release') releaseId: string, @Body() body: unknown) {
    const release = await this.constraints.assertWritable(bearer, account.id, releaseId);
    const created = await this.constraints.attach(account.id, release, parseAttachBody(body));
    return { data: created.map((c) => toResource(ConstraintSerializer, c)) };
  }

  @ApiLinkageBody('constraints')
  @ApiNoContent()
  @Delete()
  @HttpCode(204)
  async detach(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('release') releaseId: string, @Body() body: unknown): Promise<void> {
    const release = await this.constraints.assertWritable(bearer, account.id, releaseId);
    await this.constraints.detach(account.id, release, parseDetachBody(body));
  }
}
