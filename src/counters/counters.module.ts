import { Global, Module } from '@nestjs/common';
import { PendingCounts } from '../releases/pending-counts';
import { CountersService } from './counters.service';

/** Downloads and upgrades counted in memory and flushed in batches; global, as every counting route reads it. */
@Global()
@Module({
  providers: [CountersService, { provide: PendingCounts, useExisting: CountersService }],
  exports: [CountersService, PendingCounts],
})
export class CountersModule {}
