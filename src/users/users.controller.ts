import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument, toResource } from '../jsonapi/serializer';
import { CreateUserDto, UpdateUserDto, USER_ATTRIBUTES, USER_UPDATE_ATTRIBUTES } from './dto';
import { UserSerializer } from './user.serializer';
import { USER_SORT, UserPolicy, UsersService } from './users.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent } from '../openapi/decorators';

const createBody = new JsonApiBodyPipe({ type: 'users', dto: CreateUserDto, attributes: USER_ATTRIBUTES });
const updateBody = new JsonApiBodyPipe({ type: 'users', dto: UpdateUserDto, attributes: USER_UPDATE_ATTRIBUTES, partial: true });
const LIST = { sort: Object.keys(USER_SORT), fields: { users: UserSerializer.attributeNames } };

@SettlesCatalogue()
@Controller('v1/accounts/:account/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(UserSerializer, 'created')
  @Post()
  async create(
    @CurrentBearer() bearer: Bearer,
    @CurrentAccount() account: AccountRef,
    @Body(createBody) dto: CreateUserDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!UserPolicy.canManage(bearer)) throw ApiError.forbidden();
    const user = await this.users.create(account.id, dto);
    const doc = singleDocument(UserSerializer, user);
    return created(res, doc);
  }

  @ApiDocument(UserSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.users.list(bearer, account.id, q);
    return listDocument(UserSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(UserSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q) {
    const q = parseListQuery(query, LIST);
    return singleDocument(UserSerializer, await this.users.findVisible(bearer, account.id, id), { fields: q.fields });
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(UserSerializer, 'single')
  @Patch(':id')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown) {
    const user = await this.users.findVisible(bearer, account.id, id);
    // a data.id naming another user is 409; what the client read may be sent back unchanged
    const dto = await updateBody.transformFor(body, user.id, toResource(UserSerializer, user));
    return singleDocument(UserSerializer, await this.users.update(bearer, account.id, user, dto));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.users.remove(bearer, account.id, id);
  }
}
