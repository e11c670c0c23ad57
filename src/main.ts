import 'reflect-metadata';
import { createApp } from './app.factory';
import { EmbeddedDatabase, EmbeddedStartError, startEmbeddedPostgres } from './database/embedded-postgres';
import { startProcess, stopOnSignals } from './process';

async function main(): Promise<void> {
  const { config, logger, fail } = startProcess();

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
  logger.info(startLine(config.port, config.publicUrl, embedded));
  if (!config.rootToken) {
    logger.warn('ROOT_TOKEN is unset: no account can be created over the API (set ROOT_TOKEN to a secret of 16+ characters and restart, or stop the server and run `npm run setup`, which works on its database directly)');
  }

  stopOnSignals(logger, async () => {
    await app.close().catch(() => undefined);
    await stopEmbedded();
  });
}

/** What an operator needs from the start: where the server answers, its API reference, and where the database is when a backup of DATA_DIR would miss it. */
function startLine(port: number, publicUrl: string, embedded: EmbeddedDatabase | undefined): string {
  const base = publicUrl.replace(/\/+$/, '');
  const where = embedded && !embedded.underDataDir ? `; the embedded database is outside DATA_DIR, in ${embedded.directory}` : '';
  return `Shipgate listening on port ${port} (${base}); API reference at ${base}/docs${where}`;
}

void main();
