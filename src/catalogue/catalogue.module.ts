import { Global, Module } from '@nestjs/common';
import { CountersService } from '../counters/counters.service';
import { CatalogueListener } from './catalogue-listener';
import { CatalogueService } from './catalogue.service';
import { CatalogueSettleInterceptor } from './settle.interceptor';

/** The hot path's in-memory catalogue, its change listener, and the batched counters. */
@Global()
@Module({
  providers: [CatalogueService, CatalogueListener, CountersService, CatalogueSettleInterceptor],
  exports: [CatalogueService, CatalogueListener, CountersService, CatalogueSettleInterceptor],
})
export class CatalogueModule {}
