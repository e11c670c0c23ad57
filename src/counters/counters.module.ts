import { Global, Module } from '@nestjs/common';
import { CountersService } from './counters.service';

/** Downloads and upgrades counted in memory and flushed in batches; global, as every counting route reads it. */
@Global()
@Module({
  providers: [CountersService],
  exports: [CountersService],
})
export class CountersModule {}
