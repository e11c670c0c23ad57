import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { CHANNELS, Release, RELEASE_STATUSES } from '../../src/releases/release.entity';
import { listFilterPredicate, RELEASE_LIST_FILTERS, whereListFilters } from '../../src/releases/release-list-filters';
import type { ReleaseFilters } from '../../src/releases/release-list-filters';
import { parseStrictVersion, semverColumns } from '../../src/releases/semver';
import { startApp, TestApp } from '../support/app';
import { api, createAccount, TestAccount } from '../support/factories';

/**
 * GET /releases filters are described once (RELEASE_LIST_FILTERS) and read twice: as SQL
 * conditions (the SQL list) and as a predicate (the catalogue's memory list). On generated
 * releases of every platform, channel, filetype, version, status and yank, both must pick the same
 * releases for each value of each filter and for combinations of them, directly and through HTTP.
 */
describe('release list filters: SQL and memory agree', () => {
  let t: TestApp;
  let db: DataSource;
  let account: TestAccount;
  const products: string[] = [];
  /** Packages of the first product (and an id no package has). */
  const packages: string[] = [];
  const rnd = (() => {
    let s = 20261203;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  })();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
  const PLATFORMS = ['linux', 'macos', 'win32'];
  const FILETYPES = ['zip', 'dmg'];
  const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];

  /** Each filter with every value it can take here (and a value nothing has). */
  const values: { [K in keyof Required<ReleaseFilters>]: Array<Required<ReleaseFilters>[K]> } = {
    product: products,
    package: packages,
    platform: [...PLATFORMS, 'none'],
    channel: [...CHANNELS],
    filetype: [...FILETYPES, 'none'],
    version: [...VERSIONS, '9.9.9'],
    status: [...RELEASE_STATUSES],
    yanked: [true, false],
  };

  function oneFilterEach(): ReleaseFilters[] {
    return (Object.keys(values) as Array<keyof ReleaseFilters>).flatMap((name) => (values[name] as unknown[]).map((value) => ({ [name]: value })));
  }

  function combinations(count: number): ReleaseFilters[] {
    const names = Object.keys(values) as Array<keyof ReleaseFilters>;
    return Array.from({ length: count }, () => {
      const filters: Record<string, unknown> = {};
      for (const name of names) if (rnd() < 0.4) filters[name] = pick(values[name] as unknown[]);
      return filters as ReleaseFilters;
    });
  }

  beforeAll(async () => {
    t = await startApp();
    db = t.app.get(DataSource);
    account = await createAccount(t);
    for (const strategy of ['OPEN', 'OPEN']) {
      const [row] = await db.query(`INSERT INTO products (account_id, name, distribution_strategy) VALUES ($1, 'P', $2) RETURNING id`, [account.id, strategy]);
      products.push(row.id);
    }
    for (const key of ['lf-sdk', 'lf-cli']) {
      const [row] = await db.query(`INSERT INTO packages (account_id, product_id, name, key) VALUES ($1, $2, $3, $3) RETURNING id`, [account.id, products[0], key]);
      packages.push(row.id);
    }
    packages.push(randomUUID());
    const now = Date.now();
    for (let i = 0; i < 160; i++) {
      const version = pick(VERSIONS);
      const c = semverColumns(parseStrictVersion(version)!);
      const status = pick(RELEASE_STATUSES);
      const yanked = status === 'YANKED' || rnd() < 0.1 ? new Date(now - i * 1000).toISOString() : null;
      await db.query(
        `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
           channel, platform, filename, filetype, status, yanked, created, package_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, '{}', $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT DO NOTHING`,
        [randomUUID(), account.id, products[i % products.length], version, c.semverMajor, c.semverMinor, c.semverPatch, pick(CHANNELS), pick(PLATFORMS),
          `lf-${i}.bin`, pick(FILETYPES), status, yanked, new Date(now - i * 60_000).toISOString(),
          i % products.length === 0 ? pick([null, packages[0], packages[1]]) : null],
      );
    }
  });
  afterAll(() => t.close());

  it('covers every filter of the table', () => {
    expect(Object.keys(values).sort()).toEqual(Object.keys(RELEASE_LIST_FILTERS).sort());
  });

  it('each filter value and combinations of them: the SQL conditions and the predicate pick the same releases', async () => {
    const catalogue = t.app.get(CatalogueService);
    const loaded: Release[] = [];
    for (const productId of products) for (const e of (await catalogue.productReleases(account.id, productId))!.byId.values()) loaded.push(e.release);
    expect(loaded.length).toBeGreaterThan(100);
    let narrowed = 0;
    for (const filters of [...oneFilterEach(), ...combinations(60)]) {
      const qb = db.createQueryBuilder(Release, 'release').where('release.account_id = :account', { account: account.id });
      const bySql = (await whereListFilters(qb, filters).getMany()).map((r) => r.id).sort();
      const matches = listFilterPredicate(filters);
      const inMemory = loaded.filter(matches).map((r) => r.id).sort();
      expect({ filters, ids: inMemory }).toEqual({ filters, ids: bySql });
      if (bySql.length > 0 && bySql.length < loaded.length) narrowed++;
    }
    // the data is not degenerate: most filters narrow the list to something
    expect(narrowed).toBeGreaterThan(30);
  });

  it('through HTTP: lists from memory equal lists from SQL for every filter', async () => {
    const sql = await startApp({ CATALOGUE: 'false' });
    try {
      const query = (filters: ReleaseFilters) =>
        Object.entries(filters)
          .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
          .join('&');
      for (const filters of [...oneFilterEach(), ...combinations(20)]) {
        const path = `/v1/accounts/${account.id}/releases?page[size]=100&${query(filters)}`;
        const [a, b] = await Promise.all([api(t).get(path), api(sql).get(path)]);
        expect({ filters, status: a.status }).toEqual({ filters, status: b.status });
        expect({ filters, ids: a.body.data?.map((r: { id: string }) => r.id) }).toEqual({ filters, ids: b.body.data?.map((r: { id: string }) => r.id) });
      }
    } finally {
      await sql.close();
    }
  });
});
