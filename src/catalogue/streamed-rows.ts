import { Query } from 'pg';
import type { PoolClient } from 'pg';
import { QueryFailedError } from 'typeorm';
import type { EntityManager } from 'typeorm';

/**
 * A query whose rows go to its 'row' listeners as they arrive and are not kept. node-postgres
 * keeps a query's rows when it has a callback, and a client with `query_timeout` (the data
 * source's, database/data-source.ts) gives every query one; this one keeps none all the same.
 * Its callback's result has no rows. test/e2e/streamed-rows.e2e-spec.ts pins this on the
 * installed node-postgres.
 */
export class StreamedQuery extends Query {
  handleRowDescription(message: unknown): void {
    (Query.prototype as unknown as { handleRowDescription(m: unknown): void }).handleRowDescription.call(this, message);
    (this as unknown as { _accumulateRows: boolean })._accumulateRows = false;
  }
}

/**
 * Runs a query on the manager's connection and hands each row to `each` as it arrives, keeping
 * none. A catalogue load reads tens of thousands of rows: rows held until a query's last one
 * arrives live through young-generation collections, and so the old generation fills with them
 * (the heap then holds about twice what the catalogue keeps until a compacting collection,
 * docs/operations.md). Without a query runner (outside a transaction: a change's few rows), one
 * ordinary query. An error thrown by `each` fails the call once the query has ended.
 */
export async function eachRow<T>(m: EntityManager, sql: string, params: unknown[], each: (row: T) => void): Promise<void> {
  if (!m.queryRunner) {
    for (const row of (await m.query(sql, params)) as T[]) each(row);
    return;
  }
  // TypeORM's PostgreSQL query runner: its connection is the transaction's node-postgres client
  const client = await (m.queryRunner as unknown as { connect(): Promise<PoolClient> }).connect();
  await new Promise<void>((resolve, reject) => {
    let failed: unknown;
    const query = new StreamedQuery(sql, params, (error: Error | undefined) => {
      if (error) reject(new QueryFailedError(sql, params, error));
      else if (failed !== undefined) reject(failed);
      else resolve();
    });
    query.on('row', (row: T) => {
      if (failed !== undefined) return;
      try {
        each(row);
      } catch (error) {
        failed = error;
      }
    });
    void client.query(query);
  });
}
