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

const ADOPTION_SCHEMA = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          day: { type: 'string', format: 'date' },
          latest: { type: ['string', 'null'] },
          installs: { type: 'integer' },
          onLatest: { type: 'integer' },
          share: { type: ['number', 'null'] },
        },
      },
    },
    meta: { type: 'object', properties: { days: { type: 'integer' } } },
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

  @ApiAnswer(
    200,
    'Share on latest over time: per UTC day of the window (oldest first), the installs that checked that day, the version that was latest at the end of the day (published, not yanked; on the channel and the more stable ones; on the platform as the release list filters it), the installs whose last check of the day reported it, and their share (null on a day without checks)',
    'application/vnd.api+json',
    ADOPTION_SCHEMA,
  )
  @ApiQueryParams(FILTERS)
  @Get('adoption')
  adoption(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('product') product: string, @Query() query: Q) {
    return this.analytics.adoption(bearer, account.id, product, parseAnalyticsFilters(query));
  }

  @ApiAnswer(200, 'Downloads and upgrades per day and per version', 'application/vnd.api+json', DOWNLOADS_SCHEMA)
  @ApiQueryParams(FILTERS)
  @Get('downloads')
  downloads(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('product') product: string, @Query() query: Q) {
    return this.analytics.downloads(bearer, account.id, product, parseAnalyticsFilters(query));
  }
}
