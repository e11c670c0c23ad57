import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CountersService } from '../counters/counters.service';
import { CatalogueListener } from './catalogue-listener';
import { CatalogueService } from './catalogue.service';
import { CatalogueSettleInterceptor } from './settle.interceptor';

/** The hot path's in-memory catalogue, its change listener, and the batched counters. */
@Global()
@Module({
  providers: [CatalogueService, CatalogueListener, CountersService, { provide: APP_INTERCEPTOR, useClass: CatalogueSettleInterceptor }],
  exports: [CatalogueService, CatalogueListener, CountersService],
})
export class CatalogueModule {}
