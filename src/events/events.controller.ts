import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { listDocument, singleDocument } from '../jsonapi/serializer';
import { ApiDocument, ApiListQuery, ApiQueryParams } from '../openapi/decorators';
import { EventSerializer } from './event.serializer';
import { EVENT_SORT, EventsService, parseEventFilters } from './events.service';

const LIST = { sort: Object.keys(EVENT_SORT), fields: { events: [...EventSerializer.attributeNames, 'account', 'resource'] } };

/** The account's event log (admins). */
@Controller('v1/accounts/:account/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @ApiDocument(EventSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @ApiQueryParams({
    type: 'Event names, comma-separated (e.g. release.published,release.yanked)',
    resource: 'The id of the resource the events are about',
    since: 'Only events at or after this ISO 8601 time',
  })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.events.list(bearer, account.id, q, parseEventFilters(query));
    return listDocument(EventSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(EventSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(EventSerializer, await this.events.findOne(bearer, account.id, id));
  }
}
