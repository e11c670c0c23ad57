import { DynamicModule, Module, OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ArtifactUploadsService } from '../artifacts/artifact-uploads.service';
import { CatalogueService } from '../catalogue/catalogue.service';
import { CountersService } from '../counters/counters.service';
import { WebhookDeliveryWorker } from '../webhooks/delivery.worker';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Serves /metrics and points the registry at the services whose totals it reports. */
@Module({})
export class ObservabilityModule implements OnApplicationBootstrap {
  static forRoot(metrics: Metrics): DynamicModule {
    return { module: ObservabilityModule, providers: [{ provide: Metrics, useValue: metrics }], controllers: [MetricsController], exports: [Metrics] };
  }

  constructor(
    private readonly metrics: Metrics,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const find = <T>(token: new (...args: never[]) => T): T | undefined => {
      try {
        return this.moduleRef.get(token, { strict: false });
      } catch {
        return undefined;
      }
    };
    const db = find(DataSource);
    this.metrics.attach({
      counters: find(CountersService),
      catalogue: find(CatalogueService),
      uploads: find(ArtifactUploadsService),
      webhooks: find(WebhookDeliveryWorker),
      pool: () => {
        const pool = (db?.driver as unknown as { master?: PgPool } | undefined)?.master;
        return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : undefined;
      },
    });
  }
}
