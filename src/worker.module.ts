import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { ENTITIES } from './entities';
import { EventsModule } from './events/events.module';
import { QueueModule } from './queue/queue.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The background workers without the HTTP API (`npm run worker`): webhook deliveries and event pruning. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig & { databaseUrl: string }): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, ENTITIES, config.statementTimeoutMs)),
        QueueModule,
        EventsModule,
        WebhooksModule,
      ],
    };
  }
}
