import { DataSource } from 'typeorm';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, createProductToken, licenseAuth, TestLicense } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { constrainRelease, createRelease, publishRelease, TestRelease, yankRelease } from '../support/release.factories';

/**
 * Who sees which release, pinned per caller kind over every status, distribution
 * strategy, constraint and expiry case. Hidden releases are 404 for single reads and absent from lists.
 */

type Kind = 'np' | 'pub' | 'yanked' | 'con' | 'con2';
const KINDS: Kind[] = ['np', 'pub', 'yanked', 'con', 'con2'];
const STRATEGIES = { L: 'LICENSED', O: 'OPEN', C: 'CLOSED' } as const;
type P = keyof typeof STRATEGIES;

describe('release visibility', () => {
  let t: TestApp;
  let account: TestAccount;
  const products = {} as Record<P, string>;
  /** `L.pub`, `O.con`, ... and `L.late` (published after the expired licenses' expiry). */
  const releases: Record<string, TestRelease> = {};
  let entE: string;
  let entF: string;
  let base: string;

  const ALL = () => Object.keys(releases).sort();
  const ids = (names: string[]) => names.map((n) => releases[n].id).sort();

  /** Asserts that `authorization` sees exactly `expected` (by name) in lists and single reads. */
  async function expectSees(authorization: string | undefined, expected: string[]): Promise<void> {
    const client = api(t, authorization);
    const list = await client.get(`${base}?page[size]=100`);
    expect(list.status).toBe(200);
    const listed = list.body.data.map((r: { id: string }) => r.id).sort();
    expect(listed).toEqual(ids(expected));
    expect(list.body.meta.count).toBe(expected.length);
    for (const name of ALL()) {
      const res = await client.get(`${base}/${releases[name].id}`);
      expect([name, res.status]).toEqual([name, expected.includes(name) ? 200 : 404]);
      // the same rule for lookups by filename
      const byName = await client.get(`${base}/${encodeURIComponent(releases[name].filename)}`);
      expect([name, byName.status]).toEqual([name, expected.includes(name) ? 200 : 404]);
    }
  }

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    base = `/v1/accounts/${account.id}/releases`;
    entE = (await createEntitlement(t, account)).id;
    entF = (await createEntitlement(t, account)).id;
    for (const p of Object.keys(STRATEGIES) as P[]) {
      products[p] = (await createProduct(t, account, { distributionStrategy: STRATEGIES[p] })).id;
      for (const kind of KINDS) {
        const r = await createRelease(t, account, products[p]);
        releases[`${p}.${kind}`] = r;
        if (kind !== 'np') await publishRelease(t, account, r.id);
        if (kind === 'yanked') await yankRelease(t, account, r.id);
        if (kind === 'con') await constrainRelease(t, account, r.id, [entE]);
        if (kind === 'con2') await constrainRelease(t, account, r.id, [entE, entF]);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    releases['L.late'] = await createRelease(t, account, products.L);
    await publishRelease(t, account, releases['L.late'].id);
  });
  afterAll(() => t.close());

  describe('as an admin', () => {
    it('sees every release of its account in every status', async () => {
      await expectSees(bearer(account.adminToken), ALL());
    });
  });

  describe('as a product token', () => {
    it('sees every release of its product, whatever the status or strategy', async () => {
      for (const p of ['L', 'C'] as P[]) {
        const token = (await createProductToken(t, account, products[p])).token;
        await expectSees(bearer(token), ALL().filter((n) => n.startsWith(`${p}.`)));
      }
    });
  });

  describe('as a license key', () => {
    /** Sets a license's expiry to just before L.late was created, i.e. expired now. */
    async function expireBeforeLate(license: TestLicense): Promise<void> {
      const cutoff = new Date(new Date(releases['L.late'].created).getTime() - 10);
      await t.app.get(DataSource).query('UPDATE licenses SET expiry = $1 WHERE id = $2', [cutoff, license.id]);
    }

    it('without entitlements: published unconstrained releases of its product, plus open ones', async () => {
      const l = await createLicense(t, account, products.L);
      await expectSees(licenseAuth(l.key), ['L.pub', 'L.late', 'O.pub']);
    });

    it('holding E: also the releases constrained by E alone', async () => {
      const l = await createLicense(t, account, products.L, { entitlementIds: [entE] });
      await expectSees(licenseAuth(l.key), ['L.pub', 'L.late', 'L.con', 'O.pub']);
    });

    it('holding E and F: every published release of its product', async () => {
      const l = await createLicense(t, account, products.L, { entitlementIds: [entE, entF] });
      await expectSees(licenseAuth(l.key), ['L.pub', 'L.late', 'L.con', 'L.con2', 'O.pub']);
    });

    it('of an OPEN product: its product\'s published releases whose constraints it holds', async () => {
      const l = await createLicense(t, account, products.O, { entitlementIds: [entE] });
      await expectSees(licenseAuth(l.key), ['O.pub', 'O.con']);
    });

    it('of a CLOSED product: nothing of its own product, only what everyone sees', async () => {
      const l = await createLicense(t, account, products.C, { entitlementIds: [entE, entF] });
      await expectSees(licenseAuth(l.key), ['O.pub']);
    });

    it('expired with RESTRICT_ACCESS: only releases created on or before the expiry', async () => {
      const l = await createLicense(t, account, products.L, { entitlementIds: [entE], attrs: { expirationStrategy: 'RESTRICT_ACCESS' } });
      await expireBeforeLate(l);
      await expectSees(licenseAuth(l.key), ['L.pub', 'L.con', 'O.pub']);
    });

    it('expired with ALLOW_ACCESS: everything it would see unexpired', async () => {
      const l = await createLicense(t, account, products.L, { entitlementIds: [entE], attrs: { expirationStrategy: 'ALLOW_ACCESS' } });
      await expireBeforeLate(l);
      await expectSees(licenseAuth(l.key), ['L.pub', 'L.late', 'L.con', 'O.pub']);
    });

    it('expired with REVOKE_ACCESS: 403 LICENSE_EXPIRED', async () => {
      const l = await createLicense(t, account, products.L, { attrs: { expirationStrategy: 'REVOKE_ACCESS' } });
      await expireBeforeLate(l);
      const res = await api(t, licenseAuth(l.key)).get(base);
      expect(res.status).toBe(403);
      expect(res.body.errors[0].code).toBe('LICENSE_EXPIRED');
    });

    it('suspended: 403 LICENSE_SUSPENDED on lists and single releases', async () => {
      const l = await createLicense(t, account, products.L);
      const suspend = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses/${l.id}/actions/suspend`);
      expect(suspend.status).toBe(200);
      for (const url of [base, `${base}/${releases['L.pub'].id}`]) {
        const res = await api(t, licenseAuth(l.key)).get(url);
        expect(res.status).toBe(403);
        expect(res.body.errors[0].code).toBe('LICENSE_SUSPENDED');
      }
    });

    it('follows status changes: a yanked release disappears, a republished one returns', async () => {
      const l = await createLicense(t, account, products.L);
      const client = api(t, licenseAuth(l.key));
      const r = await createRelease(t, account, products.L);
      expect((await client.get(`${base}/${r.id}`)).status).toBe(404);
      await publishRelease(t, account, r.id);
      expect((await client.get(`${base}/${r.id}`)).status).toBe(200);
      await yankRelease(t, account, r.id);
      expect((await client.get(`${base}/${r.id}`)).status).toBe(404);
      expect((await client.get(`${base}?yanked=true`)).body.data).toEqual([]);
      expect((await api(t, bearer(account.adminToken)).post(`${base}/${r.id}/actions/publish`)).status).toBe(200);
      expect((await client.get(`${base}/${r.id}`)).status).toBe(200);
      // a new constraint it does not hold hides the release at once
      await constrainRelease(t, account, r.id, [entF]);
      expect((await client.get(`${base}/${r.id}`)).status).toBe(404);
    });

    it('may not change what it sees (403) and cannot reach what it does not (404)', async () => {
      const l = await createLicense(t, account, products.L);
      const client = api(t, licenseAuth(l.key));
      const visible = releases['L.pub'];
      const hidden = releases['L.np'];
      const patch = (r: TestRelease) => client.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { name: 'mine' } } });
      expect((await patch(visible)).status).toBe(403);
      expect((await patch(hidden)).status).toBe(404);
      expect((await client.delete(`${base}/${visible.id}`)).status).toBe(403);
      expect((await client.post(`${base}/${visible.id}/actions/yank`)).status).toBe(403);
      expect((await client.post(`${base}/${hidden.id}/actions/publish`)).status).toBe(404);
      const after = await api(t, bearer(account.adminToken)).get(`${base}/${visible.id}`);
      expect(after.body.data.attributes).toMatchObject({ name: null, status: 'PUBLISHED' });
    });
  });

  describe('as a user token', () => {
    it('owning a license: what that license sees', async () => {
      const user = await createUser(t, account);
      await createLicense(t, account, products.L, { userId: user.id, entitlementIds: [entE] });
      await expectSees(bearer(user.token), ['L.pub', 'L.late', 'L.con', 'O.pub']);
    });

    it('owning several licenses: the union of what they see', async () => {
      const user = await createUser(t, account);
      await createLicense(t, account, products.L, { userId: user.id });
      await createLicense(t, account, products.O, { userId: user.id, entitlementIds: [entE] });
      await expectSees(bearer(user.token), ['L.pub', 'L.late', 'O.pub', 'O.con']);
    });

    it('owning only a suspended license, or none: what everyone sees', async () => {
      const user = await createUser(t, account);
      const l = await createLicense(t, account, products.L, { userId: user.id, entitlementIds: [entE, entF] });
      await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses/${l.id}/actions/suspend`);
      await expectSees(bearer(user.token), ['O.pub']);
      const lonely = await createUser(t, account);
      await expectSees(bearer(lonely.token), ['O.pub']);
    });

    it('may not write releases it sees (403)', async () => {
      const user = await createUser(t, account);
      await createLicense(t, account, products.L, { userId: user.id });
      const r = releases['L.pub'];
      const res = await api(t, bearer(user.token)).patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { name: 'x' } } });
      expect(res.status).toBe(403);
      expect((await api(t, bearer(user.token)).post(`${base}/${r.id}/actions/yank`)).status).toBe(403);
    });
  });

  describe('anonymously', () => {
    it('sees only published, unconstrained releases of OPEN products', async () => {
      await expectSees(undefined, ['O.pub']);
    });

    it('includes only what it may see', async () => {
      const res = await api(t).get(`${base}/${releases['O.pub'].id}?include=product,constraints,artifact`);
      expect(res.status).toBe(200);
      expect(res.body.included.map((i: { type: string }) => i.type).sort()).toEqual(['artifacts', 'products']);
      expect(res.body.data.relationships.constraints.data).toEqual([]);
      expect((await api(t).get(`${base}/${releases['O.con'].id}/constraints`)).status).toBe(404);
      expect((await api(t).get(`${base}/${releases['O.pub'].id}/constraints`)).status).toBe(200);
    });
  });

  describe('from another account', () => {
    it('sees none of these releases, through either account', async () => {
      const other = await createAccount(t);
      const otherProduct = await createProduct(t, other, { distributionStrategy: 'OPEN' });
      const theirs = await createRelease(t, other, otherProduct.id);
      await publishRelease(t, other, theirs.id);
      // its credentials are not valid here
      expect((await api(t, bearer(other.adminToken)).get(base)).status).toBe(401);
      // through its own account only its own release exists
      const own = await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/releases?page[size]=100`);
      expect(own.body.data.map((r: { id: string }) => r.id)).toEqual([theirs.id]);
      for (const name of ['O.pub', 'L.np']) {
        expect((await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/releases/${releases[name].id}`)).status).toBe(404);
      }
      // an anonymous caller of this account does not see the other account's open release
      expect((await api(t).get(`${base}/${theirs.id}`)).status).toBe(404);
      // a license of this account is not valid in the other one
      const l = await createLicense(t, account, products.O);
      expect((await api(t, licenseAuth(l.key)).get(`/v1/accounts/${other.id}/releases`)).status).toBe(401);
    });
  });
});
