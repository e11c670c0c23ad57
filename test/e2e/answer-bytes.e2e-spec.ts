import { startApp, TestApp } from '../support/app';
import { fetchBytes } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { yankRelease } from '../support/release.factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

const LINUX = 'linux/amd64';
/** A given key with characters that need escaping in a URL and in JSON. */
const ODD_KEY = 'odd+key/with&chars=?%"#1';

/**
 * The hot routes send bytes serialized ahead (update checks, upgrade redirects, a license's list
 * page kept per URL). What a client sees must be what it saw when each answer was serialized
 * afresh: its own URL and version filled in, counters and status changes shown at once, and
 * headers that match the body.
 */
describe('answers sent as bytes', () => {
  let t: TestApp;
  let account: TestAccount;

  const byteLength = (res: { text: string }) => String(Buffer.byteLength(res.text, 'utf8'));

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
  });
  afterAll(() => t.close());

  describe('a license\'s release list', () => {
    let product: TestProduct;
    let license: TestLicense;
    let other: TestLicense;
    const r: Record<string, UpgradeRelease> = {};

    const list = (l: TestLicense) => api(t, licenseAuth(l.key)).get(`/v1/accounts/${account.id}/releases?product=${product.id}&limit=10`);
    const attributesOf = (body: { data: Array<{ id: string; attributes: Record<string, unknown> }> }, id: string) => body.data.find((d) => d.id === id)?.attributes;

    beforeAll(async () => {
      product = await createProduct(t, account);
      license = await createLicense(t, account, product.id);
      other = await createLicense(t, account, product.id);
      for (const v of ['1.0.0', '1.5.0', '2.0.0']) r[v] = await releaseWithFile(t, account, product.id, v, { attrs: { name: `Größe ✓ ${v}` } });
    });

    it('is the same page twice, and shows an upgrade check\'s counts at once', async () => {
      const first = await list(license);
      const second = await list(license);
      expect(first.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(second.headers['content-type']).toBe('application/vnd.api+json; charset=utf-8');
      expect(second.headers['content-length']).toBe(byteLength(second));
      expect(first.body.data.map((d: { id: string }) => d.id).sort()).toEqual(Object.values(r).map((x) => x.id).sort());

      const check = await api(t, licenseAuth(license.key))
        .get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${product.id}&platform=${LINUX}&version=1.0.0`)
        .redirects(0);
      expect(check.status).toBe(303);
      const offered = check.body.data.relationships.release.data.id;
      expect(offered).toBe(r['2.0.0'].id);

      const after = await list(license);
      const before = attributesOf(first.body, offered)!;
      expect(attributesOf(after.body, offered)).toEqual({ ...before, upgrades: (before.upgrades as number) + 1, downloads: (before.downloads as number) + 1 });
      for (const id of [r['1.0.0'].id, r['1.5.0'].id]) expect(attributesOf(after.body, id)).toEqual(attributesOf(first.body, id));
      // another license of the same class gets the same (fresh) page
      expect((await list(other)).text).toBe(after.text);
    });

    it('no longer shows a release once it is yanked, nor the old name once renamed', async () => {
      await list(license); // the page is kept
      await yankRelease(t, account, r['2.0.0'].id);
      const afterYank = await list(license);
      expect(afterYank.status).toBe(200);
      expect(afterYank.body.data.filter((d: { id: string; attributes: { status: string } }) => d.id === r['2.0.0'].id && d.attributes.status === 'PUBLISHED')).toEqual([]);
      expect(afterYank.body.data.map((d: { id: string }) => d.id).sort()).toEqual([r['1.0.0'].id, r['1.5.0'].id].sort());

      const renamed = await api(t, bearer(account.adminToken)).patch(`/v1/accounts/${account.id}/releases/${r['1.5.0'].id}`, {
        data: { type: 'releases', id: r['1.5.0'].id, attributes: { name: 'Renamed' } },
      });
      expect(renamed.status).toBe(200);
      expect(attributesOf((await list(license)).body, r['1.5.0'].id)?.name).toBe('Renamed');
    });
  });

  describe('update checks and upgrade redirects', () => {
    let product: TestProduct;
    let odd: TestLicense;
    let plain: TestLicense;
    let newest: UpgradeRelease;

    beforeAll(async () => {
      product = await createProduct(t, account);
      odd = await createLicense(t, account, product.id, { attrs: { key: ODD_KEY } });
      plain = await createLicense(t, account, product.id);
      await releaseWithFile(t, account, product.id, '1.0.0');
      await releaseWithFile(t, account, product.id, '1.1.0');
      newest = await releaseWithFile(t, account, product.id, '2.0.0', { attrs: { name: 'Größe ✓ — 2.0', description: 'Notes with "quotes" and </script>' } });
    });

    const updatePath = (key: string) => `/v3/releases/update?${new URLSearchParams({ productId: product.id, platform: LINUX, version: '1.0.0', key })}`;

    it('/v3/releases/update: the same release to two licenses, each with its own URL', async () => {
      const [a, b] = [await t.http.get(updatePath(odd.key)), await t.http.get(updatePath(plain.key))];
      expect(odd.key).toBe(ODD_KEY);
      for (const res of [a, b]) {
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.headers['content-length']).toBe(byteLength(res));
        expect(res.body.id).toBe(newest.id);
        expect(res.body.name).toBe('Größe ✓ — 2.0');
      }
      expect(a.body.url).toBe(`${t.config.publicUrl}/v3/${newest.id}?key=${encodeURIComponent(ODD_KEY)}`);
      expect(b.body.url).toBe(`${t.config.publicUrl}/v3/${newest.id}?key=${encodeURIComponent(plain.key)}`);
      expect({ ...a.body, url: null }).toEqual({ ...b.body, url: null });

      const head = await fetchBytes(`${t.baseUrl}${updatePath(odd.key)}`, {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(head.headers.get('content-length')).toBe(a.headers['content-length']);
      expect(head.body.length).toBe(0);
    });

    it('the upgrade action\'s 303: Location is the document\'s redirect, meta.current the caller\'s version', async () => {
      const upgrade = (version: string, accept = 'application/vnd.api+json') =>
        api(t, licenseAuth(odd.key))
          .get(`/v1/accounts/${account.id}/releases/actions/upgrade?${new URLSearchParams({ product: product.id, platform: LINUX, version })}`)
          .set('Accept', accept)
          .redirects(0);
      for (const version of ['1.0.0', '1.0.0+build.5', '1.1.0-beta.1', '1.0.0-rc.1+build.7', '1.0.0']) {
        const res = await upgrade(version);
        expect([version, res.status]).toEqual([version, 303]);
        expect(res.headers['content-type']).toBe('application/vnd.api+json; charset=utf-8');
        expect(res.headers['content-length']).toBe(byteLength(res));
        expect(res.headers.location).toMatch(/^https?:\/\//);
        expect(res.body.data.links.redirect).toBe(res.headers.location);
        expect(res.body.data.relationships.release.data.id).toBe(newest.id);
        expect(res.body.meta).toMatchObject({ current: version, next: '2.0.0' });
      }
      const plainJson = await upgrade('1.0.0', 'application/json');
      expect(plainJson.status).toBe(303);
      expect(plainJson.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('the 303 document filled in is the one serialized afresh (an admin asking for the license)', async () => {
      const path = (version: string, extra: Record<string, string> = {}) =>
        `/v1/accounts/${account.id}/releases/actions/upgrade?${new URLSearchParams({ product: product.id, platform: LINUX, version, ...extra })}`;
      const withoutRedirect = (body: { data: { links: Record<string, string> } }) => ({ ...body, data: { ...body.data, links: { ...body.data.links, redirect: '' } } });
      for (const version of ['1.0.0+build.5', '1.0.0-rc.1']) {
        const filled = await api(t, licenseAuth(odd.key)).get(path(version)).redirects(0);
        const fresh = await api(t, bearer(account.adminToken)).get(path(version, { license: odd.id })).redirects(0);
        expect([filled.status, fresh.status]).toEqual([303, 303]);
        expect(withoutRedirect(filled.body)).toEqual(withoutRedirect(fresh.body));
      }
    });
  });
});
