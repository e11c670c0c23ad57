import 'reflect-metadata';
import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { AppConfig, LogLevel as ConfigLogLevel } from './config/config';
import { runMigrations } from './database/data-source';
import { JsonApiErrorFilter } from './jsonapi/error.filter';
import { jsonApiEdge } from './jsonapi/request.middleware';

const LEVELS: ConfigLogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export function logLevels(level: ConfigLogLevel): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/**
 * Builds the HTTP application (used by main.ts and by the e2e tests alike): migrations under a
 * lock, the JSON:API edge, the global filter. The caller listens.
 */
export async function createApp(config: AppConfig & { databaseUrl: string }): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false, // the JSON:API edge parses JSON bodies; artifact uploads stream raw
    logger: logLevels(config.logLevel),
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  const errors = new JsonApiErrorFilter();
  app.use(jsonApiEdge((error, req, res) => errors.respond(error, req, res)));
  app.useGlobalFilters(errors);
  // Large artifact uploads may take longer than Node's default 5-minute request timeout; stalled
  // uploads are cut off by the upload's own idle timeout instead.
  app.getHttpServer().requestTimeout = 0;
  await runMigrations(app.get(DataSource));
  await app.init();
  return app;
}
