import { DataSource } from 'typeorm';
import type { Bearer } from '../../src/access/bearer';
import { CountersService } from '../../src/counters/counters.service';
import type { Channel } from '../../src/releases/release.entity';
import { parseStrictVersion, semverColumns } from '../../src/releases/semver';
import { UpgradeFinder } from '../../src/upgrades/upgrade-finder';
import type { UpgradeQuery } from '../../src/upgrades/upgrade-finder';
import { startApp, TestApp } from '../support/app';
import { createAccount, TestAccount } from '../support/factories';
import { createLicense, createProduct } from '../support/catalogue.factories';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { CatalogueService } from '../../src/catalogue/catalogue.service';

/**
 * The finder against real PostgreSQL, with rows written directly in SQL (the HTTP routes are
 * covered by upgrades.e2e-spec.ts): precedence, inclusive channels, constraints, line filters.
 * Once from the in-memory catalogue (which learns of the SQL writes through NOTIFY) and once with
 * the catalogue off (the SQL path): both must give the same answers.
 */
describe.each([
  ['catalogue', {}],
  ['SQL', { CATALOGUE: 'false' }],
])('UpgradeFinder (%s)', (_name, env: Record<string, string>) => {
  let t: TestApp;
  let db: DataSource;
  let finder: UpgradeFinder;
  let account: TestAccount;
  let productId: string;
  let admin: Bearer;

  async function insert(version: string, channel: Channel, extra: { platform?: string; filetype?: string; status?: string; artifact?: boolean } = {}) {
    const c = semverColumns(parseStrictVersion(version)!);
    const platform = extra.platform ?? 'linux';
    const filetype = extra.filetype ?? 'tar.gz';
    const rows: Array<{ id: string }> = await db.query(
      `INSERT INTO releases (account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_prerelease, semver_build,
         semver_is_release, semver_pre_key, semver_build_key, channel, platform, filename, filetype, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
      [account.id, productId, version, c.semverMajor, c.semverMinor, c.semverPatch, c.semverPrerelease, c.semverBuild, c.semverIsRelease,
        c.semverPreKey, c.semverBuildKey, channel, platform, `${platform}/${channel}/app-${version}.${filetype}`, filetype, extra.status ?? 'PUBLISHED'],
    );
    if (extra.artifact !== false) {
      await db.query(
        `INSERT INTO artifacts (account_id, release_id, filename, filetype, status) VALUES ($1, $2, 'f', $3, 'UPLOADED')`,
        [account.id, rows[0].id, filetype],
      );
    }
    return rows[0].id;
  }

  const next = async (current: string, rest: Partial<UpgradeQuery> = {}, bearer?: Bearer) =>
    (await finder.findNext(bearer ?? admin, account.id, { productId, platform: 'linux', channel: 'stable', current: parseStrictVersion(current)!, ...rest }))?.release.version ?? null;

  beforeAll(async () => {
    t = await startApp(env);
    db = t.app.get(DataSource);
    finder = t.app.get(UpgradeFinder);
    account = await createAccount(t);
    productId = (await createProduct(t, account, { distributionStrategy: 'OPEN' })).id;
    admin = { kind: 'admin', accountId: account.id, userId: account.adminId, tokenId: 'x' };
    for (const [v, ch] of [
      ['1.0.0', 'stable'], ['1.1.0', 'stable'], ['1.2.0-beta.1', 'beta'], ['1.2.0-rc.1', 'rc'], ['2.0.0', 'stable'],
      ['2.1.0-alpha.1', 'alpha'], ['3.0.0-dev.1', 'dev'], ['3.0.0-dev.2', 'dev'], ['1.10.0-beta.10', 'beta'], ['1.10.0-beta.9', 'beta'],
    ] as Array<[string, Channel]>) {
      await insert(v, ch);
    }
    await insert('9.0.0', 'stable', { platform: 'windows', filetype: 'zip' });
    await insert('5.0.0', 'stable', { filetype: 'zip' });
    await insert('6.0.0', 'stable', { status: 'YANKED' });
    await insert('7.0.0', 'stable', { status: 'NOT_PUBLISHED', artifact: false });
  });
  afterAll(() => t.close());

  it('orders by semver precedence, not by text or creation', async () => {
    expect(await next('1.0.0', { filetype: 'tar.gz', constraint: { major: 1 }, channel: 'beta' })).toBe('1.10.0-beta.10');
    expect(await next('1.10.0-beta.9', { filetype: 'tar.gz', constraint: { major: 1, minor: 10 }, channel: 'beta' })).toBe('1.10.0-beta.10');
    expect(await next('1.10.0-beta.10', { filetype: 'tar.gz', constraint: { major: 1, minor: 10 }, channel: 'beta' })).toBeNull();
  });

  it('honours channels, constraints and the line', async () => {
    const anonymous: Bearer = { kind: 'anonymous', accountId: account.id };
    expect(await next('1.0.0', { filetype: 'tar.gz' }, anonymous)).toBe('2.0.0');
    expect(await next('1.0.0', { filetype: 'tar.gz', constraint: { major: 1 } })).toBe('1.1.0');
    expect(await next('1.0.0', { filetype: 'tar.gz', constraint: { major: 1, minor: 2 }, channel: 'rc' })).toBe('1.2.0-rc.1');
    // minor >= 2: 1.10 is a candidate too, and beta sees it
    expect(await next('1.0.0', { filetype: 'tar.gz', constraint: { major: 1, minor: 2 }, channel: 'beta' })).toBe('1.10.0-beta.10');
    expect(await next('1.2.0-beta.1', { filetype: 'tar.gz', constraint: { major: 1, minor: 2 }, channel: 'stable' })).toBeNull();
    expect(await next('2.0.0', { filetype: 'tar.gz', channel: 'alpha' }, anonymous)).toBe('2.1.0-alpha.1');
    expect(await next('2.0.0', { filetype: 'tar.gz', channel: 'beta' }, anonymous)).toBeNull();
    expect(await next('1.0.0', { filetype: 'tar.gz', channel: 'dev' })).toBe('3.0.0-dev.2');
    expect(await next('3.0.0-dev.2', { channel: 'dev' })).toBeNull();
    // without a filetype every filetype of the platform is a candidate; admins see NOT_PUBLISHED and YANKED
    expect(await next('1.0.0')).toBe('7.0.0');
    expect(await next('1.0.0', {}, anonymous)).toBe('5.0.0');
    expect(await next('1.0.0', { requireArtifact: true })).toBe('6.0.0');
    expect(await next('1.0.0', { publishedOnly: true })).toBe('5.0.0');
    expect(await next('1.0.0', { platform: 'windows' })).toBe('9.0.0');
    expect(await next('1.0.0', { platform: 'darwin' })).toBeNull();
  });

  it('finds the latest of a line', async () => {
    const latest = await finder.findLatest(admin, account.id, { productId, platform: 'linux', channel: 'stable', filetype: 'tar.gz', publishedOnly: true });
    expect(latest?.release.version).toBe('2.0.0');
  });

  it('applies the update policy: stepping stones, the minimum version, rollback after a yank, pins', async () => {
    for (const [v, extra] of [['1.0.0', {}], ['2.0.0', {}], ['3.0.0', {}], ['3.1.0', { status: 'YANKED' }]] as const) {
      const id = await insert(v, 'stable', { platform: 'policy', ...extra });
      if (v === '2.0.0') await db.query('UPDATE releases SET required = true WHERE id = $1', [id]);
    }
    await db.query(`UPDATE products SET minimum_version = '2.0.0', rollback_on_yank = true WHERE id = $1`, [productId]);
    const pinned = await createLicense(t, account, productId, { attrs: { versionPin: '<3' } });
    await t.app.get(CatalogueListener).settle();
    const cached = (await t.app.get(CatalogueService).license(account.id, pinned.key))!;
    const license: Bearer = { kind: 'license', accountId: account.id, license: cached.license, facts: cached.facts };
    const anonymous: Bearer = { kind: 'anonymous', accountId: account.id };
    const offer = async (current: string, bearer: Bearer) => {
      const o = await finder.findNext(bearer, account.id, { productId, platform: 'policy', channel: 'stable', current: parseStrictVersion(current)! });
      return o && { version: o.release.version, critical: o.critical, belowMinimum: !!o.belowMinimum, rollback: !!o.rollback };
    };
    // 2.0 is required: a caller on 1.0 steps on it (and is below the minimum: critical)
    expect(await offer('1.0.0', anonymous)).toEqual({ version: '2.0.0', critical: true, belowMinimum: true, rollback: false });
    expect(await offer('2.0.0', anonymous)).toEqual({ version: '3.0.0', critical: false, belowMinimum: false, rollback: false });
    // 3.1 was yanked: back to 3.0; pinned below 3, back to 2.0
    expect(await offer('3.1.0', anonymous)).toEqual({ version: '3.0.0', critical: false, belowMinimum: false, rollback: true });
    expect(await offer('3.1.0', license)).toEqual({ version: '2.0.0', critical: false, belowMinimum: false, rollback: true });
    expect(await offer('2.0.0', license)).toBeNull();
    expect(await offer('3.0.0', anonymous)).toBeNull();
    const latest = await finder.findLatest(license, account.id, { productId, platform: 'policy', channel: 'stable' });
    expect(latest?.release.version).toBe('2.0.0');
  });

  it('counts upgrades for customers only, in one flush', async () => {
    const id = await insert('8.0.0', 'stable', { platform: 'bsd' });
    const anonymous: Bearer = { kind: 'anonymous', accountId: account.id };
    await Promise.all(Array.from({ length: 10 }, () => finder.countUpgrade(anonymous, account.id, id)));
    await finder.countUpgrade(admin, account.id, id);
    const other = await createAccount(t);
    await finder.countUpgrade({ kind: 'anonymous', accountId: other.id }, other.id, id);
    await t.app.get(CountersService).flush();
    const rows: Array<{ upgrades: string }> = await db.query('SELECT upgrades FROM releases WHERE id = $1', [id]);
    expect(Number(rows[0].upgrades)).toBe(10);
  });
});
