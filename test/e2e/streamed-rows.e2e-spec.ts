import { Client } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { eachRow, StreamedQuery } from '../../src/catalogue/streamed-rows';

/**
 * How the catalogue reads a load's rows (catalogue/streamed-rows.ts): each row handed over as it
 * arrives and none kept by node-postgres, even on a client with `query_timeout` (as the data
 * source's are), where node-postgres otherwise keeps them all. This pins the node-postgres
 * behaviour StreamedQuery relies on.
 */
describe('streamed rows', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL, extra: { query_timeout: 10_000, statement_timeout: 10_000 } });
    await db.initialize();
  });

  afterAll(async () => {
    await db.destroy();
  });

  it('hands every row over in order and keeps none, on a client with query_timeout', async () => {
    const client = new Client({ connectionString: process.env.DATABASE_URL, query_timeout: 10_000 });
    await client.connect();
    try {
      const seen: number[] = [];
      const kept = await new Promise<number>((resolve, reject) => {
        const query = new StreamedQuery('SELECT n FROM generate_series(1, 5000) AS n', [], (error: Error | undefined, result: { rows: unknown[] }) =>
          error ? reject(error) : resolve(result.rows.length),
        );
        query.on('row', (row: { n: number }) => seen.push(row.n));
        void client.query(query);
      });
      expect(kept).toBe(0);
      expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      // an ordinary query on the same client still keeps its rows
      expect((await client.query('SELECT n FROM generate_series(1, 3) AS n')).rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await client.end();
    }
  });

  it('eachRow reads inside a transaction, and fails with the query or with the row handler', async () => {
    await db.transaction('REPEATABLE READ', async (m) => {
      const seen: number[] = [];
      await eachRow<{ n: number }>(m, 'SELECT n FROM generate_series(1, $1::int) AS n', [2500], (row) => seen.push(row.n));
      expect(seen.length).toBe(2500);
      expect(seen[2499]).toBe(2500);

      // a failure of the row handler fails the call after the query has ended: the connection stays usable
      let handled = 0;
      await expect(
        eachRow<{ n: number }>(m, 'SELECT n FROM generate_series(1, 100) AS n', [], (row) => {
          handled++;
          if (row.n === 10) throw new Error('row handler failed');
        }),
      ).rejects.toThrow('row handler failed');
      expect(handled).toBe(10);
      expect(await m.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });

    // a failing statement fails the call as TypeORM's queries fail
    await expect(
      db.transaction(async (m) => eachRow(m, 'SELECT 1 / (n - 50) FROM generate_series(1, 100) AS n', [], () => undefined)),
    ).rejects.toBeInstanceOf(QueryFailedError);

    // outside a transaction (a change's few rows): one ordinary query
    const rows: number[] = [];
    await eachRow<{ n: number }>(db.manager, 'SELECT n FROM generate_series(1, 3) AS n', [], (row) => rows.push(row.n));
    expect(rows).toEqual([1, 2, 3]);
  });
});
