import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { constrainRelease, createRelease } from '../support/release.factories';

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
});
