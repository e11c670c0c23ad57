import { Controller, Delete, Get, HttpCode, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiError } from '../jsonapi/errors';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument } from '../jsonapi/serializer';
import { ApiDocument, ApiListQuery, ApiNoContent } from '../openapi/decorators';
import type { Account } from './account.entity';
import { AccountSerializer } from './account.serializer';
import { ACCOUNT_SORT, AccountsOperatorService } from './accounts-operator.service';

const LIST = { sort: Object.keys(ACCOUNT_SORT), fields: { accounts: AccountSerializer.attributeNames } };

function assertRoot(bearer: Bearer): void {
  if (bearer.kind !== 'root') throw ApiError.forbidden('Only the root token can list or delete accounts');
}

/** The operator's routes (root token only): every account, and deleting one. */
@SettlesCatalogue()
@Controller('v1/accounts')
export class AccountsOperatorController {
  constructor(private readonly operator: AccountsOperatorService) {}

  @ApiDocument(AccountSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    assertRoot(bearer);
    const q = parseListQuery(query, LIST);
    const page = await this.operator.list(q);
    return listDocument(AccountSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  /** Deletes the account, everything in it and its stored files. */
  @ApiNoContent()
  @Delete(':account')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account): Promise<void> {
    assertRoot(bearer);
    await this.operator.remove(account);
  }
}
