import { DataSource, DataSourceOptions } from 'typeorm';
import { InitialSchema1732300000000 } from './migrations/1732300000000-InitialSchema';
import { CatalogueNotifications1764000000000 } from './migrations/1764000000000-CatalogueNotifications';
import { ReleasePolicy1765000000000 } from './migrations/1765000000000-ReleasePolicy';
import { ArtifactUploadUrls1765100000000 } from './migrations/1765100000000-ArtifactUploadUrls';
import { EventsWebhooksAnalytics1765200000000 } from './migrations/1765200000000-EventsWebhooksAnalytics';
import { CatalogueRowNotifications1766000000000 } from './migrations/1766000000000-CatalogueRowNotifications';
import { ReleaseArtifacts1767000000000 } from './migrations/1767000000000-ReleaseArtifacts';
import { WebhookFairness1767100000000 } from './migrations/1767100000000-WebhookFairness';
import { Packages1767200000000 } from './migrations/1767200000000-Packages';
import { UpdatePolicyTwo1767300000000 } from './migrations/1767300000000-UpdatePolicyTwo';
import { AdoptionHistory1767400000000 } from './migrations/1767400000000-AdoptionHistory';

/** Migrations listed explicitly (not globbed) so that the same list works from ts (tests) and dist (server). */
export const MIGRATIONS = [
  InitialSchema1732300000000,
  CatalogueNotifications1764000000000,
  ReleasePolicy1765000000000,
  ArtifactUploadUrls1765100000000,
  EventsWebhooksAnalytics1765200000000,
  CatalogueRowNotifications1766000000000,
  ReleaseArtifacts1767000000000,
  WebhookFairness1767100000000,
  Packages1767200000000,
  UpdatePolicyTwo1767300000000,
  AdoptionHistory1767400000000,
];

/** Limits and hardening: a request that waits longer than this for a pooled connection gets 503. */
export const POOL_WAIT_MS = 5000;

/**
 * `statementTimeoutMs` bounds every statement twice: PostgreSQL cancels it (statement_timeout),
 * and the client gives up as well (query_timeout), so that a frozen server that cancels nothing
 * cannot pin a request either. `entities` is the app's list (src/entities.ts): the entities
 * live in the domain folders above this one.
 */
export function dataSourceOptions(url: string, entities: DataSourceOptions['entities'], statementTimeoutMs?: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: 20,
      connectionTimeoutMillis: POOL_WAIT_MS,
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 250 } : {}),
    },
  };
}

/** Advisory-lock key shared by every instance, so only one runs migrations at a time. */
const MIGRATION_LOCK_KEY = 7_305_218_461;

/** Runs pending migrations while holding a session-level advisory lock. */
export async function runMigrations(dataSource: DataSource): Promise<number> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.length;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
