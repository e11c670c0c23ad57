import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { CancellationToken, HttpExecutor } from 'builder-util-runtime';
import { AppUpdater } from 'electron-updater/out/AppUpdater';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider';
import { XMLParser } from 'fast-xml-parser';
import { load } from 'js-yaml';
import { DataSource } from 'typeorm';
import type { Bearer } from '../../src/access/bearer';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import type { Channel } from '../../src/releases/release.entity';
import { parseStrictVersion, semverColumns } from '../../src/releases/semver';
import { UpgradeFinder } from '../../src/upgrades/upgrade-finder';
import type { OfferedRelease, UpgradeQuery } from '../../src/upgrades/upgrade-finder';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { comparable, contractBucket, getJson, upgradeAction, upgradeFrom, v3 } from '../support/policy.factories';
import type { PolicyAnswer } from '../support/policy.factories';
import { constrainRelease, yankRelease } from '../support/release.factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

type Answer = PolicyAnswer & { body: any };

/** electron-builder's Node executor: plain http.request. */
class NodeExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    return http.request(options, callback);
  }
}

/**
 * Update policy, second part: stepping stones (`required`), a product's `minimumVersion` and
 * `rollbackOnYank`, a license's `versionPin`, and "why no update?". Every route and feed is asked
 * of an instance with the in-memory catalogue and of one without (the SQL path, and the feeds over
 * a fresh load): the two must agree; a generated table then pins walkLine against its SQL twin.
 */
describe('update policy, second part', () => {
  let mem: TestApp;
  let sql: TestApp;
  let account: TestAccount;
  const admin = () => bearer(account.adminToken);

  async function both(ask: (t: TestApp) => Promise<Answer>): Promise<Answer> {
    const a = await ask(mem);
    const b = await ask(sql);
    expect(comparable(b)).toEqual(comparable(a));
    return a;
  }

  /** The same GET of both instances, which must answer alike (`pick`: what is compared). */
  async function bothRaw<T>(path: string, auth: string | undefined, pick: (r: { status: number; text: string }) => T): Promise<T> {
    const ask = async (t: TestApp) => {
      const res = await fetch(`${t.baseUrl}${path}`, { headers: auth ? { Authorization: auth } : {}, redirect: 'manual' });
      return pick({ status: res.status, text: await res.text() });
    };
    const a = await ask(mem);
    expect(await ask(sql)).toEqual(a);
    return a;
  }

  const feeds = (product: TestProduct) => `/v1/accounts/${account.id}/products/${product.id}/feeds`;
  const electronVersion = (product: TestProduct, key: string, version?: string) =>
    bothRaw(`${feeds(product)}/electron/latest.yml?key=${key}${version ? `&version=${version}` : ''}`, undefined, (r) => {
      const doc = r.status === 200 ? (load(r.text) as Record<string, unknown>) : null;
      return { status: r.status, version: doc?.version ?? null, critical: doc?.critical ?? false, rollback: doc?.rollback ?? false };
    });
  const tauriVersion = (product: TestProduct, key: string, version: string, extra = '') =>
    bothRaw(`${feeds(product)}/tauri?target=windows&arch=x86_64&current_version=${version}&key=${key}${extra}`, undefined, (r) => {
      const doc = r.status === 200 ? JSON.parse(r.text) : null;
      return { status: r.status, version: doc?.version ?? null, rollback: doc?.rollback ?? false };
    });
  const appcastVersions = (product: TestProduct, key: string, version?: string) =>
    bothRaw(`${feeds(product)}/sparkle/appcast.xml?key=${key}${version ? `&version=${version}` : ''}`, undefined, (r) => {
      const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(r.text);
      const items = [doc.rss.channel.item ?? []].flat() as Array<Record<string, unknown>>;
      return items.map((i) => i['sparkle:shortVersionString']);
    });
  const explain = (t: TestApp, auth: string, params: Record<string, string>) =>
    getJson(t, `/v1/accounts/${account.id}/releases/actions/explain?${new URLSearchParams(params)}`, auth);
  /** The explain route of both instances: the same decisions. */
  async function explainBoth(params: Record<string, string>): Promise<{ byVersion: Map<string, any>; body: any }> {
    const a = await explain(mem, admin(), params);
    const b = await explain(sql, admin(), params);
    expect(a.status).toBe(200);
    expect(b.body.data.map((d: any) => [d.id, d.attributes.decision])).toEqual(a.body.data.map((d: any) => [d.id, d.attributes.decision]));
    expect(b.body.meta).toEqual(a.body.meta);
    return { byVersion: new Map(a.body.data.map((d: any) => [d.attributes.version, d.attributes])), body: a.body };
  }

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    mem = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    sql = await startApp({ CATALOGUE: 'false' });
    account = await createAccount(mem);
  });
  afterAll(async () => {
    await mem?.close();
    await sql?.close();
  });

  const WIN = { platform: 'windows', filetype: 'exe' };
  const winFile = (version: string, attrs: Record<string, unknown> = {}) => ({ ...WIN, filename: `App-Setup-${version}-${randomUUID().slice(0, 6)}.exe`, signature: `sig-${version}`, ...attrs });
  const macFile = (version: string, attrs: Record<string, unknown> = {}) => ({ platform: 'darwin', filetype: 'zip', filename: `App-${version}-${randomUUID().slice(0, 6)}-mac.zip`, ...attrs });

  describe('stepping stones: 2.0 required, 3.0 newest', () => {
    let product: TestProduct;
    let license: TestLicense;
    const r: Record<string, UpgradeRelease> = {};

    beforeAll(async () => {
      product = await createProduct(mem, account);
      license = await createLicense(mem, account, product.id);
      for (const [v, attrs] of [['1.0.0', {}], ['2.0.0', { required: true }], ['3.0.0', {}]] as const) {
        r[v] = await releaseWithFile(mem, account, product.id, v, { attrs: winFile(v, attrs) });
        await releaseWithFile(mem, account, product.id, v, { attrs: macFile(v, attrs) });
      }
    });

    it('shows required on the release (1.0 and 1.1 documents) and refuses a non-boolean', async () => {
      const one = await api(mem, admin()).get(`/v1/accounts/${account.id}/releases/${r['2.0.0'].id}`);
      expect(one.body.data.attributes.required).toBe(true);
      const v11 = await api(mem, admin()).get(`/v1/accounts/${account.id}/releases/${r['2.0.0'].id}`).set('Keygen-Version', '1.1');
      expect(v11.body.data.attributes.required).toBe(true);
      const bad = await api(mem, admin()).patch(`/v1/accounts/${account.id}/releases/${r['3.0.0'].id}`, { data: { type: 'releases', id: r['3.0.0'].id, attributes: { required: 'yes' } } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]).toMatchObject({ code: 'REQUIRED_INVALID', source: { pointer: '/data/attributes/required' } });
    });

    it('a caller on 1.0 is offered 2.0 by every update route, and 3.0 once it reports 2.0', async () => {
      const key = licenseAuth(license.key);
      for (const [from, to] of [['1.0.0', '2.0.0'], ['2.0.0', '3.0.0'], ['1.5.0', '2.0.0']]) {
        expect((await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', filetype: 'exe', version: from }))).version).toBe(to);
        expect((await both((t) => v3(t, 'update', key, { productId: product.id, platform: 'windows', version: from }))).version).toBe(to);
      }
      expect((await both((t) => upgradeFrom(t, account, key, r['1.0.0'].id))).version).toBe('2.0.0');
      expect((await both((t) => upgradeFrom(t, account, key, r['2.0.0'].id))).version).toBe('3.0.0');
      // without a version there is nothing to step from: the newest
      expect((await both((t) => v3(t, 'latest', key, { productId: product.id, platform: 'windows' }))).version).toBe('3.0.0');
    });

    it('every feed offers 2.0 to a caller on 1.0 and 3.0 to one on 2.0', async () => {
      expect(await electronVersion(product, license.key, '1.0.0')).toMatchObject({ status: 200, version: '2.0.0' });
      expect(await electronVersion(product, license.key, '2.0.0')).toMatchObject({ status: 200, version: '3.0.0' });
      expect(await tauriVersion(product, license.key, '1.0.0')).toMatchObject({ status: 200, version: '2.0.0' });
      expect(await tauriVersion(product, license.key, '2.0.0')).toMatchObject({ status: 200, version: '3.0.0' });
      // Sparkle picks from the appcast itself: a caller that says its version is shown nothing above its stepping stone
      expect(await appcastVersions(product, license.key, '1.0.0')).toEqual(['2.0.0', '1.0.0']);
      expect(await appcastVersions(product, license.key, '2.0.0')).toEqual(['3.0.0', '2.0.0', '1.0.0']);
      // without ?version=, items above the stone ask for it as their minimum autoupdate version: Sparkle
      // offers an app below 2.0 the newest item whose minimum it meets, 2.0
      const minimums = await bothRaw(`${feeds(product)}/sparkle/appcast.xml?key=${license.key}`, undefined, (r) => {
        const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(r.text);
        return ([doc.rss.channel.item].flat() as Array<Record<string, unknown>>).map((i) => [i['sparkle:shortVersionString'], i['sparkle:minimumAutoupdateVersion'] ?? null]);
      });
      expect(minimums).toEqual([['3.0.0', '2.0.0'], ['2.0.0', null], ['1.0.0', null]]);
    });

    it('explain: 2.0 offered, 3.0 a stepping-stone naming 2.0, 1.0 not newer', async () => {
      const { byVersion, body } = await explainBoth({ product: product.id, platform: 'windows', filetype: 'exe', version: '1.0.0', license: license.id });
      expect(body.meta.offered.version).toBe('2.0.0');
      expect(byVersion.get('2.0.0').decision).toBe('offered');
      expect(byVersion.get('3.0.0')).toMatchObject({ decision: 'stepping-stone', required: { version: '2.0.0', id: r['2.0.0'].id } });
      expect(byVersion.get('1.0.0').decision).toBe('not-newer');
      // by key too; and from 2.0, 3.0 is offered
      const fromTwo = await explainBoth({ product: product.id, platform: 'windows', filetype: 'exe', version: '2.0.0', license: license.key });
      expect(fromTwo.byVersion.get('3.0.0').decision).toBe('offered');
    });
  });

  describe('minimumVersion', () => {
    let product: TestProduct;
    let license: TestLicense;

    beforeAll(async () => {
      product = await createProduct(mem, account, { minimumVersion: '2.0.0' });
      license = await createLicense(mem, account, product.id);
      for (const v of ['1.0.0', '2.0.0', '2.1.0']) await releaseWithFile(mem, account, product.id, v, { attrs: winFile(v) });
    });

    it('is shown on the product and validated (422 with a pointer)', async () => {
      const res = await api(mem, admin()).get(`/v1/accounts/${account.id}/products/${product.id}`);
      expect(res.body.data.attributes).toMatchObject({ minimumVersion: '2.0.0', rollbackOnYank: false });
      const bad = await api(mem, admin()).patch(`/v1/accounts/${account.id}/products/${product.id}`, { data: { type: 'products', id: product.id, attributes: { minimumVersion: 'v2' } } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]).toMatchObject({ code: 'MINIMUM_VERSION_INVALID', source: { pointer: '/data/attributes/minimumVersion' } });
    });

    it('makes every answer to a caller below it critical, with belowMinimum in meta and /v3', async () => {
      const key = licenseAuth(license.key);
      const below = await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: '1.0.0' }));
      expect([below.version, below.critical, below.body.meta.belowMinimum]).toEqual(['2.1.0', true, true]);
      const v3Below = await both((t) => v3(t, 'update', key, { productId: product.id, platform: 'windows', version: '1.0.0' }));
      expect([v3Below.critical, v3Below.body.belowMinimum]).toEqual([true, true]);
      const at = await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: '2.0.0' }));
      expect([at.version, at.critical, at.body.meta.belowMinimum]).toEqual(['2.1.0', false, undefined]);
      expect(await electronVersion(product, license.key, '1.0.0')).toMatchObject({ version: '2.1.0', critical: true });
      expect(await electronVersion(product, license.key, '2.0.0')).toMatchObject({ version: '2.1.0', critical: false });
    });
  });

  describe('rollbackOnYank', () => {
    let product: TestProduct;
    let plainProduct: TestProduct;
    let license: TestLicense;
    let plainLicense: TestLicense;
    const r: Record<string, UpgradeRelease> = {};

    beforeAll(async () => {
      product = await createProduct(mem, account, { rollbackOnYank: true });
      plainProduct = await createProduct(mem, account);
      license = await createLicense(mem, account, product.id);
      plainLicense = await createLicense(mem, account, plainProduct.id);
      for (const p of [product, plainProduct]) {
        r[`${p.id}2.0.0`] = await releaseWithFile(mem, account, p.id, '2.0.0', { attrs: winFile('2.0.0') });
        r[`${p.id}2.1.0`] = await releaseWithFile(mem, account, p.id, '2.1.0', { attrs: winFile('2.1.0'), state: 'yanked' });
      }
    });

    it('offers a caller on the yanked 2.1 the release below it, marked as a rollback, on every route', async () => {
      const key = licenseAuth(license.key);
      const action = await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: '2.1.0' }));
      expect([action.status, action.version, action.body.meta.rollback]).toEqual([303, '2.0.0', true]);
      const v3Answer = await both((t) => v3(t, 'update', key, { productId: product.id, platform: 'windows', version: '2.1.0' }));
      expect([v3Answer.version, v3Answer.body.rollback]).toEqual(['2.0.0', true]);
      expect(await electronVersion(product, license.key, '2.1.0')).toMatchObject({ version: '2.0.0', rollback: true });
      expect(await tauriVersion(product, license.key, '2.1.0')).toMatchObject({ version: '2.0.0', rollback: true });
      // a caller on 2.0 (not yanked) is up to date; a product without rollbackOnYank leaves 2.1 where it is
      expect((await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: '2.0.0' }))).status).toBe(204);
      expect((await both((t) => upgradeAction(t, account, licenseAuth(plainLicense.key), { product: plainProduct.id, platform: 'windows', version: '2.1.0' }))).status).toBe(204);
    });

    it("electron-updater's own generic provider, with allowDowngrade, accepts the rollback and downloads it", async () => {
      const url = `${mem.baseUrl}${feeds(product)}/electron/?key=${license.key}&version=2.1.0`;
      const provider = new GenericProvider({ provider: 'generic', url }, { channel: null, isAddNoCacheQuery: false } as never, {
        executor: new NodeExecutor(),
        platform: 'win32',
        isUseMultipleRangeRequest: false,
      } as never);
      const info = await provider.getLatestVersion();
      expect(info.version).toBe('2.0.0');
      // AppUpdater's own decision, for an app on 2.1.0
      const decide = (allowDowngrade: boolean) =>
        AppUpdater.prototype['isUpdateAvailable'].call(
          { currentVersion: '2.1.0', allowDowngrade, isUpdateSupported: () => true, isUserWithinRollout: () => true },
          info,
        ) as Promise<boolean>;
      expect(await decide(true)).toBe(true);
      expect(await decide(false)).toBe(false);
      const [file] = provider.resolveFiles(info);
      const body = await new NodeExecutor().downloadToBuffer(file.url, { cancellationToken: new CancellationToken(), headers: {} } as never);
      expect(body.equals(r[`${product.id}2.0.0`].bytes!)).toBe(true);
    });
  });

  describe('pins', () => {
    let product: TestProduct;
    let pinned: TestLicense;

    beforeAll(async () => {
      product = await createProduct(mem, account);
      pinned = await createLicense(mem, account, product.id, { attrs: { versionPin: '~2.4' } });
      for (const v of ['2.4.0', '2.4.1', '2.5.0', '3.0.0']) await releaseWithFile(mem, account, product.id, v, { attrs: winFile(v) });
    });

    it('is shown on the license and validated (422 with a pointer); an admin may change it', async () => {
      const res = await api(mem, admin()).get(`/v1/accounts/${account.id}/licenses/${pinned.id}`);
      expect(res.body.data.attributes.versionPin).toBe('~2.4');
      for (const bad of ['not a range', '', 42]) {
        const r = await api(mem, admin()).patch(`/v1/accounts/${account.id}/licenses/${pinned.id}`, { data: { type: 'licenses', id: pinned.id, attributes: { versionPin: bad } } });
        expect(r.status).toBe(422);
        expect(r.body.errors[0]).toMatchObject({ code: 'VERSION_PIN_INVALID', source: { pointer: '/data/attributes/versionPin' } });
      }
    });

    it('never offers 2.5 or 3.0 to a license pinned to ~2.4, on any route or feed', async () => {
      const key = licenseAuth(pinned.key);
      for (const from of ['2.4.0', '2.3.0']) {
        expect((await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: from }))).version).toBe('2.4.1');
        expect((await both((t) => v3(t, 'update', key, { productId: product.id, platform: 'windows', version: from }))).version).toBe('2.4.1');
        expect(await tauriVersion(product, pinned.key, from)).toMatchObject({ version: '2.4.1' });
        expect(await electronVersion(product, pinned.key, from)).toMatchObject({ version: '2.4.1' });
      }
      expect((await both((t) => upgradeAction(t, account, key, { product: product.id, platform: 'windows', version: '2.4.1' }))).status).toBe(204);
      expect((await both((t) => v3(t, 'latest', key, { productId: product.id, platform: 'windows' }))).version).toBe('2.4.1');
      expect(await electronVersion(product, pinned.key)).toMatchObject({ version: '2.4.1' });
      // an admin previewing the license gets what it gets
      expect((await both((t) => upgradeAction(t, account, admin(), { product: product.id, platform: 'windows', version: '2.4.0', license: pinned.id }))).version).toBe('2.4.1');
    });

    it('explain says pin for 2.5 and 3.0; unpinning offers 3.0', async () => {
      const { byVersion } = await explainBoth({ product: product.id, platform: 'windows', version: '2.4.0', license: pinned.id });
      expect(byVersion.get('2.5.0')).toMatchObject({ decision: 'pin', pin: '~2.4' });
      expect(byVersion.get('3.0.0')).toMatchObject({ decision: 'pin', pin: '~2.4' });
      expect(byVersion.get('2.4.1').decision).toBe('offered');
      const other = await createLicense(mem, account, product.id, { attrs: { versionPin: '<3' } });
      await api(mem, admin()).patch(`/v1/accounts/${account.id}/licenses/${other.id}`, { data: { type: 'licenses', id: other.id, attributes: { versionPin: null } } }).expect(200);
      expect((await both((t) => upgradeAction(t, account, licenseAuth(other.key), { product: product.id, platform: 'windows', version: '2.4.0' }))).version).toBe('3.0.0');
    });
  });

  describe('explain: one rule each', () => {
    let product: TestProduct;
    const base = () => ({ product: product.id, platform: 'windows', version: '0.1.0' });

    beforeAll(async () => {
      product = await createProduct(mem, account);
    });

    it('constraint, naming the missing entitlement', async () => {
      const pro = await createEntitlement(mem, account, { code: `PRO_${randomUUID().slice(0, 6)}` });
      const license = await createLicense(mem, account, product.id);
      const rel = await releaseWithFile(mem, account, product.id, '1.0.0', { attrs: winFile('1.0.0') });
      await constrainRelease(mem, account, rel.id, [pro.id]);
      await mem.app.get(CatalogueListener).settle();
      const { byVersion } = await explainBoth({ ...base(), license: license.id });
      expect(byVersion.get('1.0.0')).toMatchObject({ decision: 'constraint', entitlements: [{ id: pro.id, code: pro.code }] });
      expect(byVersion.get('1.0.0').detail).toContain(pro.code);
    });

    it('expired: a release created after the license expired (RESTRICT_ACCESS)', async () => {
      const license = await createLicense(mem, account, product.id, { attrs: { expiry: new Date(Date.now() - 3600_000).toISOString() } });
      await releaseWithFile(mem, account, product.id, '1.1.0', { attrs: winFile('1.1.0') });
      const { byVersion } = await explainBoth({ ...base(), license: license.id });
      expect(byVersion.get('1.1.0').decision).toBe('expired');
    });

    it('rollout, with the bucket and the percentage', async () => {
      const rel = await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: winFile('1.2.0', { rolloutPercentage: 10 }) });
      let license: TestLicense;
      do license = await createLicense(mem, account, product.id);
      while (contractBucket(rel.id, license.id) < 10);
      const { byVersion } = await explainBoth({ ...base(), license: license.id });
      expect(byVersion.get('1.2.0')).toMatchObject({ decision: 'rollout', bucket: contractBucket(rel.id, license.id), percentage: 10 });
      expect(byVersion.get('1.1.0').decision).toBe('offered');
    });

    it('channel and yanked', async () => {
      const license = await createLicense(mem, account, product.id);
      await releaseWithFile(mem, account, product.id, '1.3.0-beta.1', { attrs: winFile('1.3.0-beta.1') });
      const yanked = await releaseWithFile(mem, account, product.id, '1.2.5', { attrs: winFile('1.2.5') });
      await yankRelease(mem, account, yanked.id);
      await mem.app.get(CatalogueListener).settle();
      const { byVersion } = await explainBoth({ ...base(), license: license.id });
      expect(byVersion.get('1.3.0-beta.1').decision).toBe('channel');
      expect(byVersion.get('1.2.5').decision).toBe('yanked');
      const beta = await explainBoth({ ...base(), channel: 'beta', license: license.id });
      expect(beta.byVersion.get('1.3.0-beta.1').decision).toBe('offered');
    });

    it('is 403 for a license and a user token, 401 without a credential, 400 on a bad parameter', async () => {
      const license = await createLicense(mem, account, product.id);
      const user = await createUser(mem, account);
      for (const auth of [licenseAuth(license.key), bearer(user.token)]) {
        const res = await explain(mem, auth, { ...base(), license: license.id });
        expect(res.status).toBe(403);
        expect(res.body.errors[0].code).toBe('FORBIDDEN');
      }
      expect((await getJson(mem, `/v1/accounts/${account.id}/releases/actions/explain?product=${product.id}`)).status).toBe(401);
      const bad = await explain(mem, admin(), { product: product.id, platform: 'windows', version: 'one' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'version' } });
      const unknown = await explain(mem, admin(), { ...base(), license: randomUUID() });
      expect(unknown.status).toBe(404);
    });
  });

  /**
   * walkLine against its SQL twin on generated lines: random versions, required, critical, staged,
   * yanked and constrained releases, products with and without a minimum version and rollback,
   * licenses with and without pins; every (license, version) pair answered alike.
   */
  describe('walkLine and its SQL twin agree on generated data', () => {
    it('for every license, version and product', async () => {
      const db = mem.app.get(DataSource);
      const finder = mem.app.get(UpgradeFinder);
      const catalogue = mem.app.get(CatalogueService);
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const ent = await createEntitlement(mem, account);
      const versions = ['1.0.0', '1.1.0', '1.2.0', '1.2.1', '2.0.0', '2.0.1-rc.1', '2.1.0', '2.4.0', '2.4.3', '2.5.0', '3.0.0', '3.1.0-beta.1'];
      let checked = 0;
      for (const productAttrs of [{}, { minimumVersion: '2.0.0' }, { rollbackOnYank: true }, { minimumVersion: '2.4.0', rollbackOnYank: true }]) {
        const product = await createProduct(mem, account, productAttrs);
        for (const v of versions) {
          if (rand() < 0.15) continue;
          const c = semverColumns(parseStrictVersion(v)!);
          const channel = (v.includes('-') ? v.split('-')[1].split('.')[0] : 'stable') as Channel;
          const status = pick(['PUBLISHED', 'PUBLISHED', 'PUBLISHED', 'YANKED', 'NOT_PUBLISHED']);
          const rows: Array<{ id: string }> = await db.query(
            `INSERT INTO releases (account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_prerelease, semver_build,
               semver_is_release, semver_pre_key, semver_build_key, channel, platform, filename, filetype, status, required, critical, rollout_percentage)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'windows', $13, 'exe', $14, $15, $16, $17) RETURNING id`,
            [account.id, product.id, v, c.semverMajor, c.semverMinor, c.semverPatch, c.semverPrerelease, c.semverBuild, c.semverIsRelease, c.semverPreKey, c.semverBuildKey,
              channel, `gen-${randomUUID()}.exe`, status, rand() < 0.3, rand() < 0.2, pick([100, 100, 100, 50, 0])],
          );
          await db.query(`INSERT INTO artifacts (account_id, release_id, filename, filetype, status) VALUES ($1, $2, 'f', 'exe', 'UPLOADED')`, [account.id, rows[0].id]);
          if (rand() < 0.15) await db.query(`INSERT INTO release_constraints (account_id, release_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, rows[0].id, ent.id]);
        }
        const licenses = [
          await createLicense(mem, account, product.id),
          await createLicense(mem, account, product.id, { entitlementIds: [ent.id], attrs: { versionPin: '~2.4' } }),
          await createLicense(mem, account, product.id, { attrs: { versionPin: '<2 || >=3.0.0-0' } }),
          await createLicense(mem, account, product.id, { entitlementIds: [ent.id], attrs: { versionPin: '^1.1' } }),
        ];
        await mem.app.get(CatalogueListener).settle();
        for (const l of licenses) {
          const cached = (await catalogue.license(account.id, l.key))!;
          const caller: Bearer = { kind: 'license', accountId: account.id, license: cached.license, facts: cached.facts };
          for (const channel of ['stable', 'beta'] as Channel[]) {
            const line = { productId: product.id, platform: 'windows', channel, requireArtifact: true };
            const shape = (o: OfferedRelease | null) =>
              o && { id: o.release.id, version: o.release.version, critical: o.critical, changelog: o.changelog.map((e) => e.version), rollback: !!o.rollback, belowMinimum: !!o.belowMinimum };
            expect(shape(await finder.latestInSql(caller, account.id, line))).toEqual(shape(await finder.findLatest(caller, account.id, line)));
            for (const current of [...versions, '0.9.0', '2.2.0']) {
              const query: UpgradeQuery = { ...line, current: parseStrictVersion(current)! };
              const memory = shape(await finder.findNext(caller, account.id, query));
              const inSql = shape(await finder.nextInSql(caller, account.id, query));
              if (JSON.stringify(inSql) !== JSON.stringify(memory)) throw new Error(`${JSON.stringify(productAttrs)} ${cached.facts.versionPin} ${channel} from ${current}: memory ${JSON.stringify(memory)}, SQL ${JSON.stringify(inSql)}`);
              checked++;
            }
          }
        }
      }
      expect(checked).toBe(4 * 4 * 2 * 14);
    });
  });
});
