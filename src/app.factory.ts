import 'reflect-metadata';
import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppModule } from './app.module';
import { AppConfig, LogLevel as ConfigLogLevel } from './config/config';
import { dataSourceOptions, runMigrations } from './database/data-source';
import { DatabaseOutageLog } from './database/outage-log';
import { edgeMiddleware } from './jsonapi/edge';
import { JsonApiErrorFilter } from './jsonapi/error.filter';
import { ShipgateExpressAdapter } from './jsonapi/http-server';

const LEVELS: ConfigLogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export function logLevels(level: ConfigLogLevel): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/**
 * Builds the HTTP application (used by main.ts and by the e2e tests alike): migrations under a
 * lock, the JSON:API edge, the global filter. The caller listens.
 */
export async function createApp(config: AppConfig & { databaseUrl: string }): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), new ShipgateExpressAdapter(), {
    bodyParser: false, // JsonApiRequestMiddleware parses JSON bodies; artifact uploads stream raw
    logger: logLevels(config.logLevel),
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  app.use(edgeMiddleware(config));
  const db = app.get(DataSource);
  const outage = new DatabaseOutageLog(() => db.query('SELECT 1'));
  app.useGlobalFilters(new JsonApiErrorFilter(outage));
  // server timeouts (headers 10 s, keep-alive 5 s, no whole-request limit for uploads): ShipgateExpressAdapter
  // migrations (and the wait for another instance's) may outlast STATEMENT_TIMEOUT_MS: their own connection, no timeout
  const migrator = new DataSource({ ...dataSourceOptions(config.databaseUrl), extra: { max: 2, connectionTimeoutMillis: 30_000 } } as DataSourceOptions);
  await migrator.initialize();
  try {
    await runMigrations(migrator);
  } finally {
    await migrator.destroy();
  }
  await app.init();
  return app;
}
