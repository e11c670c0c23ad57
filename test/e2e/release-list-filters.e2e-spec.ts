import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import type { CatalogueRelease } from '../../src/catalogue/product-releases';
import { CHANNELS, Release, RELEASE_STATUSES } from '../../src/releases/release.entity';
import { listFilterPredicate, RELEASE_LIST_FILTERS, whereListFilters } from '../../src/releases/release-list-filters';
import type { ReleaseFilters } from '../../src/releases/release-list-filters';
import { parseStrictVersion, semverColumns } from '../../src/releases/semver';
import { startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, TestAccount } from '../support/factories';

/**
 * GET /releases filters are described once (RELEASE_LIST_FILTERS) and read twice: as SQL
 * conditions (the SQL list) and as a predicate (the catalogue's memory list). On generated
 * releases of every platform, channel, filetype, version, status and yank, both must pick the same
 * releases for each value of each filter and for combinations of them, directly and through HTTP.
 * Among them are 1.1 releases (many artifacts, each with its own platform and arch, some waiting,
 * failed or yanked): `platform` matches a release on its own platform or on any artifact that is
 * not yanked, and the two twins must agree on those too.
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
  const ARCHES = [null, 'amd64', 'arm64'];
  const ARTIFACT_STATUSES = ['WAITING', 'UPLOADED', 'UPLOADED', 'FAILED', 'YANKED'];
  const FILETYPES = ['zip', 'dmg'];
  const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];
  /** 1.1 releases: their artifacts, by release id (platform, arch, status). */
  const artifactsOf = new Map<string, Array<{ id: string; platform: string; arch: string | null; filetype: string; status: string }>>();
  let twoPlatforms: { release: string; win32: string };

  /** Each filter with every value it can take here (and a value nothing has). */
  const values: { [K in keyof Required<ReleaseFilters>]: Array<Required<ReleaseFilters>[K]> } = {
    product: products,
    package: packages,
    // an artifact's platform/arch as well: a 1.1 release's own platform reads so
    platform: [...PLATFORMS, 'linux/amd64', 'win32/arm64', 'macos/arm64', 'none'],
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
    // 1.1 releases (versions unique per product among them): 0 to 3 artifacts each, of any platform, arch and status
    for (let i = 0; i < 60; i++) {
      const version = `3.${i}.0`;
      const c = semverColumns(parseStrictVersion(version)!);
      const [row] = await db.query(
        `INSERT INTO releases (account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
           channel, status, yanked, created, multi_artifact)
         VALUES ($1, $2, $3, $4, $5, $6, true, '{}', $7, $8, $9, $10, true) RETURNING id`,
        [account.id, products[i % products.length], version, c.semverMajor, c.semverMinor, c.semverPatch, pick(CHANNELS), pick(RELEASE_STATUSES),
          rnd() < 0.1 ? new Date(now - i * 1000).toISOString() : null, new Date(now - (i + 0.5) * 60_000).toISOString()],
      );
      const files: Array<{ id: string; platform: string; arch: string | null; filetype: string; status: string }> = [];
      for (let k = Math.floor(rnd() * 4); k > 0; k--) {
        const [platform, arch, filetype, status] = [pick(PLATFORMS), pick(ARCHES), pick(FILETYPES), pick(ARTIFACT_STATUSES)];
        const [a] = await db.query(
          `INSERT INTO artifacts (account_id, release_id, filename, filetype, platform, arch, status, created)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [account.id, row.id, `lf11-${i}-${k}.bin`, filetype, platform, arch, status, new Date(now - k * 1000).toISOString()],
        );
        files.push({ id: a.id, platform, arch, filetype, status });
      }
      artifactsOf.set(row.id, files);
    }
    // and one that the HTTP test yanks an artifact of: published, its first file for linux, its second for win32
    const c = semverColumns(parseStrictVersion('4.0.0')!);
    const [fixed] = await db.query(
      `INSERT INTO releases (account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key, channel, status, multi_artifact)
       VALUES ($1, $2, '4.0.0', $3, $4, $5, true, '{}', 'stable', 'PUBLISHED', true) RETURNING id`,
      [account.id, products[0], c.semverMajor, c.semverMinor, c.semverPatch],
    );
    const files = [];
    for (const [k, platform] of [[0, 'linux'], [1, 'win32']] as const) {
      const [a] = await db.query(
        `INSERT INTO artifacts (account_id, release_id, filename, filetype, platform, arch, status, created) VALUES ($1, $2, $3, 'zip', $4, 'amd64', 'UPLOADED', $5) RETURNING id`,
        [account.id, fixed.id, `fixed-${platform}.zip`, platform, new Date(now - 10_000 + k * 1000).toISOString()],
      );
      files.push({ id: a.id as string, platform, arch: 'amd64', filetype: 'zip', status: 'UPLOADED' });
    }
    artifactsOf.set(fixed.id, files);
    twoPlatforms = { release: fixed.id, win32: files[1].id };
  });
  afterAll(() => t.close());

  it('covers every filter of the table', () => {
    expect(Object.keys(values).sort()).toEqual(Object.keys(RELEASE_LIST_FILTERS).sort());
  });

  it('each filter value and combinations of them: the SQL conditions and the predicate pick the same releases', async () => {
    const catalogue = t.app.get(CatalogueService);
    const loaded: CatalogueRelease[] = [];
    for (const productId of products) for (const e of (await catalogue.productReleases(account.id, productId))!.byId.values()) loaded.push(e);
    expect(loaded.length).toBeGreaterThan(150);
    let narrowed = 0;
    for (const filters of [...oneFilterEach(), ...combinations(60)]) {
      const qb = db.createQueryBuilder(Release, 'release').where('release.account_id = :account', { account: account.id });
      const bySql = (await whereListFilters(qb, filters).getMany()).map((r) => r.id).sort();
      const matches = listFilterPredicate(filters);
      const inMemory = loaded.filter(matches).map((e) => e.release.id).sort();
      expect({ filters, ids: inMemory }).toEqual({ filters, ids: bySql });
      if (bySql.length > 0 && bySql.length < loaded.length) narrowed++;
    }
    // the data is not degenerate: most filters narrow the list to something
    expect(narrowed).toBeGreaterThan(30);
  });

  it('platform picks a 1.1 release by any artifact that is not yanked, whatever its own (first artifact\'s) platform', async () => {
    // the rule, counted by hand from the generated artifacts, against the SQL list
    const onPlatform = (platform: string) =>
      [...artifactsOf.entries()]
        .filter(([, files]) => files.some((a) => a.status !== 'YANKED' && (a.platform === platform || (a.arch !== null && `${a.platform}/${a.arch}` === platform))))
        .map(([id]) => id)
        .sort();
    let secondArtifactOnly = 0;
    for (const platform of ['linux', 'macos', 'win32', 'linux/amd64', 'win32/arm64']) {
      const qb = db.createQueryBuilder(Release, 'release').where('release.account_id = :account AND release.multi_artifact', { account: account.id });
      const rows = await whereListFilters(qb, { platform }).getMany();
      expect({ platform, ids: rows.map((r) => r.id).sort() }).toEqual({ platform, ids: onPlatform(platform) });
      // releases whose own platform (the first artifact's) is another one: what the old filter missed
      secondArtifactOnly += rows.filter((r) => r.platform !== platform).length;
    }
    expect(secondArtifactOnly).toBeGreaterThan(5);
    // a 1.1 release without any artifact left is on no platform
    const bare = [...artifactsOf.entries()].filter(([, files]) => files.every((a) => a.status === 'YANKED')).map(([id]) => id);
    expect(bare.length).toBeGreaterThan(0);
  });

  it('filetype picks a 1.1 release by any artifact that is not yanked, not only its first', async () => {
    let laterArtifactOnly = 0;
    for (const filetype of FILETYPES) {
      const byHand = [...artifactsOf.entries()]
        .filter(([, files]) => files.some((a) => a.status !== 'YANKED' && a.filetype === filetype))
        .map(([id]) => id)
        .sort();
      const qb = db.createQueryBuilder(Release, 'release').where('release.account_id = :account AND release.multi_artifact', { account: account.id });
      const rows = await whereListFilters(qb, { filetype }).getMany();
      expect({ filetype, ids: rows.map((r) => r.id).sort() }).toEqual({ filetype, ids: byHand });
      laterArtifactOnly += rows.filter((r) => r.filetype !== filetype).length;
    }
    expect(laterArtifactOnly).toBeGreaterThan(3);
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
      // a published 1.1 release whose first artifact is for linux and second for win32: listed for
      // win32 from memory as from SQL, until its win32 artifact is yanked (the catalogue applies the
      // change within its coherence delay, NOTIFY)
      const path = `/v1/accounts/${account.id}/releases?page[size]=100&platform=win32`;
      const ids = async (app: TestApp) => ((await api(app).get(path)).body.data as Array<{ id: string }>).map((r) => r.id);
      expect(await ids(t)).toContain(twoPlatforms.release);
      expect(await ids(sql)).toContain(twoPlatforms.release);
      // 1.1's name for NOT_PUBLISHED filters alike (the console offers "Draft"); 1.0 knows no DRAFT
      const drafts = `/v1/accounts/${account.id}/releases?page[size]=100&status=`;
      const admin = (app: TestApp, status: string) => api(app, bearer(account.adminToken)).get(`${drafts}${status}`).set('Keygen-Version', '1.1');
      const notPublished = (await admin(t, 'NOT_PUBLISHED')).body.data.map((r: { id: string }) => r.id);
      expect(notPublished.length).toBeGreaterThan(0);
      for (const app of [t, sql]) expect((await admin(app, 'DRAFT')).body.data.map((r: { id: string }) => r.id)).toEqual(notPublished);
      expect((await api(t, bearer(account.adminToken)).get(`${drafts}DRAFT`)).body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'status' } });
      expect((await admin(t, 'DRAFTED')).body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'status' } });
      await db.query(`UPDATE artifacts SET status = 'YANKED' WHERE id = $1`, [twoPlatforms.win32]);
      artifactsOf.get(twoPlatforms.release)!.find((a) => a.id === twoPlatforms.win32)!.status = 'YANKED';
      expect(await ids(sql)).not.toContain(twoPlatforms.release);
      const deadline = Date.now() + 5000;
      while ((await ids(t)).includes(twoPlatforms.release) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await ids(t)).toEqual(await ids(sql));
    } finally {
      await sql.close();
    }
  });
});
