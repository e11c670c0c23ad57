import { availableParallelism } from 'node:os';
import * as path from 'node:path';

export type StorageDriverName = 'local' | 's3';
export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';
export type LogFormat = 'json' | 'pretty';

export interface S3Config {
  bucket: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** The validated environment. Nothing else in the code reads process.env. */
export interface AppConfig {
  port: number;
  databaseUrl?: string;
  dataDir: string;
  rootToken?: string;
  publicUrl: string;
  storageDriver: StorageDriverName;
  s3?: S3Config;
  signingSecret?: string;
  /** Request logs are written at `log`; `warn` or `error` leaves only problems. */
  logLevel: LogLevel;
  /** `json` (one object per line) or `pretty` (for a terminal; coloured only on a TTY). */
  logFormat: LogFormat;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  passwordHashCost: number;
  /** Password hashes (bcrypt) running at once, on libuv's thread pool. */
  passwordHashConcurrency: number;
  /** Password checks waiting per lane (known callers, others) beyond which a sign-in is 503. */
  passwordHashQueue: number;
  /** A failed sign-in answers no sooner than this after it arrived (0: at once). */
  signinFailureDelayMs: number;
  catalogue: CatalogueConfig;
  /** How often counted downloads and upgrades are written to the database. */
  countersFlushMs: number;
  rateLimit: RateLimitConfig;
  /** Redis for rate-limit counters shared by every instance; in memory per instance when absent. */
  redisUrl?: string;
  /** Prefix of every Redis key (instances that share limits share it; separate deployments on one Redis must not). */
  redisKeyPrefix: string;
  /** Express `trust proxy` value: which proxies' X-Forwarded-For names the client (false: the socket's address). */
  trustProxy: string | number | boolean;
  /** Origins answered by CORS: `*` or an exact list. */
  corsOrigins: '*' | string[];
  /** PostgreSQL statement timeout, also the client-side limit on one query's wait. */
  statementTimeoutMs: number;
  /** An upload whose client sends no byte for this long is abandoned; staged leftovers older than this plus a minute are swept. */
  uploadIdleTimeoutMs: number;
  /** Lifetime of an upload URL (the 307 of an empty-body artifact PUT); its artifact is FAILED when it passes unused. */
  uploadUrlTtlSeconds: number;
  /** Events, webhooks and analytics (src/events, src/webhooks, src/analytics). */
  events: EventsConfig;
}

/** Events, webhook deliveries and adoption analytics. */
export interface EventsConfig {
  /** Webhook deliveries this process attempts at once (and the event pruning); 0: no background work (an API-only instance). */
  workers: number;
  /** Deliveries in flight to one webhook endpoint at once, across all instances. */
  endpointConcurrency: number;
  /** Consecutive failed attempts after which an endpoint's circuit opens (its deliveries wait for a probe). */
  circuitThreshold: number;
  /** Wait before the first probe of an open circuit; doubled after each failed probe, up to an hour. */
  circuitProbeSeconds: number;
  /** Events older than this many days are deleted by a scheduled job. */
  retentionDays: number;
  /** Waits (seconds) before each retry of a failed webhook delivery; after the last one the delivery is FAILED. */
  retrySchedule: number[];
  /** Longest wait for a webhook receiver's answer, per attempt. */
  deliveryTimeoutMs: number;
  /** Webhook URLs may resolve to loopback, private or link-local addresses (tests, closed networks). */
  allowPrivateUrls: boolean;
  /** How often the queue's workers look for due jobs. */
  pollSeconds: number;
  /** How often recorded update checks are written to the analytics tables. */
  analyticsFlushMs: number;
}

/** Counts per window (docs/operations.md, "Limits and hardening"); `enabled: false` (RATE_LIMIT=off) disables every limit. */
export interface RateLimitConfig {
  enabled: boolean;
  /** Requests without a credential, per client IP and minute. */
  anonymousPerMin: number;
  /** Requests whose credential fails (unknown key or token, wrong password), per client IP and 15 minutes. */
  failedAuthPer15Min: number;
  /** Failed sign-ins (`POST /tokens`) per account and email and 15 minutes. */
  signinPer15Min: number;
  /** Requests per valid credential (token, license, root token) and minute. */
  credentialPerMin: number;
}

/** The hot path's in-memory catalogue (src/catalogue). */
export interface CatalogueConfig {
  /** Off: every request reads the database (the SQL path), as a fallback or for comparison. */
  enabled: boolean;
  /** Memory for cached release lines, in MiB; least recently used products are dropped beyond it. */
  budgetMb: number;
  /** Safety net behind LISTEN/NOTIFY: a cached entry older than this is reloaded. */
  ttlSeconds: number;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer between ${min} and ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be an integer between ${min} and ${max}`);
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be an absolute http(s) URL');
  return raw.replace(/\/+$/, '');
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, 'must be true or false');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = integer(env, 'PORT', 3000, 0, 65535);

  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }

  const dataDir = path.resolve(optional(env, 'DATA_DIR') ?? './.data');

  const rootToken = optional(env, 'ROOT_TOKEN');
  if (rootToken !== undefined && rootToken.length < 16) {
    throw new ConfigError('ROOT_TOKEN', 'must be at least 16 characters long');
  }

  const publicUrl = httpUrl('PUBLIC_URL', optional(env, 'PUBLIC_URL') ?? `http://localhost:${port}`);

  const storageDriver = (optional(env, 'STORAGE_DRIVER') ?? 'local') as StorageDriverName;
  if (storageDriver !== 'local' && storageDriver !== 's3') throw new ConfigError('STORAGE_DRIVER', 'must be local or s3');

  let s3: S3Config | undefined;
  if (storageDriver === 's3') {
    const bucket = optional(env, 'S3_BUCKET');
    if (!bucket) throw new ConfigError('S3_BUCKET', 'is required when STORAGE_DRIVER is s3');
    const endpoint = optional(env, 'S3_ENDPOINT');
    s3 = {
      bucket,
      endpoint: endpoint === undefined ? undefined : httpUrl('S3_ENDPOINT', endpoint),
      region: optional(env, 'S3_REGION') ?? 'us-east-1',
      accessKeyId: optional(env, 'S3_ACCESS_KEY_ID'),
      secretAccessKey: optional(env, 'S3_SECRET_ACCESS_KEY'),
      forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', false),
    };
  }

  const signingSecret = optional(env, 'SIGNING_SECRET');
  if (signingSecret !== undefined && signingSecret.length < 32) {
    throw new ConfigError('SIGNING_SECRET', 'must be at least 32 characters long');
  }

  const logLevel = (optional(env, 'LOG_LEVEL') ?? 'log') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  const logFormat = (optional(env, 'LOG_FORMAT') ?? (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError('LOG_FORMAT', 'must be json or pretty');

  const metricsToken = optional(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters long');

  const passwordHashCost = integer(env, 'PASSWORD_HASH_COST', 10, 4, 15);
  // the cores, but at most 3: libuv's pool has 4 threads (UV_THREADPOOL_SIZE) and file reads need one
  const passwordHashConcurrency = integer(env, 'PASSWORD_HASH_CONCURRENCY', Math.min(3, availableParallelism()), 1, 1024);
  const passwordHashQueue = integer(env, 'PASSWORD_HASH_QUEUE', 4 * passwordHashConcurrency, 0, 100_000);
  const signinFailureDelayMs = integer(env, 'SIGNIN_FAILURE_DELAY_MS', 1000, 0, 10_000);

  const catalogue: CatalogueConfig = {
    enabled: boolean(env, 'CATALOGUE', true),
    budgetMb: integer(env, 'CATALOGUE_BUDGET_MB', 256, 1, 65536),
    ttlSeconds: integer(env, 'CATALOGUE_TTL_SECONDS', 300, 1, 86400),
  };
  const countersFlushMs = integer(env, 'COUNTERS_FLUSH_MS', 1000, 10, 60000);

  const rateLimitSwitch = optional(env, 'RATE_LIMIT') ?? 'on';
  if (!/^(on|off)$/i.test(rateLimitSwitch)) throw new ConfigError('RATE_LIMIT', 'must be on or off');
  const rateLimit: RateLimitConfig = {
    enabled: rateLimitSwitch.toLowerCase() === 'on',
    anonymousPerMin: integer(env, 'RATE_LIMIT_ANONYMOUS_PER_MIN', 120, 1, 1_000_000_000),
    failedAuthPer15Min: integer(env, 'RATE_LIMIT_FAILED_AUTH_PER_15MIN', 50, 1, 1_000_000_000),
    signinPer15Min: integer(env, 'RATE_LIMIT_SIGNIN_PER_15MIN', 10, 1, 1_000_000_000),
    credentialPerMin: integer(env, 'RATE_LIMIT_CREDENTIAL_PER_MIN', 1200, 1, 1_000_000_000),
  };

  const redisUrl = optional(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');

  const redisKeyPrefix = optional(env, 'REDIS_KEY_PREFIX') ?? 'shipgate:';
  if (!/^[\w:.-]{1,64}$/.test(redisKeyPrefix)) throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1 to 64 letters, digits or _ : . -');

  const trustProxy = parseTrustProxy(optional(env, 'TRUST_PROXY'));

  const corsRaw = optional(env, 'CORS_ORIGINS') ?? '*';
  let corsOrigins: '*' | string[] = '*';
  if (corsRaw !== '*') {
    corsOrigins = corsRaw.split(',').map((o) => o.trim()).filter(Boolean);
    for (const origin of corsOrigins) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError('CORS_ORIGINS', `must be * or comma-separated origins such as https://admin.example.com (got ${JSON.stringify(origin)})`);
    }
    if (!corsOrigins.length) throw new ConfigError('CORS_ORIGINS', 'must be * or comma-separated origins');
  }

  const statementTimeoutMs = integer(env, 'STATEMENT_TIMEOUT_MS', 10000, 100, 3_600_000);
  const uploadIdleTimeoutMs = integer(env, 'UPLOAD_IDLE_TIMEOUT_SECONDS', 120, 1, 86400) * 1000;
  const uploadUrlTtlSeconds = integer(env, 'UPLOAD_URL_TTL_SECONDS', 3600, 1, 604800);

  const retryRaw = optional(env, 'WEBHOOKS_RETRY_SCHEDULE') ?? '30,120,600,3600,21600';
  const retrySchedule = retryRaw.split(',').map((p) => p.trim());
  if (retrySchedule.length > 20 || retrySchedule.some((p) => !/^\d+(\.\d+)?$/.test(p) || Number(p) > 604800)) {
    throw new ConfigError('WEBHOOKS_RETRY_SCHEDULE', 'must be up to 20 comma-separated waits in seconds (each at most 604800), e.g. 30,120,600,3600,21600');
  }
  const events: EventsConfig = {
    workers: integer(env, 'WORKERS', 16, 0, 256),
    endpointConcurrency: integer(env, 'WEBHOOKS_ENDPOINT_CONCURRENCY', 2, 1, 64),
    circuitThreshold: integer(env, 'WEBHOOKS_CIRCUIT_THRESHOLD', 10, 1, 1000),
    circuitProbeSeconds: integer(env, 'WEBHOOKS_CIRCUIT_PROBE_SECONDS', 60, 1, 3600),
    retentionDays: integer(env, 'EVENTS_RETENTION_DAYS', 90, 1, 36500),
    retrySchedule: retrySchedule.map(Number),
    deliveryTimeoutMs: integer(env, 'WEBHOOKS_TIMEOUT_SECONDS', 10, 1, 60) * 1000,
    allowPrivateUrls: boolean(env, 'WEBHOOKS_ALLOW_PRIVATE', false),
    pollSeconds: integer(env, 'WORKERS_POLL_SECONDS', 2, 1, 60),
    analyticsFlushMs: integer(env, 'ANALYTICS_FLUSH_MS', 5000, 10, 300000),
  };

  return {
    port, databaseUrl, dataDir, rootToken, publicUrl, storageDriver, s3, signingSecret, logLevel, logFormat, metricsToken, passwordHashCost, passwordHashConcurrency, passwordHashQueue, signinFailureDelayMs, catalogue, countersFlushMs,
    rateLimit, redisUrl, redisKeyPrefix, trustProxy, corsOrigins, statementTimeoutMs, uploadIdleTimeoutMs, events,
    uploadUrlTtlSeconds,
  };
}

/**
 * TRUST_PROXY: unset (the socket's address is the client), `true` (any proxy: only behind one that
 * overwrites X-Forwarded-For), a hop count, or comma-separated addresses/subnets/`loopback`...
 */
function parseTrustProxy(raw: string | undefined): string | number | boolean {
  if (raw === undefined || /^(false|0|no)$/i.test(raw)) return false;
  if (/^(true|yes)$/i.test(raw)) return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const parts = raw.split(',').map((p) => p.trim());
  for (const p of parts) {
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(p)) {
      throw new ConfigError('TRUST_PROXY', 'must be true, a hop count, or comma-separated addresses, subnets, loopback, linklocal or uniquelocal');
    }
  }
  return parts.join(',');
}
