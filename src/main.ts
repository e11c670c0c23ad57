import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';

async function main(): Promise<void> {
  const logger = new Logger('Shipgate');
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

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, (m) => logger.log(m));
    } catch (error) {
      logger.error(`could not start the embedded PostgreSQL under DATA_DIR (${config.dataDir}): ${(error as Error).message}`);
      process.exit(1);
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
    app = await createApp({ ...config, databaseUrl });
  } catch (error) {
    logger.error(`failed to start: ${(error as Error).message}`);
    await stopEmbedded();
    process.exit(1);
  }
  await app.listen(config.port);
  logger.log(`Shipgate listening on port ${config.port} (${config.publicUrl})`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      logger.log(`${signal} received, shutting down`);
      await app.close().catch(() => undefined);
      await stopEmbedded();
      process.exit(0);
    });
  }
}

void main();
