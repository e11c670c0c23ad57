import type { LoggerService } from '@nestjs/common';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/config';

/** LOG_LEVEL speaks Nest's names; pino has its own. */
const PINO_LEVELS: Record<LogLevel, pino.Level> = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/**
 * Nest's start-up chatter (one line per module and per route, ~110 lines) is kept for `debug`:
 * at the default level a start prints what the operator needs and nothing else.
 */
const CHATTY_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'NestFactory', 'NestApplication']);

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
}

/**
 * The process's one logger: JSON lines on stdout (`time`, `level`, `msg`, then the fields), or a
 * human-readable rendering for `pretty`, coloured only when stdout is a terminal. `destination`
 * replaces stdout (the tests collect lines with it).
 */
export function createLogger(options: LogOptions, destination?: DestinationStream): Logger {
  const base: pino.LoggerOptions = {
    level: PINO_LEVELS[options.level],
    base: undefined, // no pid/hostname on every line
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(base, destination);
  if (options.format === 'pretty') {
    return pino(base, pretty({ colorize: Boolean(process.stdout.isTTY), sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  // buffered writes (4 KiB) keep logging off the hot path; written at least every second, and on
  // exit (see flushLogger), so that a quiet server's lines are not held back
  const logger = pino(base, pino.destination({ dest: 1, minLength: 4096, sync: false }));
  setInterval(() => logger.flush(), 1000).unref();
  return logger;
}

/** Writes what the logger still buffers (before process.exit). */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
    const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { flushSync?: () => void } | undefined;
    stream?.flushSync?.();
  } catch {
    // nothing buffered, or stdout is gone
  }
}

function split(params: unknown[]): { context?: string; rest: unknown[] } {
  const last = params[params.length - 1];
  return typeof last === 'string' && params.length > 0 ? { context: last, rest: params.slice(0, -1) } : { rest: params };
}

function text(message: unknown): string {
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : JSON.stringify(message);
}

/** Nest's LoggerService on top of pino, so that every `new Logger(context)` in the code writes JSON lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const { context } = split(params);
    if (context && CHATTY_CONTEXTS.has(context)) this.logger.debug({ context }, text(message));
    else this.logger.info(context ? { context } : {}, text(message));
  }

  error(message: unknown, ...params: unknown[]): void {
    const { context, rest } = split(params);
    const stack = typeof rest[0] === 'string' ? rest[0] : message instanceof Error ? message.stack : undefined;
    this.logger.error({ ...(context ? { context } : {}), ...(stack ? { stack } : {}) }, text(message));
  }

  warn(message: unknown, ...params: unknown[]): void {
    const { context } = split(params);
    this.logger.warn(context ? { context } : {}, text(message));
  }

  debug(message: unknown, ...params: unknown[]): void {
    const { context } = split(params);
    this.logger.debug(context ? { context } : {}, text(message));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    const { context } = split(params);
    this.logger.trace(context ? { context } : {}, text(message));
  }

  fatal(message: unknown, ...params: unknown[]): void {
    const { context } = split(params);
    this.logger.fatal(context ? { context } : {}, text(message));
  }
}
