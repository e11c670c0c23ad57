import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/config';
import { EmbeddedDatabase, EmbeddedStartError, startEmbeddedPostgres } from './database/embedded-postgres';
import { createLogger, flushLogger } from './observability/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const fail = (message: string): never => {
    logger.fatal(message);
    flushLogger(logger);
    process.exit(1);
  };

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, (m) => logger.info({ context: 'EmbeddedPostgres' }, m));
    } catch (error) {
      // EmbeddedStartError already names the cause and the fix in one line
      const message = error instanceof EmbeddedStartError ? error.message : `could not start the embedded PostgreSQL under DATA_DIR (${config.dataDir}): ${(error as Error).message}`;
      return fail(message);
    }
    databaseUrl = embedded.url;
  }

  let stopping = false;
  const stopEmbedded = async () => {
    if (embedded) await embedded.stop().catch((e) => logger.error(`stopping embedded PostgreSQL: ${e}`));
    embedded = undefined;
  };

  let app;
  try {
    app = await createApp({ ...config, databaseUrl }, { logger });
  } catch (error) {
    await stopEmbedded();
    return fail(`failed to start: ${(error as Error).message}`);
  }
  try {
    await app.listen(config.port);
  } catch (error) {
    await app.close().catch(() => undefined);
    await stopEmbedded();
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code === 'EADDRINUSE' ? `port ${config.port} is already in use: stop what listens there or set PORT to another port` : `could not listen on port ${config.port}: ${(error as Error).message}`);
  }
  logger.info(`Shipgate listening on port ${config.port} (${config.publicUrl})`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal} received, shutting down`);
      await app.close().catch(() => undefined);
      await stopEmbedded();
      flushLogger(logger);
      process.exit(0);
    });
  }
}

void main();
