import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './config';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, storageDriver: 'local', publicUrl: 'http://localhost:3000', logLevel: 'log' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.rootToken).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://dl.example.com/' }).publicUrl).toBe('https://dl.example.com');
  });

  it.each([
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: 'abc' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'not a url' }],
    ['STORAGE_DRIVER', { STORAGE_DRIVER: 'ftp' }],
    ['S3_BUCKET', { STORAGE_DRIVER: 's3' }],
    ['S3_ENDPOINT', { STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'nope' }],
    ['S3_FORCE_PATH_STYLE', { STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'maybe' }],
    ['SIGNING_SECRET', { SIGNING_SECRET: 'short' }],
    ['ROOT_TOKEN', { ROOT_TOKEN: 'short' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['PASSWORD_HASH_CONCURRENCY', { PASSWORD_HASH_CONCURRENCY: '0' }],
    ['PASSWORD_HASH_QUEUE', { PASSWORD_HASH_QUEUE: 'lots' }],
    ['SIGNIN_FAILURE_DELAY_MS', { SIGNIN_FAILURE_DELAY_MS: '60000' }],
    ['RATE_LIMIT', { RATE_LIMIT: 'maybe' }],
    ['RATE_LIMIT_ANONYMOUS_PER_MIN', { RATE_LIMIT_ANONYMOUS_PER_MIN: '0' }],
    ['RATE_LIMIT_FAILED_AUTH_PER_15MIN', { RATE_LIMIT_FAILED_AUTH_PER_15MIN: 'many' }],
    ['RATE_LIMIT_SIGNIN_PER_15MIN', { RATE_LIMIT_SIGNIN_PER_15MIN: '-1' }],
    ['RATE_LIMIT_CREDENTIAL_PER_MIN', { RATE_LIMIT_CREDENTIAL_PER_MIN: '1.5' }],
    ['REDIS_URL', { REDIS_URL: 'http://redis:6379' }],
    ['REDIS_KEY_PREFIX', { REDIS_KEY_PREFIX: 'has space' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'everyone' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'admin.example.com' }],
    ['STATEMENT_TIMEOUT_MS', { STATEMENT_TIMEOUT_MS: '10' }],
    ['UPLOAD_IDLE_TIMEOUT_SECONDS', { UPLOAD_IDLE_TIMEOUT_SECONDS: '0' }],
  ])('names %s when it is invalid', (variable, env) => {
    const error = errorOf(env as Record<string, string>);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  it('never puts a secret value in the message', () => {
    expect(errorOf({ ROOT_TOKEN: 'sekrit' }).message).not.toContain('sekrit');
    expect(errorOf({ REDIS_URL: 'http://:sekrit-password@redis:6379' }).message).not.toContain('sekrit');
  });

  it('hashes passwords on as many threads as there are cores (at most 3), with a queue of four per thread; failed sign-ins take a second', () => {
    const config = loadConfig({});
    expect(config.passwordHashConcurrency).toBe(Math.min(3, availableParallelism()));
    expect(config.passwordHashQueue).toBe(4 * config.passwordHashConcurrency);
    expect(loadConfig({ PASSWORD_HASH_CONCURRENCY: '2' })).toMatchObject({ passwordHashConcurrency: 2, passwordHashQueue: 8 });
    expect(loadConfig({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0' })).toMatchObject({ passwordHashConcurrency: 1, passwordHashQueue: 0 });
    expect(config.signinFailureDelayMs).toBe(1000);
    expect(loadConfig({ SIGNIN_FAILURE_DELAY_MS: '0' }).signinFailureDelayMs).toBe(0);
  });

  it('has the documented limits and timeouts by default, and reads every RATE_LIMIT_* variable', () => {
    const config = loadConfig({});
    expect(config.rateLimit).toEqual({ enabled: true, anonymousPerMin: 120, failedAuthPer15Min: 50, signinPer15Min: 10, credentialPerMin: 1200 });
    expect(config).toMatchObject({ corsOrigins: '*', statementTimeoutMs: 10000, uploadIdleTimeoutMs: 120000, trustProxy: false, redisKeyPrefix: 'shipgate:' });
    expect(config.redisUrl).toBeUndefined();
    const lifted = loadConfig({
      RATE_LIMIT_ANONYMOUS_PER_MIN: '100000000',
      RATE_LIMIT_FAILED_AUTH_PER_15MIN: '100000000',
      RATE_LIMIT_SIGNIN_PER_15MIN: '100000000',
      RATE_LIMIT_CREDENTIAL_PER_MIN: '100000000',
    });
    expect(lifted.rateLimit).toEqual({ enabled: true, anonymousPerMin: 1e8, failedAuthPer15Min: 1e8, signinPer15Min: 1e8, credentialPerMin: 1e8 });
    expect(loadConfig({ RATE_LIMIT: 'off' }).rateLimit.enabled).toBe(false);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example:8443' }).corsOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback,10.0.0.0/8');
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
  });
});
