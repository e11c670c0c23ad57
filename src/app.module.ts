import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from './accounts/accounts.module';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { CatalogueModule } from './catalogue/catalogue.module';
import { CountersModule } from './counters/counters.module';
import { FastPathModule } from './fastpath/fastpath.module';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { ConstraintsModule } from './constraints/constraints.module';
import { dataSourceOptions } from './database/data-source';
import { ENTITIES } from './entities';
import { HealthController } from './health/health.controller';
import { ArtifactsModule } from './artifacts/artifacts.module';
import { EntitlementsModule } from './entitlements/entitlements.module';
import { LicensesModule } from './licenses/licenses.module';
import { ProductsModule } from './products/products.module';
import { PackagesModule } from './packages/packages.module';
import { EnginesModule } from './engines/engines.module';
import { ReleasesModule } from './releases/releases.module';
import { TokensModule } from './tokens/tokens.module';
import { UpgradesModule } from './upgrades/upgrades.module';
import { FeedsModule } from './feeds/feeds.module';
import { V3Module } from './v3/v3.module';
import { Metrics } from './observability/metrics';
import { ObservabilityModule } from './observability/observability.module';
import { RateLimitGuard } from './ratelimit/rate-limit.guard';
import { RateLimitsModule } from './ratelimit/rate-limits.module';
import { UsersModule } from './users/users.module';
import { AnalyticsModule } from './analytics/analytics.module';
import { EventsModule } from './events/events.module';
import { QueueModule } from './queue/queue.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { databaseUrl: string }, metrics: Metrics = new Metrics()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, ENTITIES, config.statementTimeoutMs)),
        CountersModule,
        CatalogueModule,
        FastPathModule,
        QueueModule,
        EventsModule,
        AnalyticsModule,
        RateLimitsModule,
        AuthModule,
        // the hot routes first: express tries routes in the order they were registered
        V3Module,
        UpgradesModule,
        FeedsModule,
        EnginesModule,
        ReleasesModule,
        ConstraintsModule,
        AccountsModule,
        UsersModule,
        TokensModule,
        ProductsModule,
        PackagesModule,
        EntitlementsModule,
        LicensesModule,
        ArtifactsModule,
        WebhooksModule,
        ObservabilityModule.forRoot(metrics),
      ],
      controllers: [HealthController],
      // in this order: the rate limits refuse an address out of failed checks before its credential is read
      providers: [
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_GUARD, useExisting: AuthGuard },
      ],
    };
  }
}
