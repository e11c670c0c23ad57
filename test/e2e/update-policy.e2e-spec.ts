import { randomUUID } from 'node:crypto';
import semver from 'semver';
import { DataSource } from 'typeorm';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { bearer, createAccount, TestAccount } from '../support/factories';
import { comparable, upgradeAction, upgradeFrom, v3 } from '../support/policy.factories';
import type { PolicyAnswer } from '../support/policy.factories';
import { constrainRelease } from '../support/release.factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

type Answer = PolicyAnswer & { body: any };

/**
 * Critical updates and changelogs on the update routes (upgrade action and upgrade by release:
 * meta.critical / meta.changelog; /v3 update: critical / changelog; /v3 latest: critical), each
 * case asked of an instance with the in-memory catalogue and of one without (the SQL path): the
 * two must agree.
 */
describe('update policy: critical updates and changelog', () => {
  let mem: TestApp;
  let sql: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let plain: TestLicense;
  let entitled: TestLicense;
  const admin = () => bearer(account.adminToken);

  /** Asks both instances; asserts that they agree; returns the answer. */
  async function both(ask: (t: TestApp) => Promise<Answer>): Promise<Answer> {
    const a = await ask(mem);
    const b = await ask(sql);
    expect(comparable(b)).toEqual(comparable(a));
    return a;
  }
  const action = (auth: string | undefined, platform: string, params: Record<string, string | undefined>) =>
    both((t) => upgradeAction(t, account, auth, { product: product.id, platform, ...params }));
  const from = (auth: string | undefined, releaseId: string, params: Record<string, string | undefined> = {}) =>
    both((t) => upgradeFrom(t, account, auth, releaseId, params));
  const v3Update = (auth: string | undefined, platform: string, params: Record<string, string | undefined>) =>
    both((t) => v3(t, 'update', auth, { productId: product.id, platform, ...params }));
  const v3Latest = (auth: string | undefined, platform: string, params: Record<string, string | undefined> = {}) =>
    both((t) => v3(t, 'latest', auth, { productId: product.id, platform, ...params }));

  /** A changelog entry as a client reads it. */
  const entry = (r: UpgradeRelease, notes: string | null) => ({ version: r.version, notes, created: r.created });

  beforeAll(async () => {
    mem = await startApp();
    sql = await startApp({ CATALOGUE: 'false' });
    account = await createAccount(mem);
    product = await createProduct(mem, account);
    const pro = await createEntitlement(mem, account);
    plain = await createLicense(mem, account, product.id);
    entitled = await createLicense(mem, account, product.id, { entitlementIds: [pro.id] });
    proId = pro.id;
  });
  let proId: string;
  afterAll(async () => {
    await mem?.close();
    await sql?.close();
  });

  describe('critical', () => {
    const LINUX = 'linux/amd64';
    const r: Record<string, UpgradeRelease> = {};

    beforeAll(async () => {
      r['1.0.0'] = await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: LINUX, description: 'first' } });
      r['1.1.0'] = await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: LINUX, critical: true, description: 'security fix' } });
      r['1.2.0'] = await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: LINUX, description: 'features' } });
    });

    it('from 1.0 (below a skipped critical 1.1) the answer is 1.2 flagged critical, on every update route', async () => {
      for (const auth of [licenseAuth(plain.key), admin()]) {
        const a = await action(auth, LINUX, { version: '1.0.0', filetype: 'tar.gz' });
        expect([a.status, a.version, a.critical]).toEqual([303, '1.2.0', true]);
        expect(a.body.meta.current).toBe('1.0.0');
        const b = await from(auth, r['1.0.0'].id);
        expect([b.status, b.version, b.critical]).toEqual([200, '1.2.0', true]);
        const c = await v3Update(auth, LINUX, { version: '1.0' });
        expect([c.status, c.version, c.critical]).toEqual([200, '1.2.0', true]);
      }
    });

    it('from 1.1 (the critical release itself) it is not critical', async () => {
      const auth = licenseAuth(plain.key);
      const a = await action(auth, LINUX, { version: '1.1.0' });
      expect([a.status, a.version, a.critical]).toEqual([303, '1.2.0', false]);
      const b = await from(auth, r['1.1.0'].id);
      expect([b.status, b.version, b.critical]).toEqual([200, '1.2.0', false]);
      const c = await v3Update(auth, LINUX, { version: '1.1.0' });
      expect([c.status, c.version, c.critical]).toEqual([200, '1.2.0', false]);
      // and from 1.0.5 (between the two, not a release) it is
      expect((await v3Update(auth, LINUX, { version: '1.0.5' })).critical).toBe(true);
    });

    it('/v3 latest carries the offered release\'s own flag', async () => {
      const latest = await v3Latest(licenseAuth(plain.key), LINUX);
      expect([latest.status, latest.version, latest.critical]).toEqual([200, '1.2.0', false]);
      const own = await releaseWithFile(mem, account, product.id, '3.0.0', { attrs: { platform: 'freebsd', critical: true } });
      await releaseWithFile(mem, account, product.id, '2.0.0', { attrs: { platform: 'freebsd' } });
      const top = await v3Latest(licenseAuth(plain.key), 'freebsd');
      expect([top.status, top.id, top.critical]).toEqual([200, own.id, true]);
      // and an update to it is critical too
      expect((await v3Update(licenseAuth(plain.key), 'freebsd', { version: '2.0.0' })).critical).toBe(true);
      expect((await v3Update(licenseAuth(plain.key), 'freebsd', { version: '3.0.0' })).status).toBe(204);
    });

    it('a critical release the caller cannot see does not count: constrained, on another channel, yanked, unpublished, another platform or filetype', async () => {
      const W = 'windows';
      await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: W } });
      const constrained = await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: W, critical: true } });
      await constrainRelease(mem, account, constrained.id, [proId]);
      await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: W } });
      const p = await action(licenseAuth(plain.key), W, { version: '1.0.0' });
      expect([p.version, p.critical]).toEqual(['1.2.0', false]);
      const e = await action(licenseAuth(entitled.key), W, { version: '1.0.0' });
      expect([e.version, e.critical]).toEqual(['1.2.0', true]);
      expect((await v3Update(licenseAuth(plain.key), W, { version: '1.0.0' })).critical).toBe(false);
      expect((await v3Update(licenseAuth(entitled.key), W, { version: '1.0.0' })).critical).toBe(true);

      const D = 'darwin';
      await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: D } });
      await releaseWithFile(mem, account, product.id, '1.1.0-beta.1', { attrs: { platform: D, critical: true } });
      await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: D } });
      expect((await action(licenseAuth(plain.key), D, { version: '1.0.0' })).critical).toBe(false);
      expect((await action(licenseAuth(plain.key), D, { version: '1.0.0', channel: 'beta' })).critical).toBe(true);
      expect((await v3Update(licenseAuth(plain.key), D, { version: '1.0.0', channel: 'stable' })).critical).toBe(false);
      expect((await v3Update(licenseAuth(plain.key), D, { version: '1.0.0', channel: 'beta' })).critical).toBe(true);

      const A = 'linux/arm64';
      const armBase = await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: A } });
      await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: A, critical: true }, state: 'yanked' });
      await releaseWithFile(mem, account, product.id, '1.1.5', { attrs: { platform: A, critical: true }, state: 'unpublished' });
      await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: A } });
      expect((await action(licenseAuth(plain.key), A, { version: '1.0.0' })).critical).toBe(false);
      expect((await from(licenseAuth(plain.key), armBase.id)).critical).toBe(false);
      expect((await v3Update(licenseAuth(plain.key), A, { version: '1.0.0' })).critical).toBe(false);

      // another platform's critical release (LINUX has 1.1.0 critical) and another filetype's
      const X = 'linux/386';
      await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: X } });
      await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: X, critical: true, filetype: 'zip', filename: `x86-${randomUUID()}.zip` } });
      await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: X } });
      const narrowed = await action(licenseAuth(plain.key), X, { version: '1.0.0', filetype: 'tar.gz' });
      expect([narrowed.version, narrowed.critical]).toEqual(['1.2.0', false]);
      // without a filetype the zip is on the way: it counts
      const wide = await action(licenseAuth(plain.key), X, { version: '1.0.0' });
      expect([wide.version, wide.critical]).toEqual(['1.2.0', true]);
    });

    it('a critical staged release outside the caller\'s cohort, above what it is offered, does not count', async () => {
      const M = 'linux/mips';
      const mipsBase = await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: M } });
      await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: M } });
      const paused = await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: M, critical: true, rolloutPercentage: 0 } });
      const a = await action(licenseAuth(plain.key), M, { version: '1.0.0' });
      expect([a.version, a.critical]).toEqual(['1.1.0', false]);
      expect((await from(licenseAuth(plain.key), mipsBase.id)).critical).toBe(false);
      const l = await v3Latest(licenseAuth(plain.key), M);
      expect([l.version, l.critical]).toEqual(['1.1.0', false]);
      // an admin (who is offered every release) sees it critical
      const b = await action(admin(), M, { version: '1.0.0' });
      expect([b.id, b.critical]).toEqual([paused.id, true]);
    });

    it('a constraint narrows the offer, not the releases on the way: a critical 1.1 counts when 1.2 is offered under constraint 1.2', async () => {
      const S = 'linux/s390x';
      await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: { platform: S } });
      const mid = await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: { platform: S, critical: true, description: 'urgent' } });
      const top = await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { platform: S, description: 'more' } });
      await releaseWithFile(mem, account, product.id, '2.0.0', { attrs: { platform: S } });
      const a = await action(licenseAuth(plain.key), S, { version: '1.0.0', constraint: '1.2' });
      expect([a.version, a.critical]).toEqual(['1.2.0', true]);
      expect(a.changelog).toEqual([entry(top, 'more'), entry(mid, 'urgent')]);
    });
  });

  describe('changelog', () => {
    const P = 'linux/ppc64';
    /** Every release of the line, as the test knows it. */
    const model: Array<{ id: string; version: string; notes: string | null; created: string; channel: string; filetype: string; yanked?: boolean; constrained?: boolean }> = [];
    const ids: Record<string, string> = {};

    /** What the contract says the changelog is, from the model. */
    function expected(current: string, offered: string, opts: { filetype?: string; channels?: string[]; entitled?: boolean }) {
      const channels = opts.channels ?? ['stable'];
      return model
        .filter((m) => semver.gt(m.version, current) && semver.lte(m.version, offered))
        .filter((m) => channels.includes(m.channel) && (!opts.filetype || m.filetype === opts.filetype))
        .filter((m) => !m.yanked && (!m.constrained || opts.entitled))
        .sort((a, b) => semver.rcompare(a.version, b.version))
        .slice(0, 50)
        .map((m) => ({ version: m.version, notes: m.notes, created: m.created }));
    }

    beforeAll(async () => {
      // 55 stable releases 1.0.0 .. 1.54.0 in one statement each for releases and artifacts
      const db = mem.app.get(DataSource);
      const now = Date.now();
      const rows = Array.from({ length: 55 }, (_, i) => ({
        id: randomUUID(),
        version: `1.${i}.0`,
        notes: i === 50 ? null : `Notes of 1.${i}.0`,
        created: new Date(now - (60 - i) * 60_000).toISOString(),
      }));
      await db.query(
        `INSERT INTO releases (id, account_id, product_id, description, version, semver_major, semver_minor, semver_patch, semver_is_release,
                               channel, platform, filename, filetype, status, created, updated)
         SELECT u.id, $1, $2, u.notes, u.version, 1, u.minor, 0, true, 'stable', $3, 'ppc/app-' || u.version || '.tar.gz', 'tar.gz', 'PUBLISHED', u.created, u.created
           FROM unnest($4::uuid[], $5::text[], $6::text[], $7::int[], $8::timestamptz[]) AS u(id, version, notes, minor, created)`,
        [account.id, product.id, P, rows.map((r) => r.id), rows.map((r) => r.version), rows.map((r) => r.notes), rows.map((_, i) => i), rows.map((r) => r.created)],
      );
      await db.query(
        `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, status)
         SELECT $1, r.id, r.filename, r.filetype, 0, 'application/octet-stream', 'UPLOADED' FROM releases r WHERE r.id = ANY($2::uuid[])`,
        [account.id, rows.map((r) => r.id)],
      );
      for (const r of rows) {
        ids[r.version] = r.id;
        model.push({ ...r, channel: 'stable', filetype: 'tar.gz' });
      }
      // hidden from a plain license: 1.53.0 yanked, 1.52.0 constrained
      await db.query(`UPDATE releases SET status = 'YANKED', yanked = now() WHERE id = $1`, [ids['1.53.0']]);
      model.find((m) => m.version === '1.53.0')!.yanked = true;
      await db.query(`INSERT INTO release_constraints (account_id, release_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, ids['1.52.0'], proId]);
      model.find((m) => m.version === '1.52.0')!.constrained = true;
      await mem.app.get(CatalogueListener).settle();
      // the upgrade action redirects to the offered file: that one has its bytes
      await uploadArtifact(mem, account, ids['1.54.0'], randomFile(32));
      // a beta and a zip on the way, and a release of another platform
      const beta = await releaseWithFile(mem, account, product.id, '1.51.5-beta.1', { attrs: { platform: P, description: 'beta notes' } });
      model.push({ id: beta.id, version: beta.version, notes: 'beta notes', created: beta.created, channel: 'beta', filetype: 'tar.gz' });
      const zip = await releaseWithFile(mem, account, product.id, '1.50.5', { attrs: { platform: P, filetype: 'zip', filename: `ppc/app-${randomUUID()}.zip`, description: 'zip notes' } });
      model.push({ id: zip.id, version: zip.version, notes: 'zip notes', created: zip.created, channel: 'stable', filetype: 'zip' });
      await releaseWithFile(mem, account, product.id, '1.51.0', { attrs: { platform: 'linux/ppc64le', description: 'elsewhere' } });
    });

    it('lists every visible release above the caller up to the offered one, newest first, at most 50', async () => {
      const a = await action(licenseAuth(plain.key), P, { version: '1.0.0', filetype: 'tar.gz' });
      expect([a.status, a.version]).toEqual([303, '1.54.0']);
      const want = expected('1.0.0', '1.54.0', { filetype: 'tar.gz' });
      expect(want).toHaveLength(50);
      expect(a.changelog).toEqual(want);
      // spot checks a reader would make: newest first, yanked and constrained releases absent, notes null when none
      const versions = (a.changelog as Array<{ version: string }>).map((c) => c.version);
      expect(versions.slice(0, 3)).toEqual(['1.54.0', '1.51.0', '1.50.0']);
      expect(versions).not.toContain('1.53.0');
      expect(versions).not.toContain('1.52.0');
      expect((a.changelog as Array<{ notes: string | null }>)[2].notes).toBeNull();
      expect(versions[49]).toBe('1.3.0');

      const v = await v3Update(licenseAuth(plain.key), P, { version: '1.0' });
      expect([v.status, v.version]).toEqual([200, '1.54.0']);
      // /v3 has no filetype: the zip is on the way
      expect(v.changelog).toEqual(expected('1.0.0', '1.54.0', {}));
      expect((v.changelog as Array<{ version: string }>).slice(0, 4).map((c) => c.version)).toEqual(['1.54.0', '1.51.0', '1.50.5', '1.50.0']);
    });

    it('follows the caller\'s visibility, channel and filetype', async () => {
      const cases: Array<[string, string, Record<string, string>, Parameters<typeof expected>[2]]> = [
        ['plain, no filetype', licenseAuth(plain.key), { version: '1.48.0' }, {}],
        ['plain, tar.gz', licenseAuth(plain.key), { version: '1.48.0', filetype: 'tar.gz' }, { filetype: 'tar.gz' }],
        ['plain, zip', licenseAuth(plain.key), { version: '1.48.0', filetype: 'zip' }, { filetype: 'zip' }],
        ['entitled', licenseAuth(entitled.key), { version: '1.48.0', filetype: 'tar.gz' }, { filetype: 'tar.gz', entitled: true }],
        ['beta', licenseAuth(plain.key), { version: '1.48.0', channel: 'beta' }, { channels: ['stable', 'rc', 'beta'] }],
      ];
      for (const [name, auth, params, opts] of cases) {
        const a = await action(auth, P, params);
        const offered = params.filetype === 'zip' ? '1.50.5' : '1.54.0';
        expect([name, a.status, a.version]).toEqual([name, 303, offered]);
        expect([name, a.changelog]).toEqual([name, expected(params.version, offered, opts)]);
      }
      const beta = await v3Update(licenseAuth(plain.key), P, { version: '1.51.0', channel: 'beta' });
      expect(beta.changelog).toEqual([
        { version: '1.54.0', notes: 'Notes of 1.54.0', created: model.find((m) => m.version === '1.54.0')!.created },
        { version: '1.51.5-beta.1', notes: 'beta notes', created: model.find((m) => m.version === '1.51.5-beta.1')!.created },
      ]);
      const admin53 = await action(admin(), P, { version: '1.51.0', filetype: 'tar.gz' });
      // an admin sees the yanked and constrained releases (they are in its changelog)
      expect((admin53.changelog as Array<{ version: string }>).map((c) => c.version)).toEqual(['1.54.0', '1.53.0', '1.52.0']);
    });

    it('from a release: /releases/:id/upgrade lists the same (that release\'s filetype)', async () => {
      const b = await from(licenseAuth(plain.key), ids['1.40.0']);
      expect([b.status, b.version]).toEqual([200, '1.54.0']);
      expect(b.changelog).toEqual(expected('1.40.0', '1.54.0', { filetype: 'tar.gz' }));
      expect(b.changelog).toHaveLength(12);
    });

    it('has nothing to list when the caller is up to date', async () => {
      expect((await action(licenseAuth(plain.key), P, { version: '1.54.0' })).status).toBe(204);
      expect((await v3Update(licenseAuth(plain.key), P, { version: '1.54.0' })).status).toBe(204);
      expect((await from(licenseAuth(plain.key), ids['1.54.0'])).status).toBe(404);
    });

    it('counts versions, not files: 50 entries even when every version has five files on the platform', async () => {
      const S = 'sunos';
      const filetypes = ['tar.gz', 'zip', 'dmg', 'exe', 'msi'];
      const versions = Array.from({ length: 56 }, (_, i) => `1.${i}.0`);
      const rows = versions.flatMap((version, i) => filetypes.map((filetype) => ({ version, minor: i, filetype })));
      await mem.app.get(DataSource).query(
        `INSERT INTO releases (account_id, product_id, description, version, semver_major, semver_minor, semver_patch, semver_is_release,
                               channel, platform, filename, filetype, status)
         SELECT $1, $2, 'Notes of ' || u.version, u.version, 1, u.minor, 0, true, 'stable', $3, 'sunos/app-' || u.version || '.' || u.filetype, u.filetype, 'PUBLISHED'
           FROM unnest($4::text[], $5::int[], $6::text[]) AS u(version, minor, filetype)`,
        [account.id, product.id, S, rows.map((r) => r.version), rows.map((r) => r.minor), rows.map((r) => r.filetype)],
      );
      await mem.app.get(CatalogueListener).settle();
      const v = await v3Update(licenseAuth(plain.key), S, { version: '1.0.0' });
      expect([v.status, v.version]).toEqual([200, '1.55.0']);
      const listed = (v.changelog as Array<{ version: string; notes: string }>);
      expect(listed.map((c) => c.version)).toEqual(versions.slice(6).reverse());
      expect(listed[0].notes).toBe('Notes of 1.55.0');
    });

    it('ends at the offered release: a staged release outside the caller\'s cohort is not listed', async () => {
      const staged = await releaseWithFile(mem, account, product.id, '1.60.0', { attrs: { platform: P, rolloutPercentage: 0, description: 'staged', critical: true } });
      try {
        const a = await action(licenseAuth(plain.key), P, { version: '1.50.0', filetype: 'tar.gz' });
        expect([a.version, a.critical]).toEqual(['1.54.0', false]);
        expect((a.changelog as Array<{ version: string }>).map((c) => c.version)).toEqual(['1.54.0', '1.51.0']);
        const b = await action(admin(), P, { version: '1.50.0', filetype: 'tar.gz' });
        expect([b.id, b.critical]).toEqual([staged.id, true]);
        expect((b.changelog as Array<{ version: string }>).map((c) => c.version)).toEqual(['1.60.0', '1.54.0', '1.53.0', '1.52.0', '1.51.0']);
      } finally {
        await mem.app.get(DataSource).query('DELETE FROM releases WHERE id = $1', [staged.id]);
        await mem.app.get(CatalogueListener).settle();
      }
    });
  });
});
