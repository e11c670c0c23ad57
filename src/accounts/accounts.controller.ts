import { Body, Controller, Get, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { created, singleDocument, toResource } from '../jsonapi/serializer';
import { UserSerializer } from '../users/user.serializer';
import type { Account } from './account.entity';
import { AccountSerializer } from './account.serializer';
import { AccountsService } from './accounts.service';
import { ACCOUNT_ATTRIBUTES, CreateAccountDto, UpdateAccountDto } from './dto';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiJsonApiBody } from '../openapi/decorators';

const createBody = new JsonApiBodyPipe({
  type: 'accounts',
  dto: CreateAccountDto,
  attributes: ACCOUNT_ATTRIBUTES,
  relationships: { admins: { type: 'users', embedded: true } },
});
const updateBody = new JsonApiBodyPipe({ type: 'accounts', dto: UpdateAccountDto, attributes: ACCOUNT_ATTRIBUTES, partial: true });

@SettlesCatalogue()
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** Root token only (the guard admits nothing else outside an account). */
  @ApiJsonApiBody(createBody)
  @ApiDocument(AccountSerializer, 'created')
  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @Body(createBody) dto: CreateAccountDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (bearer.kind !== 'root') throw ApiError.forbidden('Only the root token can create accounts');
    const { account, admin } = await this.accounts.create(dto);
    const doc = singleDocument(AccountSerializer, account, { included: [toResource(UserSerializer, admin)] });
    doc.data!.relationships!.admins = { links: { related: `${doc.data!.links.self}/users` }, data: [{ type: 'users', id: admin.id }] };
    return created(res, doc);
  }

  @ApiDocument(AccountSerializer, 'single')
  @Get(':account')
  show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account) {
    if (bearer.kind !== 'admin' && bearer.kind !== 'root') throw ApiError.forbidden();
    return singleDocument(AccountSerializer, account);
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(AccountSerializer, 'single')
  @Patch(':account')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: Account, @Body() body: unknown) {
    if (bearer.kind !== 'admin') throw ApiError.forbidden();
    // a data.id naming another account is 409; what the client read may be sent back unchanged
    const dto = await updateBody.transformFor(body, account.id, toResource(AccountSerializer, account));
    return singleDocument(AccountSerializer, await this.accounts.update(account, dto));
  }
}
