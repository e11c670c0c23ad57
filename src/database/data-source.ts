import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES, MIGRATIONS } from './entities';

/** Limits and hardening: a request that waits longer than this for a pooled connection gets 503. */
export const POOL_WAIT_MS = 5000;

/**
 * `statementTimeoutMs` bounds every statement twice: PostgreSQL cancels it (statement_timeout),
 * and the client gives up as well (query_timeout), so that a frozen server that cancels nothing
 * cannot pin a request either.
 */
export function dataSourceOptions(url: string, statementTimeoutMs?: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
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
