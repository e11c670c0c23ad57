import type { AppConfig } from './config/config';
import { ConfigError, loadConfig } from './config/config';
import { createLogger, flushLogger } from './observability/logger';

type Logger = ReturnType<typeof createLogger>;

/**
 * What both entry points (`npm start`, `npm run worker`) do first: read the configuration (an
 * invalid value ends the process with the message naming the variable), make the logger, and a
 * `fail` that logs one fatal line and exits.
 */
export function startProcess(): { config: AppConfig; logger: Logger; fail: (message: string) => never } {
  let config: AppConfig;
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
  return { config, logger, fail };
}

/** On SIGINT or SIGTERM (once): logs it, runs `stop`, logs "stopped", flushes the log and exits. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal} received, shutting down`);
      await stop().catch(() => undefined);
      logger.info('stopped');
      flushLogger(logger);
      process.exit(0);
    });
  }
}
