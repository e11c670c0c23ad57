import { Global, Module } from '@nestjs/common';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitsService } from './rate-limits.service';

/** The rate limits: the service (sign-in also counts through it) and the guard (registered in AppModule, before authentication). */
@Global()
@Module({ providers: [RateLimitsService, RateLimitGuard], exports: [RateLimitsService, RateLimitGuard] })
export class RateLimitsModule {}
