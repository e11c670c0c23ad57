import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppModule } from './app.module';
import type { DestinationStream, Logger } from 'pino';
import { AppConfig } from './config/config';
import { dataSourceOptions, runMigrations } from './database/data-source';
import { ENTITIES } from './entities';
import { DatabaseOutageLog } from './database/outage-log';
import { ShipgateExpressAdapter } from './jsonapi/http-server';
import { JsonApiErrorFilter } from './jsonapi/error.filter';
import { jsonApiEdge, parseQueryOnce } from './jsonapi/request.middleware';
import { createLogger, PinoNestLogger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { requestObserver } from './observability/request-log';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi';
import { serveConsole } from './console/console';

export interface AppOptions {
  /** The process's logger (main.ts makes one before the database starts); made from the config when absent. */
  logger?: Logger;
  /** Where a logger made here writes instead of stdout (tests). */
  logDestination?: DestinationStream;
}

/**
 * Builds the HTTP application (used by main.ts and by the e2e tests alike): migrations under a
 * lock, the JSON:API edge, the global filter. The caller listens.
 */
export async function createApp(config: AppConfig & { databaseUrl: string }, options: AppOptions = {}): Promise<INestApplication> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat }, options.logDestination);
  const metrics = new Metrics();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, metrics), new ShipgateExpressAdapter(), {
    bodyParser: false, // the JSON:API edge parses JSON bodies; artifact uploads stream raw
    logger: new PinoNestLogger(logger),
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  parseQueryOnce(app.getHttpAdapter().getInstance().request);
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  const db = app.get(DataSource);
  const errors = new JsonApiErrorFilter(new DatabaseOutageLog(() => db.query('SELECT 1')));
  app.use(jsonApiEdge(config, (error, req, res) => errors.respond(error, req, res), requestObserver(logger, metrics)));
  app.useGlobalFilters(errors);
  // server timeouts (headers 10 s, keep-alive 5 s, no whole-request limit for uploads): ShipgateExpressAdapter
  // migrations (and the wait for another instance's) may outlast STATEMENT_TIMEOUT_MS: their own connection, no timeout
  const migrator = new DataSource({ ...dataSourceOptions(config.databaseUrl, ENTITIES), extra: { max: 2, connectionTimeoutMillis: 30_000 } } as DataSourceOptions);
  await migrator.initialize();
  try {
    await runMigrations(migrator);
  } finally {
    await migrator.destroy();
  }
  // before init: Nest's 404 handler goes last, after every route
  serveOpenApi(app, buildOpenApiDocument(app, config.publicUrl));
  serveConsole(app, config);
  await app.init();
  return app;
}
