import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Bearer } from '../../src/access/bearer';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { Release } from '../../src/releases/release.entity';
import { ReleaseOffer } from '../../src/releases/release-offer.entity';
import { ReleaseVisibilityPolicy } from '../../src/releases/release.policy';
import type { LicenseFacts } from '../../src/access/bearer';
import { UpgradeFinder } from '../../src/upgrades/upgrade-finder';
import { parseStrictVersion, semverColumns } from '../../src/releases/semver';
import { startApp, TestApp } from '../support/app';
import { createAccount, TestAccount } from '../support/factories';

/**
 * The visibility rule exists twice: as SQL (ReleaseVisibilityPolicy.scope, for lists and the SQL
 * path) and in memory (ReleaseVisibilityPolicy.sees, for the catalogue). On generated data —
 * products of every strategy, releases of every status with random constraints and ages,
 * licenses with random entitlements, expiries, strategies and suspensions, users owning several
 * — both must pick exactly the same releases for every caller.
 */
describe('release visibility: SQL and memory agree', () => {
  let t: TestApp;
  let db: DataSource;
  let account: TestAccount;
  const rnd = (() => {
    let s = 20261125;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  })();
  const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)];

  beforeAll(async () => {
    t = await startApp();
    db = t.app.get(DataSource);
    account = await createAccount(t);
  });
  afterAll(() => t.close());

  it('for every caller kind on generated data', async () => {
    const now = Date.now();
    const day = 86_400_000;
    const entitlements: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [row] = await db.query(`INSERT INTO entitlements (account_id, name, code) VALUES ($1, $2, $3) RETURNING id`, [account.id, `E${i}`, `eq-${i}`]);
      entitlements.push(row.id);
    }
    const products: string[] = [];
    for (const strategy of ['LICENSED', 'LICENSED', 'OPEN', 'CLOSED']) {
      const [row] = await db.query(`INSERT INTO products (account_id, name, distribution_strategy) VALUES ($1, 'P', $2) RETURNING id`, [account.id, strategy]);
      products.push(row.id);
    }
    for (let i = 0; i < 240; i++) {
      const version = `1.${i}.0`;
      const c = semverColumns(parseStrictVersion(version)!);
      const id = randomUUID();
      const product = products[i % products.length];
      await db.query(
        `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
           channel, platform, filename, filetype, status, created)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, '{}', 'stable', 'linux', $8, 'zip', $9, $10)`,
        [id, account.id, product, version, c.semverMajor, c.semverMinor, c.semverPatch, `eq-${i}.zip`, pick(['PUBLISHED', 'PUBLISHED', 'YANKED', 'NOT_PUBLISHED']),
          new Date(now - Math.floor(rnd() * 60) * day).toISOString()],
      );
      for (const e of entitlements) {
        if (rnd() < 0.2) await db.query(`INSERT INTO release_constraints (account_id, release_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, id, e]);
      }
    }
    const [user1] = await db.query(`INSERT INTO users (account_id, email) VALUES ($1, 'u1@eq.test') RETURNING id`, [account.id]);
    const [user2] = await db.query(`INSERT INTO users (account_id, email) VALUES ($1, 'u2@eq.test') RETURNING id`, [account.id]);
    const licenses: Array<{ id: string; key: string }> = [];
    for (let i = 0; i < 40; i++) {
      const expiry = rnd() < 0.5 ? null : new Date(now + (rnd() < 0.5 ? -1 : 1) * Math.floor(rnd() * 60) * day).toISOString();
      const [row] = await db.query(
        `INSERT INTO licenses (account_id, product_id, user_id, key, expiry, expiration_strategy, suspended) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, key`,
        [account.id, pick(products), pick([null, user1.id, user2.id]), `EQ-KEY-${i}-${randomUUID()}`, expiry, pick(['RESTRICT_ACCESS', 'ALLOW_ACCESS', 'REVOKE_ACCESS']), rnd() < 0.15],
      );
      for (const e of entitlements) {
        if (rnd() < 0.5) await db.query(`INSERT INTO license_entitlements (account_id, license_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, row.id, e]);
      }
      licenses.push(row);
    }
    // releases with many artifacts (API 1.1), between the 1.0 ones (1.i.1): 1-3 artifacts each on
    // linux with or without an arch, of every status, some with constraints of their own
    for (let i = 0; i < 60; i++) {
      const version = `1.${i}.1`;
      const c = semverColumns(parseStrictVersion(version)!);
      const id = randomUUID();
      await db.query(
        `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
           channel, status, critical, created, multi_artifact)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, '{}', 'stable', $8, $9, $10, true)`,
        [id, account.id, products[i % products.length], version, c.semverMajor, c.semverMinor, c.semverPatch, pick(['PUBLISHED', 'PUBLISHED', 'YANKED', 'NOT_PUBLISHED']),
          rnd() < 0.15, new Date(now - Math.floor(rnd() * 60) * day).toISOString()],
      );
      for (const e of entitlements) {
        if (rnd() < 0.15) await db.query(`INSERT INTO release_constraints (account_id, release_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, id, e]);
      }
      const files = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < files; j++) {
        const [artifact] = await db.query(
          `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, status, platform, arch, storage_key, sha256)
           VALUES ($1, $2, $3, 'tar.gz', 10, $4, 'linux', $5, $6, $7) RETURNING id`,
          [account.id, id, `eq11-${i}-${j}.tar.gz`, pick(['UPLOADED', 'UPLOADED', 'UPLOADED', 'WAITING', 'YANKED']), pick(['amd64', 'arm64', null]), `k/${i}/${j}`, '0'.repeat(64)],
        );
        for (const e of entitlements) {
          if (rnd() < 0.2) await db.query(`INSERT INTO artifact_constraints (account_id, artifact_id, release_id, entitlement_id) VALUES ($1, $2, $3, $4)`, [account.id, artifact.id, id, e]);
        }
      }
    }

    const catalogue = t.app.get(CatalogueService);
    const bearers: Bearer[] = [
      { kind: 'anonymous', accountId: account.id },
      { kind: 'admin', accountId: account.id, userId: user1.id, tokenId: 'x' },
      ...products.map((productId): Bearer => ({ kind: 'product', accountId: account.id, productId, tokenId: 'x' })),
      { kind: 'user', accountId: account.id, userId: user1.id, tokenId: 'x' },
      { kind: 'user', accountId: account.id, userId: user2.id, tokenId: 'x' },
    ];
    for (const l of licenses) {
      const cached = await catalogue.license(account.id, l.key);
      bearers.push({ kind: 'license', accountId: account.id, license: cached!.license, facts: cached!.facts as LicenseFacts });
    }
    let visibleSomewhere = 0;
    let offersSomewhere = 0;
    let offersSeen = 0;
    for (const bearer of bearers) {
      const bySql = (await ReleaseVisibilityPolicy.scope(db.createQueryBuilder(Release, 'release'), bearer, 'release').getMany()).map((r) => r.id).sort();
      const viewer = await catalogue.viewer(bearer, account.id);
      const inMemory: string[] = [];
      for (const productId of products) {
        const releases = await catalogue.productReleases(account.id, productId);
        for (const entry of releases!.byId.values()) if (ReleaseVisibilityPolicy.sees(viewer!, entry)) inMemory.push(entry.release.id);
      }
      expect({ bearer: bearer.kind, ids: inMemory.sort() }).toEqual({ bearer: bearer.kind, ids: bySql });
      if (bySql.length) visibleSomewhere++;
      // the reasons "why no update?" tells (ReleaseVisibilityPolicy.denial, of which sees is the null
      // case) agree with the rows: the status for an unpublished or yanked release, a constraint the
      // caller's licenses lack (read in SQL) for `constraint`
      if (bearer.kind === 'license' || bearer.kind === 'user') {
        for (const productId of products) {
          const releases = await catalogue.productReleases(account.id, productId);
          for (const entry of releases!.byId.values()) {
            const denial = ReleaseVisibilityPolicy.denial(viewer!, entry);
            const r = entry.release;
            if (r.status === 'YANKED') expect(denial === null ? 'visible' : denial).toBe(bySql.includes(r.id) ? 'visible' : 'yanked');
            else if (r.status === 'NOT_PUBLISHED') expect(denial === null ? 'visible' : denial).toBe(bySql.includes(r.id) ? 'visible' : 'not-published');
            if (denial === 'constraint') {
              // every license of the release's product that could reach it lacks one of its entitlements
              const required: Array<{ entitlement_id: string }> = await db.query('SELECT entitlement_id FROM release_constraints WHERE release_id = $1', [r.id]);
              const reaching = viewer!.licenses.filter((l) => l.productId === r.productId && !(bearer.kind === 'user' && l.suspended));
              expect(reaching.length).toBeGreaterThan(0);
              for (const l of reaching) expect(required.some((c) => !l.entitlementIds.has(c.entitlement_id))).toBe(true);
            }
          }
        }
      }
      // the offers of 1.1 releases (one per UPLOADED artifact): the artifact's constraints count too
      // raw rows: the view's rows share their release's id, which entities would merge
      const offerRows: Array<{ artifact_id: string }> = await ReleaseVisibilityPolicy.scope(db.createQueryBuilder(ReleaseOffer, 'release'), bearer, 'release', 'release.artifact_id')
        .select('release.artifact_id', 'artifact_id')
        .getRawMany();
      const offersBySql = offerRows.map((r) => r.artifact_id).sort();
      const offersInMemory: string[] = [];
      for (const productId of products) {
        const releases = await catalogue.productReleases(account.id, productId);
        for (const offer of releases!.byArtifact.values()) if (ReleaseVisibilityPolicy.sees(viewer!, offer)) offersInMemory.push(offer.artifact!.id);
      }
      expect({ bearer: bearer.kind, offers: offersInMemory.sort() }).toEqual({ bearer: bearer.kind, offers: offersBySql });
      if (offersBySql.length) offersSomewhere++;
      offersSeen += offersBySql.length;
    }
    // 1.1 offers too: seen by most callers, and some hidden from some callers by an artifact's constraints
    expect(offersSomewhere).toBeGreaterThan(bearers.length / 2);
    expect(offersSeen).toBeLessThan(bearers.length * (await db.query(`SELECT count(*)::int AS n FROM artifact_offers WHERE account_id = $1`, [account.id]))[0].n);
    // the data is not degenerate: most callers see something, and not everything
    expect(visibleSomewhere).toBeGreaterThan(bearers.length / 2);
  });

  it('the finder gives the same upgrades from memory and from SQL', async () => {
    const finder = t.app.get(UpgradeFinder);
    const sqlApp = await startApp({ CATALOGUE: 'false' });
    try {
      const sqlFinder = sqlApp.app.get(UpgradeFinder);
      const rows: Array<{ id: string; key: string; product_id: string }> = await db.query(
        `SELECT id, key, product_id FROM licenses WHERE account_id = $1 AND NOT suspended`,
        [account.id],
      );
      const catalogue = t.app.get(CatalogueService);
      let found = 0;
      let foundOffers = 0;
      for (const row of rows) {
        const cached = await catalogue.license(account.id, row.key);
        const bearer: Bearer = { kind: 'license', accountId: account.id, license: cached!.license, facts: cached!.facts };
        for (const platform of ['linux', 'linux/amd64', 'linux/arm64']) {
          for (const current of ['1.0.0', '1.30.0', '1.50.0', '1.200.0']) {
            const query = { productId: row.product_id, platform, channel: 'stable' as const, current: parseStrictVersion(current)! };
            const a = await finder.findNext(bearer, account.id, query);
            const b = await sqlFinder.findNext(bearer, account.id, query);
            // the same release, the same artifact of a 1.1 release, the same policy on the way
            const gist = (o: typeof a) => o && { id: o.release.id, artifact: o.release.multiArtifact ? o.artifact?.id : null, critical: o.critical, changelog: o.changelog.map((c) => c.version) };
            expect({ platform, current, offer: gist(a) }).toEqual({ platform, current, offer: gist(b) });
            if (a) found++;
            if (a?.release.multiArtifact) foundOffers++;
          }
        }
      }
      expect(found).toBeGreaterThan(0);
      expect(foundOffers).toBeGreaterThan(0);
    } finally {
      await sqlApp.close();
    }
  });
});
