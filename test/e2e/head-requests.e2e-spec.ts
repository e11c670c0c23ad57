import { startApp, TestApp } from '../support/app';
import { releaseAttributes } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

/**
 * A HEAD (a link checker, a proxy, a client probing a URL) is answered as its GET would be, but
 * uses nothing: no download, no upgrade and no update check is counted. Each route that counts is
 * asked with HEAD first (counters unchanged), then with GET (counted), so that the test fails if a
 * HEAD counts or if the route stopped counting at all.
 */
describe('HEAD requests count nothing', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let license: TestLicense;
  let old: UpgradeRelease;
  let next: UpgradeRelease;

  const counters = async (release: UpgradeRelease) => {
    const a = await releaseAttributes(t, account, release.id);
    return { downloads: a.downloads as number, upgrades: a.upgrades as number };
  };
  const base = () => `/v1/accounts/${account.id}`;
  const feeds = () => `${base()}/products/${product.id}/feeds`;

  /** HEAD then GET of `path`: the HEAD's status and headers match the GET's, and only the GET counts. */
  async function headThenGet(path: string, expected: { status: number; downloads: number; upgrades: number }, authorization?: string) {
    const before = await counters(next);
    const head = await (authorization ? t.http.head(path).set('Authorization', authorization) : t.http.head(path)).redirects(0);
    expect(head.status).toBe(expected.status);
    expect(head.text ?? '').toBe('');
    expect(await counters(next)).toEqual(before);

    const get = await (authorization ? t.http.get(path).set('Authorization', authorization) : t.http.get(path)).redirects(0);
    expect(get.status).toBe(expected.status);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(await counters(next)).toEqual({ downloads: before.downloads + expected.downloads, upgrades: before.upgrades + expected.upgrades });
  }

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    license = await createLicense(t, account, product.id);
    old = await releaseWithFile(t, account, product.id, '1.0.0');
    // signed: the Tauri feed offers only signed files
    next = await releaseWithFile(t, account, product.id, '2.0.0', { attrs: { signature: 'c2lnbmVk' } });
  });
  afterAll(() => t.close());

  it('on the Cryptlex update check', async () => {
    await headThenGet(`/v3/releases/update?productId=${product.id}&platform=${next.platform}&version=1.0.0&key=${license.key}`, { status: 200, downloads: 0, upgrades: 1 });
  });

  it('on the upgrade action (303 with a signed download URL)', async () => {
    const path = `${base()}/releases/actions/upgrade?product=${product.id}&platform=${encodeURIComponent(next.platform)}&version=1.0.0`;
    await headThenGet(path, { status: 303, downloads: 1, upgrades: 1 }, licenseAuth(license.key));
  });

  it('on the upgrade from a known release', async () => {
    await headThenGet(`${base()}/releases/${old.id}/upgrade`, { status: 200, downloads: 0, upgrades: 1 }, licenseAuth(license.key));
  });

  it('on the artifact link (303 with a signed download URL)', async () => {
    await headThenGet(`${base()}/releases/${next.id}/artifact`, { status: 303, downloads: 1, upgrades: 0 }, licenseAuth(license.key));
  });

  it('on the electron-updater and Tauri feeds that know the caller version', async () => {
    await headThenGet(`${feeds()}/electron/latest-linux.yml?version=1.0.0&key=${license.key}`, { status: 200, downloads: 0, upgrades: 1 });
    await headThenGet(`${feeds()}/tauri?target=linux&arch=x86_64&current_version=1.0.0&key=${license.key}`, { status: 200, downloads: 0, upgrades: 1 });
  });

  it('in adoption analytics: a license that only sent HEAD checks is no install', async () => {
    const other = await createProduct(t, account);
    const prober = await createLicense(t, account, other.id);
    await releaseWithFile(t, account, other.id, '1.0.0');
    const check = `/v3/releases/update?productId=${other.id}&platform=linux/amd64&version=0.9.0&key=${prober.key}`;
    const versions = async () => (await api(t, bearer(account.adminToken)).get(`${base()}/products/${other.id}/analytics/versions`)).body.meta;

    expect((await t.http.head(check)).status).toBe(200);
    expect(await versions()).toMatchObject({ installs: 0, checks: 0 });
    expect((await t.http.get(check)).status).toBe(200);
    expect(await versions()).toMatchObject({ installs: 1, checks: 1 });
  });
});
