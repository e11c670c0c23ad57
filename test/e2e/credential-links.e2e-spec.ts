import { startApp, TestApp } from '../support/app';
import { createLicense, createProduct, createProductToken } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease, publishRelease } from '../support/release.factories';

/** A credential sent in the query string (`?key=`, `?token=`, `?auth=`) is never written back into `links`. */
describe('credentials never appear in links', () => {
  let t: TestApp;
  let account: TestAccount;
  let licenseKey: string;
  let productToken: string;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    const productId = (await createProduct(t, account)).id;
    licenseKey = (await createLicense(t, account, productId)).key;
    productToken = (await createProductToken(t, account, productId)).token;
    for (let i = 0; i < 3; i++) await publishRelease(t, account, (await createRelease(t, account, productId)).id);
  });
  afterAll(() => t.close());

  /** Every link of a list answer (top level and per resource). */
  function linksOf(body: { links?: Record<string, unknown>; data?: Array<{ links?: Record<string, unknown> }> }): string[] {
    const all = [...Object.values(body.links ?? {}), ...(body.data ?? []).flatMap((r) => Object.values(r.links ?? {}))];
    return all.filter((l): l is string => typeof l === 'string');
  }

  it.each([
    ['?key=', () => `key=${licenseKey}`, () => licenseKey],
    ['?auth=license:', () => `auth=license:${licenseKey}`, () => licenseKey],
    ['?token= (product token)', () => `token=${productToken}`, () => productToken],
    ['?token= (admin)', () => `token=${account.adminToken}`, () => account.adminToken],
    ['?auth=token:', () => `auth=token:${account.adminToken}`, () => account.adminToken],
  ])('%s on release lists, offset and cursor pages', async (_name, credential, secret) => {
    for (const page of ['page[size]=1&page[number]=2', 'page[size]=1&page[cursor]=', '']) {
      // twice: the second answer may come from memory
      for (let i = 0; i < 2; i++) {
        const res = await api(t).get(`/v1/accounts/${account.id}/releases?${credential()}&${page}`);
        expect(res.status).toBe(200);
        const links = linksOf(res.body);
        expect(links.length).toBeGreaterThan(0);
        for (const link of links) {
          expect(link).not.toContain(secret());
          expect(link).not.toMatch(/[?&](key|token|auth)=/);
        }
      }
    }
  });

  it('keeps the other query parameters in the links', async () => {
    const res = await api(t).get(`/v1/accounts/${account.id}/releases?token=${account.adminToken}&page[size]=1&page[number]=1&filter[channel]=stable`);
    expect(res.status).toBe(200);
    expect(res.body.links.next).toMatch(/filter\[channel\]=stable/);
    expect(res.body.links.next).toMatch(/page\[number\]=2/);
  });

  it('on other lists (licenses, with the admin token in the query)', async () => {
    const res = await api(t).get(`/v1/accounts/${account.id}/licenses?token=${account.adminToken}&page[size]=1`);
    expect(res.status).toBe(200);
    for (const link of linksOf(res.body)) expect(link).not.toContain(account.adminToken);
    const auth = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/licenses?page[size]=1`);
    expect(auth.body.links.self).toMatch(/page\[size\]=1/);
  });
});
