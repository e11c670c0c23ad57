import { startApp, TestApp } from '../support/app';
import { fetchBytes, onTestServer, releaseAttributes } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, createProductToken, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { constrainRelease } from '../support/release.factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

const LINUX = 'linux/amd64';

describe('upgrades', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let productToken: string;
  let plain: TestLicense;
  let entitled: TestLicense;
  let plainUser: { id: string; token: string };
  let entitledUser: { id: string; token: string };
  const r: Record<string, UpgradeRelease> = {};

  const upgradePath = () => `/v1/accounts/${account.id}/releases/actions/upgrade`;
  const fromPath = (idOrFilename: string) => `/v1/accounts/${account.id}/releases/${encodeURIComponent(idOrFilename)}/upgrade`;

  function check(authorization: string | undefined, params: Record<string, string | undefined>) {
    const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return api(t, authorization).get(`${upgradePath()}?${qs}`).redirects(0);
  }

  /** The version an upgrade check answers (null for 204), asserting the 303's shape on the way. */
  async function nextVersion(authorization: string | undefined, params: Record<string, string | undefined>): Promise<string | null> {
    const res = await check(authorization, { product: product.id, platform: LINUX, filetype: 'tar.gz', ...params });
    if (res.status === 204) {
      expect(res.text).toBe('');
      return null;
    }
    expect(res.status).toBe(303);
    expect(res.body.data.type).toBe('artifacts');
    expect(res.body.data.links.redirect).toBe(res.headers.location);
    expect(res.body.meta.current).toBe(params.version);
    return res.body.meta.next;
  }

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    productToken = (await createProductToken(t, account, product.id)).token;
    const ent = await createEntitlement(t, account);
    plainUser = await createUser(t, account);
    entitledUser = await createUser(t, account);
    plain = await createLicense(t, account, product.id, { userId: plainUser.id });
    entitled = await createLicense(t, account, product.id, { userId: entitledUser.id, entitlementIds: [ent.id] });

    for (const v of ['1.0.0', '1.1.0', '1.2.0-beta.1', '1.2.0-rc.1', '1.5.0-dev.1', '2.0.0', '2.1.0-alpha.1']) {
      r[v] = await releaseWithFile(t, account, product.id, v);
    }
    r.zip = await releaseWithFile(t, account, product.id, '2.5.0', { attrs: { filetype: 'zip', filename: `app-2.5.0-${Date.now()}.zip` } });
    r.darwin = await releaseWithFile(t, account, product.id, '3.0.0', { attrs: { platform: 'darwin/arm64' } });
    r.yanked = await releaseWithFile(t, account, product.id, '2.2.0', { state: 'yanked' });
    r.unpublished = await releaseWithFile(t, account, product.id, '2.3.0', { state: 'unpublished' });
    r.constrained = await releaseWithFile(t, account, product.id, '2.0.1');
    await constrainRelease(t, account, r.constrained.id, [ent.id]);
  });
  afterAll(() => t.close());

  describe('with a license key', () => {
    const table: Array<[string, string | undefined, string | undefined, string | null]> = [
      // version, channel, constraint, expected next
      ['1.0.0', undefined, undefined, '2.0.0'],
      ['1.0.0', 'stable', '1', '1.1.0'],
      ['1.0.0+build.7', 'stable', '1', '1.1.0'],
      ['1.0.0', 'rc', '1.2', '1.2.0-rc.1'],
      ['1.0.0', 'beta', '1.2', '1.2.0-rc.1'], // beta sees rc, and rc.1 > beta.1
      ['1.2.0-beta.1', 'beta', '1', '1.2.0-rc.1'],
      ['1.0.0', 'beta', undefined, '2.0.0'], // ... and stable
      ['1.0.0', 'alpha', undefined, '2.1.0-alpha.1'],
      ['2.0.0', 'alpha', '2', '2.1.0-alpha.1'],
      ['2.0.0', 'alpha', '2.1', '2.1.0-alpha.1'],
      ['2.0.0', 'beta', undefined, null],
      ['2.0.0', 'stable', undefined, null], // yanked 2.2.0, unpublished 2.3.0, constrained 2.0.1: never offered
      ['1.1.0', 'stable', '1', null], // 1.2.0 prereleases are not on stable
      ['1.0.0', 'stable', '1.5', null], // nor is the dev build
      ['1.0.0', 'dev', undefined, '1.5.0-dev.1'], // dev sees dev only, although 2.0.0 is higher
      ['1.5.0-dev.1', 'dev', undefined, null],
      ['1.0.0', 'stable', '3', null],
      ['0.0.1', 'rc', '1', '1.2.0-rc.1'],
    ];

    it.each(table)('from %s on channel %s with constraint %s: %s', async (version, channel, constraint, expected) => {
      expect(await nextVersion(licenseAuth(plain.key), { version, channel, constraint })).toBe(expected);
    });

    it('keeps to the platform and, when given, the filetype', async () => {
      const key = licenseAuth(plain.key);
      expect(await nextVersion(key, { version: '2.0.0', filetype: undefined })).toBe('2.5.0');
      expect(await nextVersion(key, { version: '1.0.0', filetype: 'zip' })).toBe('2.5.0');
      expect(await nextVersion(key, { version: '2.5.0', filetype: 'zip' })).toBeNull();
      expect(await nextVersion(key, { version: '1.0.0', platform: 'darwin/arm64' })).toBe('3.0.0');
      expect(await nextVersion(key, { version: '1.0.0', platform: 'windows' })).toBeNull();
      expect(await nextVersion(key, { version: '1.0.0', platform: 'linux' })).toBeNull();
    });

    it('redirects to a download URL that serves the next release\'s bytes', async () => {
      const res = await check(licenseAuth(plain.key), { product: product.id, platform: LINUX, filetype: 'tar.gz', version: '1.0.0', constraint: '1' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^https?:\/\//);
      expect(res.body.data.relationships.release.data.id).toBe(r['1.1.0'].id);
      expect(res.body.data.attributes).toMatchObject({ filename: r['1.1.0'].filename, status: 'UPLOADED' });
      expect(res.body.meta).toMatchObject({ current: '1.0.0', next: '1.1.0', critical: false });
      const file = await fetchBytes(onTestServer(t, res.headers.location));
      expect(file.status).toBe(200);
      expect(file.body.equals(r['1.1.0'].bytes!)).toBe(true);
      expect(file.headers.get('content-disposition')).toContain(r['1.1.0'].filename.split('/').pop()!);
    });

    it('offers constrained releases only to licenses holding the entitlement', async () => {
      expect(await nextVersion(licenseAuth(entitled.key), { version: '1.0.0' })).toBe('2.0.1');
      expect(await nextVersion(licenseAuth(plain.key), { version: '1.0.0' })).toBe('2.0.0');
    });

    it('accepts ?key= as well as the License scheme', async () => {
      const res = await t.http.get(`${upgradePath()}?product=${product.id}&platform=${LINUX}&filetype=tar.gz&version=1.0.0&key=${plain.key}`).redirects(0);
      expect(res.status).toBe(303);
      expect(res.body.meta.next).toBe('2.0.0');
    });

    it('is refused for a suspended license', async () => {
      const suspended = await createLicense(t, account, product.id);
      const s = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses/${suspended.id}/actions/suspend`);
      expect(s.status).toBe(200);
      const res = await check(licenseAuth(suspended.key), { product: product.id, platform: LINUX, version: '1.0.0' });
      expect(res.status).toBe(403);
      expect(res.body.errors[0].code).toBe('LICENSE_SUSPENDED');
    });

    it('answers 204 for a product the license does not belong to', async () => {
      const other = await createProduct(t, account);
      await releaseWithFile(t, account, other.id, '9.0.0');
      const res = await check(licenseAuth(plain.key), { product: other.id, platform: LINUX, version: '1.0.0' });
      expect(res.status).toBe(204);
    });
  });

  describe('from a known release (GET /releases/:id/upgrade)', () => {
    it('answers the next release with meta.current and meta.next', async () => {
      const res = await api(t, licenseAuth(plain.key)).get(fromPath(r['1.0.0'].id));
      expect(res.status).toBe(200);
      expect(res.body.data.type).toBe('releases');
      expect(res.body.data.id).toBe(r['2.0.0'].id);
      expect(res.body.data.attributes.version).toBe('2.0.0');
      expect(res.body.meta).toMatchObject({ current: '1.0.0', next: '2.0.0', critical: false });
    });

    it('takes channel and constraint, and the filename for the id', async () => {
      const res = await api(t, licenseAuth(plain.key)).get(`${fromPath(r['1.0.0'].filename)}?channel=rc&constraint=1.2`);
      expect(res.status).toBe(200);
      expect(res.body.meta).toMatchObject({ current: '1.0.0', next: '1.2.0-rc.1', critical: false });
      const dev = await api(t, licenseAuth(plain.key)).get(`${fromPath(r['1.5.0-dev.1'].id)}`);
      expect(dev.body.meta).toMatchObject({ current: '1.5.0-dev.1', next: '2.0.0', critical: false });
    });

    it('keeps to the release\'s platform and filetype', async () => {
      for (const from of [r.zip, r.darwin]) {
        const res = await api(t, licenseAuth(plain.key)).get(fromPath(from.id));
        expect(res.status).toBe(404);
        expect(res.body.errors[0].code).toBe('NOT_FOUND');
      }
    });

    it('is 404 when there is no newer release, and for releases the caller cannot see', async () => {
      for (const [from, query] of [[r['2.0.0'].id, ''], [r['1.5.0-dev.1'].id, '?channel=dev'], [r.yanked.id, ''], [r.unpublished.id, ''], [r.constrained.id, ''], ['00000000-0000-4000-8000-000000000000', ''], ['nope', '']]) {
        const res = await api(t, licenseAuth(plain.key)).get(`${fromPath(from)}${query}`);
        expect(res.status).toBe(404);
        expect(res.body.errors[0].code).toBe('NOT_FOUND');
      }
    });

    it('rejects a bad channel or constraint', async () => {
      for (const [query, parameter] of [['channel=nightly', 'channel'], ['constraint=1.x', 'constraint'], ['constraint=1.2.3', 'constraint']]) {
        const res = await api(t, licenseAuth(plain.key)).get(`${fromPath(r['1.0.0'].id)}?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter } });
      }
    });
  });

  describe('with a user token', () => {
    it('sees the union over the licenses the user owns', async () => {
      expect(await nextVersion(bearer(plainUser.token), { version: '1.0.0' })).toBe('2.0.0');
      expect(await nextVersion(bearer(entitledUser.token), { version: '1.0.0' })).toBe('2.0.1');
      const res = await api(t, bearer(entitledUser.token)).get(fromPath(r['2.0.0'].id));
      expect(res.status).toBe(200);
      expect(res.body.meta).toMatchObject({ current: '2.0.0', next: '2.0.1', critical: false });
    });

    it('sees nothing without a license of the product', async () => {
      const stranger = await createUser(t, account);
      expect(await nextVersion(bearer(stranger.token), { version: '1.0.0' })).toBeNull();
      expect((await api(t, bearer(stranger.token)).get(fromPath(r['1.0.0'].id))).status).toBe(404);
    });
  });

  describe('with an admin token', () => {
    it('sees yanked releases, and NOT_PUBLISHED ones where no file is needed', async () => {
      const admin = bearer(account.adminToken);
      // the redirecting route needs an uploaded file: 2.3.0 has none
      expect(await nextVersion(admin, { version: '2.0.0' })).toBe('2.2.0');
      const res = await api(t, admin).get(fromPath(r['2.0.0'].id));
      expect(res.status).toBe(200);
      expect(res.body.meta).toMatchObject({ current: '2.0.0', next: '2.3.0', critical: false });
    });
  });

  describe('with a product token', () => {
    it('sees everything of its product', async () => {
      expect(await nextVersion(bearer(productToken), { version: '2.0.0' })).toBe('2.2.0');
      const other = await createProduct(t, account);
      await releaseWithFile(t, account, other.id, '9.0.0');
      const res = await check(bearer(productToken), { product: other.id, platform: LINUX, version: '1.0.0' });
      expect(res.status).toBe(204);
    });
  });

  describe('anonymously', () => {
    it('sees nothing of a LICENSED product', async () => {
      expect(await nextVersion(undefined, { version: '1.0.0' })).toBeNull();
      expect((await api(t).get(fromPath(r['1.0.0'].id))).status).toBe(404);
    });

    it('sees the unconstrained releases of an OPEN product', async () => {
      const open = await createProduct(t, account, { distributionStrategy: 'OPEN' });
      const ent = await createEntitlement(t, account);
      const base = await releaseWithFile(t, account, open.id, '1.0.0');
      await releaseWithFile(t, account, open.id, '1.0.5');
      const gated = await releaseWithFile(t, account, open.id, '1.1.0');
      await constrainRelease(t, account, gated.id, [ent.id]);
      const res = await check(undefined, { product: open.id, platform: LINUX, version: '1.0.0' });
      expect(res.status).toBe(303);
      expect(res.body.meta).toMatchObject({ current: '1.0.0', next: '1.0.5', critical: false });
      const holder = await createLicense(t, account, open.id, { entitlementIds: [ent.id] });
      const licensed = await check(licenseAuth(holder.key), { product: open.id, platform: LINUX, version: '1.0.0' });
      expect(licensed.body.meta).toMatchObject({ current: '1.0.0', next: '1.1.0', critical: false });
      const from = await api(t).get(fromPath(base.id));
      expect(from.status).toBe(200);
      expect(from.body.meta.next).toBe('1.0.5');
    });
  });

  describe('from another account', () => {
    it('refuses its credentials here and sees nothing of this account from there', async () => {
      const other = await createAccount(t);
      const otherProduct = await createProduct(t, other);
      const otherLicense = await createLicense(t, other, otherProduct.id);
      const byKey = await check(licenseAuth(otherLicense.key), { product: product.id, platform: LINUX, version: '1.0.0' });
      expect(byKey.status).toBe(401);
      expect(byKey.body.errors[0].code).toBe('LICENSE_INVALID');
      const byToken = await check(bearer(other.adminToken), { product: product.id, platform: LINUX, version: '1.0.0' });
      expect(byToken.status).toBe(401);
      expect(byToken.body.errors[0].code).toBe('TOKEN_INVALID');
      const there = await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/releases/actions/upgrade?product=${product.id}&platform=${LINUX}&version=1.0.0`).redirects(0);
      expect(there.status).toBe(204);
      const from = await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/releases/${r['1.0.0'].id}/upgrade`);
      expect(from.status).toBe(404);
    });
  });

  describe('parameters', () => {
    const good = () => ({ product: product.id, platform: LINUX, version: '1.0.0' });
    const cases: Array<[string, Record<string, string | undefined>, string]> = [
      ['missing product', { product: undefined }, 'product'],
      ['empty product', { product: '' }, 'product'],
      ['product neither an id nor a code', { product: 'x'.repeat(256) }, 'product'],
      ['missing platform', { platform: undefined }, 'platform'],
      ['empty platform', { platform: '' }, 'platform'],
      ['missing version', { version: undefined }, 'version'],
      ['version with a v', { version: 'v1.0.0' }, 'version'],
      ['version not full semver', { version: '1.0' }, 'version'],
      ['version garbage', { version: 'latest' }, 'version'],
      ['empty filetype', { filetype: '' }, 'filetype'],
      ['unknown channel', { channel: 'nightly' }, 'channel'],
      ['malformed constraint', { constraint: '1.x' }, 'constraint'],
      ['three-part constraint', { constraint: '1.2.3' }, 'constraint'],
      ['empty constraint', { constraint: '' }, 'constraint'],
    ];

    it.each(cases)('%s is 400 PARAMETER_INVALID', async (_name, override, parameter) => {
      const res = await check(licenseAuth(plain.key), { ...good(), ...override });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ status: '400', code: 'PARAMETER_INVALID', source: { parameter } });
    });

    it('a repeated parameter is 400', async () => {
      const res = await api(t, licenseAuth(plain.key)).get(`${upgradePath()}?product=${product.id}&platform=a&platform=b&version=1.0.0`).redirects(0);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].source.parameter).toBe('platform');
    });
  });

  describe('counters', () => {
    let open: TestProduct;
    let from: UpgradeRelease;
    let next: UpgradeRelease;
    let license: TestLicense;
    let owner: { id: string; token: string };
    const counters = async () => {
      const a = await releaseAttributes(t, account, next.id);
      return { upgrades: a.upgrades as number, downloads: a.downloads as number };
    };
    const params = () => ({ product: open.id, platform: LINUX, version: '1.0.0' });

    beforeAll(async () => {
      open = await createProduct(t, account, { distributionStrategy: 'OPEN' });
      owner = await createUser(t, account);
      license = await createLicense(t, account, open.id, { userId: owner.id });
      from = await releaseWithFile(t, account, open.id, '1.0.0');
      next = await releaseWithFile(t, account, open.id, '1.1.0');
    });

    it('adds exactly 1 upgrade (and 1 download) per redirect answered to a license, user or anonymous caller', async () => {
      expect(await counters()).toEqual({ upgrades: 0, downloads: 0 });
      expect((await check(licenseAuth(license.key), params())).status).toBe(303);
      expect(await counters()).toEqual({ upgrades: 1, downloads: 1 });
      expect((await check(undefined, params())).status).toBe(303);
      expect(await counters()).toEqual({ upgrades: 2, downloads: 2 });
      expect((await check(bearer(owner.token), params())).status).toBe(303);
      expect(await counters()).toEqual({ upgrades: 3, downloads: 3 });
    });

    it('does not count admins, product tokens, or checks with no upgrade', async () => {
      const before = await counters();
      expect((await check(bearer(account.adminToken), params())).status).toBe(303);
      const token = (await createProductToken(t, account, open.id)).token;
      expect((await check(bearer(token), params())).status).toBe(303);
      expect((await api(t, bearer(account.adminToken)).get(fromPath(from.id))).status).toBe(200);
      expect((await check(licenseAuth(license.key), { ...params(), version: '1.1.0' })).status).toBe(204);
      expect((await check(licenseAuth(license.key), { ...params(), version: 'bad' })).status).toBe(400);
      expect(await counters()).toEqual(before);
    });

    it('counts GET /releases/:id/upgrade as an upgrade (not a download), and shows the new count', async () => {
      const before = await counters();
      const res = await api(t, licenseAuth(license.key)).get(fromPath(from.id));
      expect(res.status).toBe(200);
      expect(res.body.data.attributes.upgrades).toBe(before.upgrades + 1);
      expect(await counters()).toEqual({ upgrades: before.upgrades + 1, downloads: before.downloads });
      expect((await api(t).get(fromPath(next.id))).status).toBe(404);
      expect(await counters()).toEqual({ upgrades: before.upgrades + 1, downloads: before.downloads });
    });

    it('loses no count under concurrent checks', async () => {
      const before = await counters();
      const results = await Promise.all(Array.from({ length: 12 }, () => check(licenseAuth(license.key), params())));
      expect(results.map((x) => x.status)).toEqual(Array(12).fill(303));
      expect(await counters()).toEqual({ upgrades: before.upgrades + 12, downloads: before.downloads + 12 });
    });
  });
});
