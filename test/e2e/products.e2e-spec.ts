import { DataSource } from 'typeorm';
import { startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createLicense, createProduct, createProductToken, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { randomFile, storedFiles, uploadArtifact } from '../support/artifact.factories';
import { createRelease } from '../support/release.factories';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';


describe('products', () => {
  let t: TestApp;
  let account: TestAccount;
  let other: TestAccount;
  let admin: ReturnType<typeof api>;
  let base: string;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    other = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
    base = `/v1/accounts/${account.id}/products`;
  });
  afterAll(() => t.close());

  const body = (attributes: Record<string, unknown>) => ({ data: { type: 'products', attributes } });

  describe('admin', () => {
    it('creates a product with defaults: 201, Location, attributes and relationships', async () => {
      const res = await admin.post(base, body({ name: 'Desktop App' }));
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`${base.replace(account.id, account.id)}/${res.body.data.id}`);
      expect(res.body.data.type).toBe('products');
      expect(res.body.data.attributes).toEqual({
        name: 'Desktop App',
        code: null,
        distributionStrategy: 'LICENSED',
        url: null,
        minimumVersion: null,
        rollbackOnYank: false,
        metadata: {},
        created: expect.any(String),
        updated: expect.any(String),
      });
      expect(res.body.data.relationships.account.data).toEqual({ type: 'accounts', id: account.id });
      expect(res.body.data.relationships.releases.links.related).toContain(`/releases?product=${res.body.data.id}`);
      expect(res.body.data.relationships.licenses.links.related).toContain(`/licenses?product=${res.body.data.id}`);
    });

    it('creates a product with every attribute', async () => {
      const res = await admin.post(
        base,
        body({ name: 'CLI', code: 'cli-tool', distributionStrategy: 'OPEN', url: 'https://example.com/cli', metadata: { a: { b: { c: 1 } } } }),
      );
      expect(res.status).toBe(201);
      expect(res.body.data.attributes).toMatchObject({
        name: 'CLI',
        code: 'cli-tool',
        distributionStrategy: 'OPEN',
        url: 'https://example.com/cli',
        metadata: { a: { b: { c: 1 } } },
      });
      const shown = await admin.get(`${base}/${res.body.data.id}`);
      expect(shown.status).toBe(200);
      expect(shown.body.data.attributes.code).toBe('cli-tool');
    });

    it.each([
      [{}, 'NAME_MISSING', '/data/attributes/name'],
      [{ name: '' }, 'NAME_INVALID', '/data/attributes/name'],
      [{ name: 42 }, 'NAME_INVALID', '/data/attributes/name'],
      [{ name: 'x'.repeat(256) }, 'NAME_INVALID', '/data/attributes/name'],
      [{ name: 'P', distributionStrategy: 'FREE' }, 'DISTRIBUTION_STRATEGY_INVALID', '/data/attributes/distributionStrategy'],
      [{ name: 'P', url: 'not a url' }, 'URL_INVALID', '/data/attributes/url'],
      [{ name: 'P', url: 'ftp://example.com' }, 'URL_INVALID', '/data/attributes/url'],
      [{ name: 'P', metadata: [1, 2] }, 'METADATA_INVALID', '/data/attributes/metadata'],
      [{ name: 'P', metadata: 'text' }, 'METADATA_INVALID', '/data/attributes/metadata'],
      [{ name: 'P', metadata: { a: { b: { c: { d: {} } } } } }, 'METADATA_INVALID', '/data/attributes/metadata'],
      [{ name: 'P', metadata: { big: 'x'.repeat(17 * 1024) } }, 'METADATA_INVALID', '/data/attributes/metadata'],
    ])('refuses %j with 422 %s', async (attributes, code, pointer) => {
      const before = (await admin.get(base)).body.meta.count;
      const res = await admin.post(base, body(attributes));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ status: '422', code, source: { pointer } });
      expect((await admin.get(base)).body.meta.count).toBe(before);
    });

    it('refuses unknown and read-only attributes with 400 PARAMETER_UNPERMITTED', async () => {
      for (const attributes of [{ name: 'P', color: 'red' }, { name: 'P', created: '2020-01-01T00:00:00Z' }]) {
        const res = await admin.post(base, body(attributes));
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe('PARAMETER_UNPERMITTED');
      }
    });

    it('refuses a taken code with 422 CODE_TAKEN on create and update', async () => {
      await createProduct(t, account, { code: 'taken-code' });
      const res = await admin.post(base, body({ name: 'Dup', code: 'taken-code' }));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'CODE_TAKEN', source: { pointer: '/data/attributes/code' } });

      const p = await createProduct(t, account, { code: 'free-code' });
      const patch = await admin.patch(`${base}/${p.id}`, { data: { type: 'products', id: p.id, attributes: { code: 'taken-code' } } });
      expect(patch.status).toBe(422);
      expect(patch.body.errors[0].code).toBe('CODE_TAKEN');
      expect((await admin.get(`${base}/${p.id}`)).body.data.attributes.code).toBe('free-code');
    });

    it('allows the same code in another account', async () => {
      await createProduct(t, account, { code: 'shared-code' });
      await expect(createProduct(t, other, { code: 'shared-code' })).resolves.toMatchObject({ code: 'shared-code' });
    });

    it('updates a product and refuses null for required attributes', async () => {
      const p = await createProduct(t, account, { name: 'Before' });
      const res = await admin.patch(`${base}/${p.id}`, {
        data: { type: 'products', id: p.id, attributes: { name: 'After', distributionStrategy: 'CLOSED', metadata: { k: 'v' } } },
      });
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ name: 'After', distributionStrategy: 'CLOSED', metadata: { k: 'v' } });

      const bad = await admin.patch(`${base}/${p.id}`, { data: { type: 'products', id: p.id, attributes: { name: null } } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]).toMatchObject({ code: 'NAME_INVALID', source: { pointer: '/data/attributes/name' } });
      const bad2 = await admin.patch(`${base}/${p.id}`, { data: { type: 'products', id: p.id, attributes: { distributionStrategy: 'NOPE' } } });
      expect(bad2.status).toBe(422);
      expect(bad2.body.errors[0].code).toBe('DISTRIBUTION_STRATEGY_INVALID');
      expect((await admin.get(`${base}/${p.id}`)).body.data.attributes).toMatchObject({ name: 'After', distributionStrategy: 'CLOSED' });
    });

    it('lists with pagination, sorting and sparse fieldsets', async () => {
      const acct = await createAccount(t);
      const a = api(t, bearer(acct.adminToken));
      const url = `/v1/accounts/${acct.id}/products`;
      for (const name of ['Charlie', 'Alpha', 'Bravo']) await createProduct(t, acct, { name });

      const page = await a.get(`${url}?page[size]=2&page[number]=1`);
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(2);
      expect(page.body.meta).toEqual({ count: 3, pages: 2 });
      expect(page.body.links.next).toContain('page[number]=2');

      const byName = await a.get(`${url}?sort=name`);
      expect(byName.body.data.map((p: { attributes: { name: string } }) => p.attributes.name)).toEqual(['Alpha', 'Bravo', 'Charlie']);
      const newest = await a.get(`${url}?sort=-created&limit=1`);
      expect(newest.body.data[0].attributes.name).toBe('Bravo');

      const first = await a.get(`${url}?page[cursor]=&page[size]=2&sort=created`);
      expect(first.body.data.map((p: { attributes: { name: string } }) => p.attributes.name)).toEqual(['Charlie', 'Alpha']);
      const second = await a.get(`${url}?page[cursor]=${first.body.data[1].id}&page[size]=2&sort=created`);
      expect(second.body.data.map((p: { attributes: { name: string } }) => p.attributes.name)).toEqual(['Bravo']);
      expect(second.body.links.next).toBeNull();

      const sparse = await a.get(`${url}?fields[products]=name`);
      expect(Object.keys(sparse.body.data[0].attributes)).toEqual(['name']);

      for (const q of ['sort=color', 'page[size]=0', 'page[size]=101', 'limit=500', 'page[number]=0', 'fields[products]=color', 'page[cursor]=nope']) {
        const res = await a.get(`${url}?${q}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe('PARAMETER_INVALID');
      }
    });

    it('answers 404 for unknown and malformed ids', async () => {
      for (const id of [UNKNOWN_ID, 'not-a-uuid']) {
        expect((await admin.get(`${base}/${id}`)).status).toBe(404);
        expect((await admin.patch(`${base}/${id}`, body({ name: 'x' }))).status).toBe(404);
        expect((await admin.delete(`${base}/${id}`)).status).toBe(404);
      }
    });

    it('deletes a product without releases: 204, then 404', async () => {
      const p = await createProduct(t, account);
      const res = await admin.delete(`${base}/${p.id}`);
      expect(res.status).toBe(204);
      expect((await admin.get(`${base}/${p.id}`)).status).toBe(404);
    });

    it('refuses to delete a product with releases (422 PRODUCT_HAS_RELEASES) unless ?force=true', async () => {
      const p = await createProduct(t, account);
      const license = await createLicense(t, account, p.id);
      const releaseId = (await createRelease(t, account, p.id)).id;
      await uploadArtifact(t, account, releaseId, randomFile(4096));
      const filesBefore = storedFiles(t).length;
      const res = await admin.delete(`${base}/${p.id}`);
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('PRODUCT_HAS_RELEASES');
      expect((await admin.get(`${base}/${p.id}`)).status).toBe(200);

      expect((await admin.delete(`${base}/${p.id}?force=maybe`)).status).toBe(400);
      expect((await admin.delete(`${base}/${p.id}?force=false`)).status).toBe(422);

      const forced = await admin.delete(`${base}/${p.id}?force=true`);
      expect(forced.status).toBe(204);
      expect((await admin.get(`${base}/${p.id}`)).status).toBe(404);
      const left = await t.app.get(DataSource).query('SELECT id FROM releases WHERE id = $1', [releaseId]);
      expect(left).toHaveLength(0);
      expect((await admin.get(`/v1/accounts/${account.id}/licenses/${license.id}`)).status).toBe(404);
      // the release's artifact file went with it
      expect(storedFiles(t)).toHaveLength(filesBefore - 1);
    });

    it('issues a product token: 201, the secret once, kind product-token', async () => {
      const p = await createProduct(t, account);
      const res = await admin.post(`${base}/${p.id}/tokens`, { data: { type: 'tokens', attributes: { name: 'CI' } } });
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(res.body.data.links.self);
      expect(res.body.data.attributes).toMatchObject({ kind: 'product-token', name: 'CI', token: expect.any(String) });
      expect(res.body.data.relationships.bearer.data).toEqual({ type: 'products', id: p.id });
      const shown = await admin.get(`/v1/accounts/${account.id}/tokens/${res.body.data.id}`);
      expect(shown.status).toBe(200);
      expect(shown.body.data.attributes.token).toBeUndefined();

      const bare = await t.http.post(`${base}/${p.id}/tokens`).set('Authorization', bearer(account.adminToken));
      expect(bare.status).toBe(201);
      expect(bare.body.data.attributes.token).toEqual(expect.any(String));

      const badExpiry = await admin.post(`${base}/${p.id}/tokens`, { data: { type: 'tokens', attributes: { expiry: 'soon' } } });
      expect(badExpiry.status).toBe(422);
      expect(badExpiry.body.errors[0].code).toBe('EXPIRY_INVALID');
      expect((await admin.post(`${base}/${UNKNOWN_ID}/tokens`)).status).toBe(404);
    });

    it("a product's code works wherever its id does: a release's and a license's product relationship, analytics", async () => {
      const code = `app-${UNKNOWN_ID.slice(0, 4)}-${Date.now()}`;
      const p = await createProduct(t, account, { code });
      const release = await admin.post(`/v1/accounts/${account.id}/releases`, {
        data: {
          type: 'releases',
          attributes: { version: '1.0.0', channel: 'stable', platform: 'linux', filetype: 'tar.gz', filename: `${code}.tar.gz` },
          relationships: { product: { data: { type: 'products', id: code } } },
        },
      });
      expect(release.status).toBe(201);
      expect(release.body.data.relationships.product.data.id).toBe(p.id);
      const license = await admin.post(`/v1/accounts/${account.id}/licenses`, {
        data: { type: 'licenses', attributes: {}, relationships: { product: { data: { type: 'products', id: code } } } },
      });
      expect(license.status).toBe(201);
      expect(license.body.data.relationships.product.data.id).toBe(p.id);
      for (const path of ['versions', 'downloads']) {
        expect((await admin.get(`${base}/${code}/analytics/${path}`)).status).toBe(200);
        expect((await admin.get(`${base}/no-such-code/analytics/${path}`)).status).toBe(404);
      }
      // an unknown code is a product that was not found, at the relationship
      const unknown = await admin.post(`/v1/accounts/${account.id}/releases`, {
        data: {
          type: 'releases',
          attributes: { version: '1.0.1', channel: 'stable', platform: 'linux', filetype: 'tar.gz', filename: `${code}-2.tar.gz` },
          relationships: { product: { data: { type: 'products', id: 'no-such-code' } } },
        },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors[0].source.pointer).toBe('/data/relationships/product');
    });
  });

  describe('product token', () => {
    let own: TestProduct;
    let foreign: TestProduct;
    let token: string;
    let p: ReturnType<typeof api>;

    beforeAll(async () => {
      own = await createProduct(t, account, { name: 'Own' });
      foreign = await createProduct(t, account, { name: 'Foreign' });
      token = (await createProductToken(t, account, own.id)).token;
      p = api(t, bearer(token));
    });

    it('reads its own product and only lists it', async () => {
      expect((await p.get(`${base}/${own.id}`)).status).toBe(200);
      const list = await p.get(base);
      expect(list.status).toBe(200);
      expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([own.id]);
    });

    it('does not see other products (404)', async () => {
      expect((await p.get(`${base}/${foreign.id}`)).status).toBe(404);
      expect((await p.patch(`${base}/${foreign.id}`, body({ name: 'x' }))).status).toBe(404);
      expect((await p.delete(`${base}/${foreign.id}`)).status).toBe(404);
    });

    it('may not create, change, delete or issue tokens for its product (403)', async () => {
      const create = await p.post(base, body({ name: 'Mine' }));
      expect(create.status).toBe(403);
      const patch = await p.patch(`${base}/${own.id}`, { data: { type: 'products', id: own.id, attributes: { name: 'Renamed' } } });
      expect(patch.status).toBe(403);
      expect((await p.delete(`${base}/${own.id}`)).status).toBe(403);
      expect((await p.post(`${base}/${own.id}/tokens`)).status).toBe(403);
      // permission comes before validation: an invalid body is still 403, not 422/400
      expect((await p.post(base, body({}))).status).toBe(403);
      expect((await p.patch(`${base}/${own.id}`, { data: { type: 'products', id: own.id, attributes: { name: null, bogus: 1 } } })).status).toBe(403);
      expect((await p.patch(`${base}/${foreign.id}`, { data: { type: 'products', attributes: { bogus: 1 } } })).status).toBe(404);
      expect((await admin.get(`${base}/${own.id}`)).body.data.attributes.name).toBe('Own');
    });
  });

  describe('license key', () => {
    it('reads its own product, lists only it, and cannot change it', async () => {
      const own = await createProduct(t, account);
      const foreign = await createProduct(t, account);
      const license = await createLicense(t, account, own.id);
      const l = api(t, licenseAuth(license.key));
      expect((await l.get(`${base}/${own.id}`)).status).toBe(200);
      expect((await l.get(`${base}/${foreign.id}`)).status).toBe(404);
      expect((await l.get(base)).body.data.map((x: { id: string }) => x.id)).toEqual([own.id]);
      expect((await l.patch(`${base}/${own.id}`, { data: { type: 'products', id: own.id, attributes: { name: 'x' } } })).status).toBe(403);
      expect((await l.delete(`${base}/${own.id}`)).status).toBe(403);
      expect((await l.post(base, body({ name: 'x' }))).status).toBe(403);
    });

    it('does not see its own product once it is CLOSED, nor does its owner', async () => {
      const user = await createUser(t, account);
      const closed = await createProduct(t, account, { distributionStrategy: 'CLOSED' });
      const license = await createLicense(t, account, closed.id, { userId: user.id });
      expect((await api(t, licenseAuth(license.key)).get(`${base}/${closed.id}`)).status).toBe(404);
      expect((await api(t, licenseAuth(license.key)).get(base)).body.data).toEqual([]);
      expect((await api(t, bearer(user.token)).get(`${base}/${closed.id}`)).status).toBe(404);
      expect((await api(t, bearer(account.adminToken)).get(`${base}/${closed.id}`)).status).toBe(200);
    });
  });

  describe('user token', () => {
    it('sees the products of the licenses it owns, nothing else', async () => {
      const user = await createUser(t, account);
      const owned = await createProduct(t, account);
      const notOwned = await createProduct(t, account);
      await createLicense(t, account, owned.id, { userId: user.id });
      await createLicense(t, account, notOwned.id);
      const u = api(t, bearer(user.token));
      expect((await u.get(`${base}/${owned.id}`)).status).toBe(200);
      expect((await u.get(`${base}/${notOwned.id}`)).status).toBe(404);
      expect((await u.get(base)).body.data.map((x: { id: string }) => x.id)).toEqual([owned.id]);
      expect((await u.post(base, body({ name: 'x' }))).status).toBe(403);
      expect((await u.patch(`${base}/${owned.id}`, { data: { type: 'products', id: owned.id, attributes: { name: 'x' } } })).status).toBe(403);
      expect((await u.delete(`${base}/${owned.id}`)).status).toBe(403);
      expect((await u.post(`${base}/${owned.id}/tokens`)).status).toBe(403);
    });

    it('sees nothing without licenses', async () => {
      const user = await createUser(t, account);
      const res = await api(t, bearer(user.token)).get(base);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    });
  });

  describe('anonymous', () => {
    it('is asked for credentials (401 TOKEN_MISSING) and changes nothing', async () => {
      const p = await createProduct(t, account, { name: 'Untouched' });
      const anon = api(t);
      for (const res of [
        await anon.get(base),
        await anon.get(`${base}/${p.id}`),
        await anon.post(base, body({ name: 'x' })),
        await anon.patch(`${base}/${p.id}`, { data: { type: 'products', id: p.id, attributes: { name: 'x' } } }),
        await anon.delete(`${base}/${p.id}`),
        await anon.post(`${base}/${p.id}/tokens`),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
      }
      expect((await admin.get(`${base}/${p.id}`)).body.data.attributes.name).toBe('Untouched');
    });
  });

  describe("other account's admin", () => {
    it('cannot use its token on this account (401 TOKEN_INVALID)', async () => {
      const res = await api(t, bearer(other.adminToken)).get(base);
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('TOKEN_INVALID');
    });

    it('does not find this account\'s products under its own account (404) and changes nothing', async () => {
      const p = await createProduct(t, account, { name: 'Mine' });
      const o = api(t, bearer(other.adminToken));
      const otherBase = `/v1/accounts/${other.id}/products`;
      expect((await o.get(`${otherBase}/${p.id}`)).status).toBe(404);
      expect((await o.patch(`${otherBase}/${p.id}`, { data: { type: 'products', id: p.id, attributes: { name: 'Stolen' } } })).status).toBe(404);
      expect((await o.delete(`${otherBase}/${p.id}`)).status).toBe(404);
      expect((await o.post(`${otherBase}/${p.id}/tokens`)).status).toBe(404);
      expect((await o.get(otherBase)).body.data.map((x: { id: string }) => x.id)).not.toContain(p.id);
      expect((await admin.get(`${base}/${p.id}`)).body.data.attributes.name).toBe('Mine');
    });
  });
});
