import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { constrainRelease, createRelease } from '../support/release.factories';
import { constrainArtifact, createReleaseV11, uploadArtifactV11, V11, yankArtifact } from '../support/v11.factories';

/**
 * The hot routes answer from the in-memory catalogue, which builds a release's JSON:API resource
 * once and reuses it (only counters and issued links are read afresh). Their documents must be
 * exactly what the SQL path answers — the first time and every time after, whatever was included
 * or asked for in between.
 */
describe('answers from memory equal answers from SQL, document for document', () => {
  let memory: TestApp;
  let sql: TestApp;
  let account: TestAccount;
  let licenseKey: string;
  let productId: string;

  beforeAll(async () => {
    memory = await startApp();
    sql = await startApp({ CATALOGUE: 'false' });
    account = await createAccount(memory);
    const product = await createProduct(memory, account, { distributionStrategy: 'LICENSED' });
    productId = product.id;
    const pro = await createEntitlement(memory, account);
    licenseKey = (await createLicense(memory, account, product.id, { entitlementIds: [pro.id] })).key;
    for (let i = 0; i < 6; i++) {
      const release = await createRelease(memory, account, product.id, { version: `2.${i}.0`, name: `Release ${i}`, metadata: { build: i } });
      await uploadArtifact(memory, account, release.id, randomFile(64 + i));
      if (i % 2 === 1) await constrainRelease(memory, account, release.id, [pro.id]);
    }
  });
  afterAll(async () => {
    await memory.close();
    await sql.close();
  });

  async function both(path: string): Promise<[unknown, unknown]> {
    const auth = licenseAuth(licenseKey);
    const [a, b] = await Promise.all([api(memory, auth).get(path), api(sql, auth).get(path)]);
    expect(a.status).toBe(b.status);
    return [a.body, b.body];
  }

  it('release lists and records, with and without includes and sparse fieldsets, repeatedly', async () => {
    const base = `/v1/accounts/${account.id}/releases`;
    const paths = [
      `${base}?product=${productId}&limit=10`,
      `${base}?product=${productId}&include=constraints,artifact`,
      `${base}?product=${productId}&fields[releases]=version,downloads`,
      `${base}?product=${productId}&sort=version&page[size]=2&page[number]=2`,
      `${base}?product=${productId}`,
    ];
    for (let round = 0; round < 2; round++) {
      for (const path of paths) {
        const [a, b] = await both(path);
        expect(a).toEqual(b);
      }
    }
    const list = (await api(memory, licenseAuth(licenseKey)).get(`${base}?product=${productId}`)).body.data as Array<{ id: string }>;
    expect(list.length).toBe(6);
    for (const { id } of list) {
      for (const path of [`${base}/${id}`, `${base}/${id}?include=constraints`, `${base}/${id}`]) {
        const [a, b] = await both(path);
        expect(a).toEqual(b);
      }
    }
  });

  it('an included relationship does not leak into a later answer without it', async () => {
    const base = `/v1/accounts/${account.id}/releases?product=${productId}`;
    const withInclude = await api(memory, licenseAuth(licenseKey)).get(`${base}&include=constraints`);
    expect(withInclude.body.data.some((r: { relationships: { constraints: { data?: unknown[] } } }) => r.relationships.constraints.data?.length)).toBe(true);
    const without = await api(memory, licenseAuth(licenseKey)).get(base);
    for (const r of without.body.data) expect(r.relationships.constraints.data).toBeUndefined();
  });

  it('counters read afresh: an upgrade check shows in the next answer of the same instance', async () => {
    const list = await api(memory, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases?product=${productId}&sort=-version&limit=1`);
    const newest = list.body.data[0];
    const before = (await api(memory, licenseAuth(licenseKey)).get(`/v1/accounts/${account.id}/releases/${newest.id}`)).body.data.attributes;
    const check = await api(memory, licenseAuth(licenseKey)).get(
      `/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0`,
    );
    expect(check.status).toBe(303);
    // the redirect is issued per answer: two checks give two links to the same artifact
    const again = await api(memory, licenseAuth(licenseKey)).get(
      `/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0`,
    );
    expect(again.body.data.id).toBe(check.body.data.id);
    expect(again.body.data.links.redirect).toBe(again.headers.location);
    expect(check.body.data.links.redirect).toBe(check.headers.location);
    const after = (await api(memory, licenseAuth(licenseKey)).get(`/v1/accounts/${account.id}/releases/${newest.id}`)).body.data.attributes;
    expect(after.upgrades).toBe(before.upgrades + 2);
    expect(after.downloads).toBe(before.downloads + 2);
    expect({ ...after, upgrades: 0, downloads: 0 }).toEqual({ ...before, upgrades: 0, downloads: 0 });
  });

  /**
   * Releases with many artifacts (API 1.1) beside 1.0 releases in one product: the memory path
   * reads the catalogue's offers (one per UPLOADED artifact), the SQL path 1.0 rows merged with the
   * artifact_offers view; both see an artifact's own constraints.
   */
  describe('releases with many artifacts (API 1.1) mixed with 1.0 releases', () => {
    let product11: string;
    /** A license with the Pro entitlement, one with AIR_GAPPED, one with neither. */
    const keys: Record<'pro' | 'air' | 'plain', string> = { pro: '', air: '', plain: '' };

    beforeAll(async () => {
      product11 = (await createProduct(memory, account, { distributionStrategy: 'LICENSED' })).id;
      const pro = await createEntitlement(memory, account);
      const air = await createEntitlement(memory, account);
      keys.pro = (await createLicense(memory, account, product11, { entitlementIds: [pro.id] })).key;
      keys.air = (await createLicense(memory, account, product11, { entitlementIds: [air.id] })).key;
      keys.plain = (await createLicense(memory, account, product11)).key;
      const files = async (version: string, list: Array<Record<string, unknown>>, attrs: Record<string, unknown> = {}) => {
        const release = await createReleaseV11(memory, account, product11, version, attrs);
        const ids: string[] = [];
        for (const a of list) ids.push(await uploadArtifactV11(memory, account, release.id, a, randomFile(32 + ids.length)));
        return { release, ids };
      };
      await files('3.0.0', [
        { filename: 'app-3.0.0-linux.tar.gz', platform: 'linux', arch: 'amd64', signature: 's300' },
        { filename: 'App-3.0.0.zip', platform: 'darwin', arch: 'arm64' },
        { filename: 'App Setup 3.0.0.exe', platform: 'windows' },
        { filename: 'App Setup 3.0.0.exe.blockmap', platform: 'windows' },
      ]);
      // a 1.0 release between the 1.1 ones, on a platform the 1.1 artifacts use
      const old = await createRelease(memory, account, product11, { version: '3.0.5', platform: 'linux/amd64', filename: 'app-3.0.5-linux.tar.gz', filetype: 'tar.gz' });
      await uploadArtifact(memory, account, old.id, randomFile(40));
      // 3.1.0: its linux build for AIR_GAPPED only, its windows installer yanked, an arm64 build
      const v310 = await files('3.1.0', [
        { filename: 'app-3.1.0-linux.tar.gz', platform: 'linux', arch: 'amd64' },
        { filename: 'App Setup 3.1.0.exe', platform: 'windows' },
        { filename: 'app-3.1.0-linux-arm64.tar.gz', platform: 'linux', arch: 'arm64' },
      ], { critical: true, description: 'Security fix' });
      await constrainArtifact(memory, account, v310.ids[0], [air.id]);
      await yankArtifact(memory, account, v310.ids[1]);
      // 3.2.0 for Pro licenses (a release constraint), two of its files
      const v320 = await files('3.2.0', [
        { filename: 'app-3.2.0-linux.tar.gz', platform: 'linux', arch: 'amd64' },
        { filename: 'App-3.2.0.zip', platform: 'darwin', arch: 'arm64' },
      ]);
      await constrainRelease(memory, account, v320.release.id, [pro.id]);
      await files('3.3.0-beta.1', [{ filename: 'app-3.3.0-beta.1-linux.tar.gz', platform: 'linux', arch: 'amd64' }], { channel: 'beta' });
      // a draft with a file: nobody but admins sees it
      await files('3.4.0', [{ filename: 'app-3.4.0-linux.tar.gz', platform: 'linux', arch: 'amd64' }], { status: 'DRAFT' });
    });

    async function bothAs(key: string, path: string, headers: Record<string, string> = {}): Promise<[any, any]> {
      const get = (t: TestApp) => api(t, licenseAuth(key)).get(path).set(headers).redirects(0);
      const [a, b] = await Promise.all([get(memory), get(sql)]);
      expect({ path, status: a.status }).toEqual({ path, status: b.status });
      return [a, b];
    }

    it('lists and records through 1.0 and 1.1, artifact lists, for each license', async () => {
      const base = `/v1/accounts/${account.id}`;
      for (const key of Object.values(keys)) {
        const list10 = await bothAs(key, `${base}/releases?product=${product11}&limit=20`);
        expect(list10[0].body).toEqual(list10[1].body);
        for (const path of [
          `${base}/releases?product=${product11}&limit=20`,
          `${base}/releases?product=${product11}&include=artifacts`,
          `${base}/artifacts?product=${product11}&limit=50`,
          `${base}/artifacts?product=${product11}&platform=linux&arch=amd64`,
        ]) {
          const [a, b] = await bothAs(key, path, V11);
          expect(a.body).toEqual(b.body);
        }
        for (const { id } of list10[0].body.data) {
          for (const headers of [{}, V11]) {
            const [a, b] = await bothAs(key, `${base}/releases/${id}`, headers);
            expect(a.body).toEqual(b.body);
          }
        }
      }
      // the data is not degenerate: the licenses see different releases
      const seen = async (key: string) => (await api(memory, licenseAuth(key)).get(`${base}/releases?product=${product11}&limit=20`)).body.data.length;
      expect([await seen(keys.plain), await seen(keys.pro), await seen(keys.air)]).toEqual([4, 5, 4]);
    });

    /** Every update check of the table, asked of both servers: the same answers. */
    async function compareUpdateChecks(): Promise<{ offered: number; answers: Set<string> }> {
      // counters and issued links differ between the two servers (each counts its own answers)
      const stable = (body: unknown) => JSON.parse(JSON.stringify(body ?? null, (k, v) => (['downloads', 'upgrades', 'redirect', 'url'].includes(k) ? undefined : v)));
      let offered = 0;
      const answers = new Set<string>();
      for (const key of Object.values(keys)) {
        for (const platform of ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows']) {
          for (const version of ['2.9.0', '3.0.0', '3.0.5', '3.1.0', '3.2.0']) {
            for (const extra of ['', '&channel=beta', '&filetype=blockmap', '&filetype=tar.gz', '&constraint=3.0']) {
              const query = `product=${product11}&platform=${platform}&version=${version}${extra}`;
              const [a, b] = await bothAs(key, `/v1/accounts/${account.id}/releases/actions/upgrade?${query}`);
              expect({ query, body: stable(b.body) }).toEqual({ query, body: stable(a.body) });
              if (a.status === 303) {
                offered++;
                answers.add(`${a.body.data.attributes.filename} ${a.body.meta.critical}${a.body.meta.rollback ? ' rollback' : ''}`);
                expect(new URL(a.headers.location).pathname).toBe(new URL(b.headers.location).pathname);
              }
              if (extra) continue;
              const v3 = `/v3/releases/update?productId=${product11}&platform=${platform}&version=${version}&key=${encodeURIComponent(key)}`;
              const [x, y] = await Promise.all([memory.http.get(v3), sql.http.get(v3)]);
              expect({ v3, status: y.status, body: stable(y.body) }).toEqual({ v3, status: x.status, body: stable(x.body) });
            }
          }
        }
      }
      return { offered, answers };
    }

    it('update checks (the upgrade action, /v3) choose the same artifact from memory and from SQL', async () => {
      const { offered, answers } = await compareUpdateChecks();
      expect(offered).toBeGreaterThan(20);
      // among them: the blockmap when asked for, an AIR_GAPPED build, the 1.0 release, a critical skip
      expect([...answers].sort()).toEqual(
        expect.arrayContaining(['App Setup 3.0.0.exe.blockmap false', 'app-3.1.0-linux.tar.gz true', 'app-3.0.5-linux.tar.gz false', 'app-3.3.0-beta.1-linux.tar.gz true']),
      );
    });

    it('with the update policy (a required release, a minimum version, rollback after a yank, a pin) the same answers', async () => {
      const admin = api(memory, bearer(account.adminToken));
      const list = await admin.get(`/v1/accounts/${account.id}/releases?product=${product11}&limit=20`).set(V11);
      const id = (version: string) => list.body.data.find((r: any) => r.attributes.version === version).id;
      await admin.patch(`/v1/accounts/${account.id}/releases/${id('3.0.0')}`, { data: { type: 'releases', id: id('3.0.0'), attributes: { required: true } } }).set(V11).expect(200);
      await admin.post(`/v1/accounts/${account.id}/releases/${id('3.2.0')}/actions/yank`).set(V11).expect(200);
      await admin.patch(`/v1/accounts/${account.id}/products/${product11}`, { data: { type: 'products', id: product11, attributes: { minimumVersion: '3.0.5', rollbackOnYank: true } } }).expect(200);
      const plain = (await admin.get(`/v1/accounts/${account.id}/licenses?product=${product11}&limit=50`)).body.data.find((l: any) => l.attributes.key === keys.plain);
      await admin.patch(`/v1/accounts/${account.id}/licenses/${plain.id}`, { data: { type: 'licenses', id: plain.id, attributes: { versionPin: '<3.1' } } }).expect(200);
      const { offered, answers } = await compareUpdateChecks();
      expect(offered).toBeGreaterThan(20);
      // among them: the stepping stone from 2.9, a rollback off the yanked 3.2
      expect([...answers]).toEqual(expect.arrayContaining(['app-3.0.0-linux.tar.gz true', 'app-3.1.0-linux.tar.gz false rollback']));
    });
  });
});
