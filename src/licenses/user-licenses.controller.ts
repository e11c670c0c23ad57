import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument } from '../jsonapi/serializer';
import { LicenseSerializer } from './license.serializer';
import { LICENSE_SORT, LicensesService } from './licenses.service';
import { ApiDocument, ApiListQuery } from '../openapi/decorators';

const LIST = { sort: Object.keys(LICENSE_SORT), fields: { licenses: [...LicenseSerializer.attributeNames, 'account', 'product', 'user', 'entitlements'] } };

/** `GET /users/:id/licenses` (the user serializer's `licenses` link): the licenses the user owns, as the caller may see them. */
@Controller('v1/accounts/:account/users/:id/licenses')
export class UserLicensesController {
  constructor(private readonly licenses: LicensesService) {}

  @ApiDocument(LicenseSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Param('id') id: string,
    @Query() query: Q,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = parseListQuery(query, LIST);
    const page = await this.licenses.listOfUser(bearer, account.id, id, q);
    return listDocument(LicenseSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }
}
