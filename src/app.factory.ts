import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import type { DestinationStream, Logger } from 'pino';
import { AppConfig } from './config/config';
import { runMigrations } from './database/data-source';
import { JsonApiErrorFilter } from './jsonapi/error.filter';
import { jsonApiEdge } from './jsonapi/request.middleware';
import { createLogger, PinoNestLogger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { requestObserver } from './observability/request-log';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi';

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
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, metrics), {
    bodyParser: false, // the JSON:API edge parses JSON bodies; artifact uploads stream raw
    logger: new PinoNestLogger(logger),
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  // the observer first: it logs the answers the edge gives itself (406, 415, 400) too
  app.use(requestObserver(logger, metrics));
  const errors = new JsonApiErrorFilter();
  app.use(jsonApiEdge((error, req, res) => errors.respond(error, req, res)));
  app.useGlobalFilters(errors);
  // Large artifact uploads may take longer than Node's default 5-minute request timeout; stalled
  // uploads are cut off by the upload's own idle timeout instead.
  app.getHttpServer().requestTimeout = 0;
  await runMigrations(app.get(DataSource));
  // before init: Nest's 404 handler goes last, after every route
  serveOpenApi(app, buildOpenApiDocument(app, config.publicUrl));
  await app.init();
  return app;
}
