import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/config';

export const ROOT_TOKEN = 'test-root-token-0123456789abcdef';
export const JSONAPI = 'application/vnd.api+json';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  config: AppConfig & { databaseUrl: string };
  /** The base URL of a real listening server (for clients other than supertest). */
  baseUrl: string;
  /** Every line the app logged (JSON), in order. */
  logLines: string[];
  close(): Promise<void>;
}

/**
 * Starts the real application on a real port against the run's PostgreSQL database
 * (see global-setup.mjs). `env` overrides configuration variables for this app only.
 */
export async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-data-'));
  const config = loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    DATA_DIR: dataDir,
    ROOT_TOKEN,
    LOG_LEVEL: 'error',
    PASSWORD_HASH_COST: '4',
    SIGNING_SECRET: 'test-signing-secret-0123456789abcdef0123456789',
    // every request comes from 127.0.0.1: limits are lifted (the limiter still runs) unless a test sets its own
    RATE_LIMIT_ANONYMOUS_PER_MIN: '1000000',
    RATE_LIMIT_FAILED_AUTH_PER_15MIN: '1000000',
    RATE_LIMIT_SIGNIN_PER_15MIN: '1000000',
    RATE_LIMIT_CREDENTIAL_PER_MIN: '1000000',
    // wrong passwords answer at once unless a test sets a delay
    SIGNIN_FAILURE_DELAY_MS: '0',
    ...env,
  }) as AppConfig & { databaseUrl: string };
  const logLines: string[] = [];
  const logDestination = { write: (chunk: string) => void logLines.push(...chunk.split('\n').filter(Boolean)) };
  const app = await createApp(config, { logDestination });
  // PORT (with a matching PUBLIC_URL) for clients that follow the absolute URLs the server writes
  await app.listen(Number(env.PORT ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const http = request(baseUrl);
  return {
    app,
    http,
    config,
    baseUrl,
    logLines,
    close: async () => {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
