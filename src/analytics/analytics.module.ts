import { Global, Module } from '@nestjs/common';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsRecorder } from './analytics-recorder';
import { AnalyticsService } from './analytics.service';

/** Adoption analytics; global, so that every update-check route can call AnalyticsRecorder.recordCheck. */
@Global()
@Module({
  controllers: [AnalyticsController],
  providers: [AnalyticsRecorder, AnalyticsService],
  exports: [AnalyticsRecorder],
})
export class AnalyticsModule {}
