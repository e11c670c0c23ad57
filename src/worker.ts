import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DataSource, DataSourceOptions } from 'typeorm';
import { dataSourceOptions, runMigrations } from './database/data-source';
import { ENTITIES } from './entities';
import { PinoNestLogger } from './observability/logger';
import { startProcess, stopOnSignals } from './process';
import { WorkerModule } from './worker.module';

/**
 * `npm run worker`: runs the background workers (webhook deliveries, event pruning) without the
 * HTTP API, against the PostgreSQL of DATABASE_URL shared with the API instances (which may then
 * run with WORKERS=0). WORKERS sets how many deliveries it attempts at once.
 */
async function main(): Promise<void> {
  const { config, logger, fail } = startProcess();
  const databaseUrl = config.databaseUrl;
  if (!databaseUrl) return fail('the worker needs DATABASE_URL: the PostgreSQL its API instances use (an embedded database belongs to the server that started it)');
  if (config.events.workers === 0) return fail('WORKERS is 0: the worker would have nothing to do');

  let app;
  try {
    const migrator = new DataSource({ ...dataSourceOptions(databaseUrl, ENTITIES), extra: { max: 2, connectionTimeoutMillis: 30_000 } } as DataSourceOptions);
    await migrator.initialize();
    try {
      await runMigrations(migrator);
    } finally {
      await migrator.destroy();
    }
    app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ ...config, databaseUrl }), { logger: new PinoNestLogger(logger) });
    await app.init();
  } catch (error) {
    return fail(`the worker failed to start: ${(error as Error).message}`);
  }
  logger.info(`Shipgate worker running (${config.events.workers} delivery workers)`);

  stopOnSignals(logger, () => app.close());
}

void main();
