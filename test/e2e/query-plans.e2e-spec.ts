import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { Bearer } from '../../src/access/bearer';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { parseStrictVersion } from '../../src/releases/semver';
import { UpgradeFinder } from '../../src/upgrades/upgrade-finder';
import { startApp, TestApp } from '../support/app';
import { createLicense, createProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';

/**
 * What the database does when the catalogue does not answer, at 100,000 releases of one product:
 * the upgrade query walks the release line index (no filetype needed) instead of scanning, and a
 * list page neither counts nor reads every row (its count stops at 10,000 and becomes an estimate).
 */
describe('query plans at 100,000 releases', () => {
  let t: TestApp;
  let db: DataSource;
  let account: TestAccount;
  let productId: string;

  beforeAll(async () => {
    t = await startApp({ CATALOGUE: 'false' });
    db = t.app.get(DataSource);
    account = await createAccount(t);
    productId = (await createProduct(t, account)).id;
    // seeded on a connection of its own without the app's STATEMENT_TIMEOUT_MS (10 s, which one
    // INSERT of 100,000 rows can outlast on a busy machine): the seeding is not what is tested
    const seeder = new Client({ connectionString: t.config.databaseUrl });
    await seeder.connect();
    try {
      await seeder.query('SET statement_timeout = 0');
      await seeder.query(
        `INSERT INTO releases (account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
           channel, platform, filename, filetype, status, created)
         SELECT $1, $2, (n / 1000) || '.' || (n % 1000) || '.0', n / 1000, n % 1000, 0, true, '{}', 'stable',
                CASE WHEN n % 2 = 0 THEN 'linux' ELSE 'darwin' END, 'plan-' || n || '.zip', 'zip',
                CASE WHEN n % 40 = 0 THEN 'YANKED' ELSE 'PUBLISHED' END, now() - n * interval '1 second'
           FROM generate_series(1, 100000) AS n`,
        [account.id, productId],
      );
      await seeder.query('ANALYZE releases');
    } finally {
      await seeder.end();
    }
  });
  afterAll(() => t.close());

  const plan = async (sql: string, params: unknown[]) => {
    const rows: Array<{ 'QUERY PLAN': unknown }> = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return JSON.stringify(rows[0]['QUERY PLAN']);
  };

  interface PlanNode {
    'Relation Name'?: string;
    'Actual Rows'?: number;
    'Actual Loops'?: number;
    'Rows Removed by Filter'?: number;
    'Rows Removed by Index Recheck'?: number;
    Plans?: PlanNode[];
  }
  /** Rows of `relation` the executed plan read (returned or filtered out), over every node and loop. */
  const rowsRead = async (sql: string, params: unknown[], relation: string) => {
    const rows: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }> = await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const walk = (n: PlanNode): number =>
      (n['Relation Name'] === relation
        ? ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1)
        : 0) + (n.Plans ?? []).reduce((sum, c) => sum + walk(c), 0);
    return walk(rows[0]['QUERY PLAN'][0].Plan);
  };

  it('the upgrade query of a license, without a filetype, reads the release line index', async () => {
    const license = await createLicense(t, account, productId);
    const cached = await t.app.get(CatalogueService).license(account.id, license.key);
    // as the guard makes it: the license's facts travel with the bearer
    const caller: Bearer = { kind: 'license', accountId: account.id, license: cached!.license, facts: cached!.facts };
    const [sql, params] = (
      await t.app.get(UpgradeFinder).nextQuery(caller, account.id, { productId, platform: 'linux', channel: 'stable', current: parseStrictVersion('50.0.0')! })
    ).getQueryAndParameters();
    const text = await plan(sql, params);
    expect(text).toContain('releases_line');
    expect(text).not.toMatch(/"Node Type":"Seq Scan","Parallel Aware":(true|false),"Async Capable":(true|false),"Relation Name":"releases"/);
    // the license's facts are known up front: no row looks the license or its entitlements up
    expect(text).not.toContain('"Relation Name":"licenses"');
    expect(text).not.toContain('"Relation Name":"license_entitlements"');
    // and it answers quickly enough to be the fallback, whatever the machine's speed: run, it reads
    // a handful of the 100,000 releases (a scan would read 50,000 or more)
    expect(await rowsRead(sql, params, 'releases')).toBeLessThan(100);
    // (the same count for a query that has to scan)
    expect(await rowsRead(`SELECT id FROM releases WHERE filename = $1`, ['none.zip'], 'releases')).toBeGreaterThan(50_000);
    const res = await t.http.get(`/v3/releases/update?productId=${productId}&platform=linux&channel=stable&version=50.0.0&key=${license.key}`);
    expect(res.status).toBe(200);
    expect(res.body.version).toBe('99.998.0'); // 100.0.0 is yanked, 99.999.0 is darwin's
  });

  it('an admin list page counts at most 10,000 rows, then reports an estimate', async () => {
    const res = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases?limit=10`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(10);
    expect(res.body.meta.countEstimated).toBe(true);
    expect(res.body.meta.count).toBeGreaterThan(50_000);
    expect(res.body.meta.count).toBeLessThan(200_000);
    // a small list is counted exactly
    const small = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases?platform=linux&version=3.4.0`);
    expect(small.body.meta).toEqual({ count: 1, pages: 1 });
    // the page itself reads the (account, created, id) index in order, not every row
    const text = await plan(
      `SELECT id FROM releases WHERE account_id = $1 ORDER BY created DESC, id DESC LIMIT 11`,
      [account.id],
    );
    expect(text).toContain('releases_account_created');
  });
});
