import { Controller, Get, Param, Query } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import type { Query as Q } from '../jsonapi/query';
import { ApiAnswer, ApiQueryParams } from '../openapi/decorators';
import { AnalyticsService, parseAnalyticsFilters } from './analytics.service';

const FILTERS = {
  days: 'The window, in days up to today (1..365, default 30)',
  platform: 'Only installs (or releases) on this platform',
  channel: 'Only checks on this channel; for `latest`, the channel and every more stable one (default stable)',
};

const VERSIONS_SCHEMA = {
  type: 'object',
  properties: {
    data: { type: 'array', items: { type: 'object', properties: { version: { type: 'string' }, installs: { type: 'integer' }, share: { type: 'number' } } } },
    meta: {
      type: 'object',
      properties: {
        latest: { type: ['string', 'null'] },
        onLatestShare: { type: 'number' },
        installs: { type: 'integer' },
        checks: { type: 'integer' },
        days: { type: 'integer' },
      },
    },
  },
};

const DOWNLOADS_SCHEMA = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: { type: 'object', properties: { day: { type: 'string', format: 'date' }, version: { type: 'string' }, downloads: { type: 'integer' }, upgrades: { type: 'integer' } } },
    },
    meta: { type: 'object', properties: { downloads: { type: 'integer' }, upgrades: { type: 'integer' }, days: { type: 'integer' } } },
  },
};

/** Adoption analytics of a product (admins). */
@Controller('v1/accounts/:account/products/:product/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @ApiAnswer(200, 'Installs (distinct licenses, users or installIds) by the version their last update check in the window reported', 'application/vnd.api+json', VERSIONS_SCHEMA)
  @ApiQueryParams(FILTERS)
  @Get('versions')
  versions(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('product') product: string, @Query() query: Q) {
    return this.analytics.versions(bearer, account.id, product, parseAnalyticsFilters(query));
  }

  @ApiAnswer(200, 'Downloads and upgrades per day and per version', 'application/vnd.api+json', DOWNLOADS_SCHEMA)
  @ApiQueryParams(FILTERS)
  @Get('downloads')
  downloads(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('product') product: string, @Query() query: Q) {
    return this.analytics.downloads(bearer, account.id, product, parseAnalyticsFilters(query));
  }
}
