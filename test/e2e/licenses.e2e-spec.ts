import { startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import {
  createEntitlement,
  createLicense,
  createProduct,
  createProductToken,
  licenseAuth,
  TestProduct,
} from '../support/catalogue.factories';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const KEY_FORMAT = /^[0-9A-F]{6}(?:-[0-9A-F]{6}){5}$/;
const PAST = '2020-01-01T00:00:00.000Z';
const FUTURE = '2099-01-01T00:00:00.000Z';

type Doc = { data: Array<{ id: string; attributes: Record<string, unknown> }> };
const ids = (body: Doc) => body.data.map((r) => r.id);

describe('licenses', () => {
  let t: TestApp;
  let account: TestAccount;
  let other: TestAccount;
  let admin: ReturnType<typeof api>;
  let base: string;
  let product: TestProduct;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    other = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
    base = `/v1/accounts/${account.id}/licenses`;
    product = await createProduct(t, account, { name: 'Licensed app' });
  });
  afterAll(() => t.close());

  const productRel = (id: string) => ({ product: { data: { type: 'products', id } } });
  const create = (attributes: Record<string, unknown>, relationships: Record<string, unknown> = productRel(product.id)) => ({
    data: { type: 'licenses', attributes, relationships },
  });
  const patch = (id: string, attributes: Record<string, unknown>, relationships?: Record<string, unknown>) => ({
    data: { type: 'licenses', id, attributes, ...(relationships ? { relationships } : {}) },
  });
  const linkage = (...entitlementIds: string[]) => ({ data: entitlementIds.map((id) => ({ type: 'entitlements', id })) });

  describe('admin', () => {
    it('creates a license with a generated key: 201, Location, attributes, relationships', async () => {
      const res = await admin.post(base, create({}));
      expect(res.status).toBe(201);
      const l = res.body.data;
      expect(res.headers.location).toBe(`${base}/${l.id}`);
      expect(l.type).toBe('licenses');
      expect(l.attributes).toEqual({
        key: expect.stringMatching(KEY_FORMAT),
        name: null,
        expiry: null,
        expirationStrategy: 'RESTRICT_ACCESS',
        status: 'ACTIVE',
        suspended: false,
        versionPin: null,
        metadata: {},
        created: expect.any(String),
        updated: expect.any(String),
      });
      expect(l.relationships.product.data).toEqual({ type: 'products', id: product.id });
      expect(l.relationships.user.data).toBeNull();
      expect(l.relationships.entitlements.links.related).toBe(`${base}/${l.id}/entitlements`);
    });

    it('generates distinct keys in the documented format', async () => {
      const keys = new Set<string>();
      for (let i = 0; i < 5; i++) keys.add((await createLicense(t, account, product.id)).key);
      expect(keys.size).toBe(5);
      for (const key of keys) expect(key).toMatch(KEY_FORMAT);
    });

    it('creates a license with every attribute, an owner and entitlements', async () => {
      const user = await createUser(t, account);
      const e = await createEntitlement(t, account);
      const res = await admin.post(
        base,
        create(
          { key: 'my-own-KEY_1', name: 'Acme seat', expiry: FUTURE, expirationStrategy: 'REVOKE_ACCESS', metadata: { seats: 5 } },
          { ...productRel(product.id), user: { data: { type: 'users', id: user.id } }, entitlements: linkage(e.id) },
        ),
      );
      expect(res.status).toBe(201);
      expect(res.body.data.attributes).toMatchObject({
        key: 'my-own-KEY_1',
        name: 'Acme seat',
        expiry: FUTURE,
        expirationStrategy: 'REVOKE_ACCESS',
        status: 'ACTIVE',
        metadata: { seats: 5 },
      });
      expect(res.body.data.relationships.user.data).toEqual({ type: 'users', id: user.id });
      const ents = await admin.get(`${base}/${res.body.data.id}/entitlements`);
      expect(ids(ents.body)).toEqual([e.id]);
    });

    it('refuses a taken key with 422 KEY_TAKEN (same account only)', async () => {
      await createLicense(t, account, product.id, { attrs: { key: 'DUPLICATE-KEY' } });
      const res = await admin.post(base, create({ key: 'DUPLICATE-KEY' }));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'KEY_TAKEN', source: { pointer: '/data/attributes/key' } });
      const otherProduct = await createProduct(t, other);
      await expect(createLicense(t, other, otherProduct.id, { attrs: { key: 'DUPLICATE-KEY' } })).resolves.toMatchObject({ key: 'DUPLICATE-KEY' });
    });

    it.each([
      [{ key: '' }, 'KEY_INVALID', '/data/attributes/key'],
      [{ key: 'has space' }, 'KEY_INVALID', '/data/attributes/key'],
      [{ key: 'ctl\u0007char' }, 'KEY_INVALID', '/data/attributes/key'],
      [{ key: 'k'.repeat(256) }, 'KEY_INVALID', '/data/attributes/key'],
      [{ key: 12345 }, 'KEY_INVALID', '/data/attributes/key'],
      [{ name: 'n'.repeat(256) }, 'NAME_INVALID', '/data/attributes/name'],
      [{ expiry: 'tomorrow' }, 'EXPIRY_INVALID', '/data/attributes/expiry'],
      [{ expirationStrategy: 'FOREVER' }, 'EXPIRATION_STRATEGY_INVALID', '/data/attributes/expirationStrategy'],
      [{ metadata: 'x' }, 'METADATA_INVALID', '/data/attributes/metadata'],
    ])('refuses %j with 422 %s', async (attributes, code, pointer) => {
      const before = (await admin.get(base)).body.meta.count;
      const res = await admin.post(base, create(attributes));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code, source: { pointer } });
      expect((await admin.get(base)).body.meta.count).toBe(before);
    });

    it('accepts a key of exactly 255 characters', async () => {
      const res = await admin.post(base, create({ key: 'K'.repeat(255) }));
      expect(res.status).toBe(201);
    });

    it('refuses read-only attributes with 400 PARAMETER_UNPERMITTED', async () => {
      for (const attributes of [{ status: 'ACTIVE' }, { suspended: true }, { created: PAST }]) {
        const res = await admin.post(base, create(attributes));
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe('PARAMETER_UNPERMITTED');
      }
    });

    it('requires the product relationship (422 PRODUCT_MISSING / PRODUCT_NOT_FOUND)', async () => {
      const missing = await admin.post(base, create({}, {}));
      expect(missing.status).toBe(422);
      expect(missing.body.errors[0]).toMatchObject({ code: 'PRODUCT_MISSING', source: { pointer: '/data/relationships/product' } });

      const otherProduct = await createProduct(t, other);
      for (const id of [UNKNOWN_ID, otherProduct.id, 'not-a-uuid']) {
        const res = await admin.post(base, create({}, productRel(id)));
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ code: 'PRODUCT_NOT_FOUND', source: { pointer: '/data/relationships/product' } });
      }
      const wrongType = await admin.post(base, create({}, { product: { data: { type: 'users', id: product.id } } }));
      expect(wrongType.status).toBe(409);
    });

    it('refuses an owner that is not a user of the account (422 USER_NOT_FOUND)', async () => {
      const stranger = await createUser(t, other);
      for (const id of [UNKNOWN_ID, stranger.id]) {
        const res = await admin.post(base, create({}, { ...productRel(product.id), user: { data: { type: 'users', id } } }));
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ code: 'USER_NOT_FOUND', source: { pointer: '/data/relationships/user' } });
      }
    });

    it('refuses unknown entitlements on create (422 ENTITLEMENT_NOT_FOUND) and creates nothing', async () => {
      const before = (await admin.get(base)).body.meta.count;
      const res = await admin.post(base, create({}, { ...productRel(product.id), entitlements: linkage(UNKNOWN_ID) }));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_NOT_FOUND', source: { pointer: '/data/relationships/entitlements' } });
      expect((await admin.get(base)).body.meta.count).toBe(before);
    });

    it('updates attributes and the owner; product is immutable (400 PARAMETER_UNPERMITTED)', async () => {
      const user = await createUser(t, account);
      const l = await createLicense(t, account, product.id, { attrs: { name: 'Before' } });
      const res = await admin.patch(
        `${base}/${l.id}`,
        patch(l.id, { name: 'After', expiry: FUTURE, expirationStrategy: 'ALLOW_ACCESS', metadata: { a: 1 } }, { user: { data: { type: 'users', id: user.id } } }),
      );
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ name: 'After', expiry: FUTURE, expirationStrategy: 'ALLOW_ACCESS', metadata: { a: 1 }, key: l.key });
      expect(res.body.data.relationships.user.data).toEqual({ type: 'users', id: user.id });

      const cleared = await admin.patch(`${base}/${l.id}`, patch(l.id, { expiry: null }, { user: { data: null } }));
      expect(cleared.status).toBe(200);
      expect(cleared.body.data.attributes.expiry).toBeNull();
      expect(cleared.body.data.relationships.user.data).toBeNull();

      const another = await createProduct(t, account);
      const moved = await admin.patch(`${base}/${l.id}`, patch(l.id, {}, productRel(another.id)));
      expect(moved.status).toBe(400);
      expect(moved.body.errors[0]).toMatchObject({ code: 'PARAMETER_UNPERMITTED', source: { pointer: '/data/relationships/product' } });
      const ents = await admin.patch(`${base}/${l.id}`, patch(l.id, {}, { entitlements: linkage() }));
      expect(ents.status).toBe(400);
      const status = await admin.patch(`${base}/${l.id}`, patch(l.id, { suspended: true }));
      expect(status.status).toBe(400);
      const otherLicense = await createLicense(t, account, l.productId);
      const mismatch = await admin.patch(`${base}/${l.id}`, patch(otherLicense.id, { name: 'Wrong target' }));
      expect(mismatch.status).toBe(409);
      expect(mismatch.body.errors[0].source.pointer).toBe('/data/id');
      expect((await admin.get(`${base}/${otherLicense.id}`)).body.data.attributes.name).not.toBe('Wrong target');
      expect((await admin.get(`${base}/${l.id}`)).body.data.attributes.name).not.toBe('Wrong target');
      const badUser = await admin.patch(`${base}/${l.id}`, patch(l.id, {}, { user: { data: { type: 'users', id: UNKNOWN_ID } } }));
      expect(badUser.status).toBe(422);
      expect(badUser.body.errors[0].code).toBe('USER_NOT_FOUND');
      const nullKey = await admin.patch(`${base}/${l.id}`, patch(l.id, { key: null }));
      expect(nullKey.status).toBe(422);
      expect(nullKey.body.errors[0].code).toBe('KEY_INVALID');

      const after = await admin.get(`${base}/${l.id}`);
      expect(after.body.data.relationships.product.data.id).toBe(product.id);
      expect(after.body.data.attributes).toMatchObject({ name: 'After', suspended: false, key: l.key });
    });

    it('refuses a taken key on update (422 KEY_TAKEN) and leaves the key alone', async () => {
      const a = await createLicense(t, account, product.id);
      const b = await createLicense(t, account, product.id);
      const res = await admin.patch(`${base}/${b.id}`, patch(b.id, { key: a.key }));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('KEY_TAKEN');
      expect((await admin.get(`${base}/${b.id}`)).body.data.attributes.key).toBe(b.key);
    });

    it('deletes a license: 204, then 404 and its key no longer authenticates', async () => {
      const l = await createLicense(t, account, product.id);
      expect((await admin.delete(`${base}/${l.id}`)).status).toBe(204);
      expect((await admin.get(`${base}/${l.id}`)).status).toBe(404);
      const res = await api(t, licenseAuth(l.key)).get(`${base}/${l.id}`);
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('LICENSE_INVALID');
    });

    it('answers 404 for unknown and malformed ids', async () => {
      for (const id of [UNKNOWN_ID, 'ABC-123']) {
        expect((await admin.get(`${base}/${id}`)).status).toBe(404);
        expect((await admin.patch(`${base}/${id}`, patch(id, { name: 'x' }))).status).toBe(404);
        expect((await admin.delete(`${base}/${id}`)).status).toBe(404);
        expect((await admin.post(`${base}/${id}/actions/suspend`)).status).toBe(404);
        expect((await admin.get(`${base}/${id}/entitlements`)).status).toBe(404);
      }
    });

    it('suspends and reinstates: the key is refused (403 LICENSE_SUSPENDED), then accepted again', async () => {
      const l = await createLicense(t, account, product.id);
      const key = api(t, licenseAuth(l.key));
      expect((await key.get(`${base}/${l.id}`)).status).toBe(200);

      const suspended = await admin.post(`${base}/${l.id}/actions/suspend`);
      expect(suspended.status).toBe(200);
      expect(suspended.body.data.attributes).toMatchObject({ suspended: true, status: 'SUSPENDED' });
      const refused = await key.get(`${base}/${l.id}`);
      expect(refused.status).toBe(403);
      expect(refused.body.errors[0].code).toBe('LICENSE_SUSPENDED');
      expect((await admin.post(`${base}/${l.id}/actions/suspend`)).status).toBe(200);

      const reinstated = await admin.post(`${base}/${l.id}/actions/reinstate`);
      expect(reinstated.status).toBe(200);
      expect(reinstated.body.data.attributes).toMatchObject({ suspended: false, status: 'ACTIVE' });
      expect((await key.get(`${base}/${l.id}`)).status).toBe(200);
    });

    it('reports expired licenses; REVOKE_ACCESS keys are refused (403 LICENSE_EXPIRED), RESTRICT_ACCESS ones are not', async () => {
      const revoked = await createLicense(t, account, product.id, { attrs: { expiry: PAST, expirationStrategy: 'REVOKE_ACCESS' } });
      expect((await admin.get(`${base}/${revoked.id}`)).body.data.attributes.status).toBe('EXPIRED');
      const res = await api(t, licenseAuth(revoked.key)).get(`${base}/${revoked.id}`);
      expect(res.status).toBe(403);
      expect(res.body.errors[0].code).toBe('LICENSE_EXPIRED');

      const restricted = await createLicense(t, account, product.id, { attrs: { expiry: PAST } });
      const ok = await api(t, licenseAuth(restricted.key)).get(`${base}/${restricted.id}`);
      expect(ok.status).toBe(200);
      expect(ok.body.data.attributes.status).toBe('EXPIRED');

      // extending the expiry lets the revoked key in again
      await admin.patch(`${base}/${revoked.id}`, patch(revoked.id, { expiry: FUTURE }));
      expect((await api(t, licenseAuth(revoked.key)).get(`${base}/${revoked.id}`)).status).toBe(200);
    });

    it('attaches, lists and detaches entitlements', async () => {
      const l = await createLicense(t, account, product.id);
      const [e1, e2, e3] = [await createEntitlement(t, account), await createEntitlement(t, account), await createEntitlement(t, account)];
      const url = `${base}/${l.id}/entitlements`;

      const attached = await admin.post(url, linkage(e1.id, e2.id));
      expect(attached.status).toBe(200);
      expect(ids(attached.body).sort()).toEqual([e1.id, e2.id].sort());
      expect(attached.body.data[0].type).toBe('entitlements');

      const list = await admin.get(`${url}?sort=created`);
      expect(list.status).toBe(200);
      expect(ids(list.body)).toEqual([e1.id, e2.id]);
      expect(list.body.meta.count).toBe(2);

      const taken = await admin.post(url, linkage(e3.id, e1.id));
      expect(taken.status).toBe(422);
      expect(taken.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_TAKEN', source: { pointer: '/data/1/id' } });
      const twice = await admin.post(url, linkage(e3.id, e3.id));
      expect(twice.status).toBe(422);
      expect(twice.body.errors[0].code).toBe('ENTITLEMENT_TAKEN');

      const foreign = await createEntitlement(t, other);
      for (const id of [UNKNOWN_ID, foreign.id, 'not-a-uuid']) {
        const res = await admin.post(url, linkage(e3.id, id));
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_NOT_FOUND', source: { pointer: '/data/1/id' } });
      }
      // none of the refused requests attached e3
      expect(ids((await admin.get(url)).body)).not.toContain(e3.id);

      expect((await admin.post(url, { data: [{ type: 'products', id: e3.id }] })).status).toBe(409);
      expect((await admin.post(url, { data: { type: 'entitlements', id: e3.id } })).status).toBe(400);
      expect((await admin.post(url, { data: [] })).status).toBe(400);

      const detached = await admin.delete(url).set('Content-Type', 'application/vnd.api+json').send(linkage(e1.id));
      expect(detached.status).toBe(204);
      expect(ids((await admin.get(url)).body)).toEqual([e2.id]);

      const notAttached = await admin.delete(url).set('Content-Type', 'application/vnd.api+json').send(linkage(e2.id, e1.id));
      expect(notAttached.status).toBe(422);
      expect(notAttached.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_NOT_FOUND', source: { pointer: '/data/1/id' } });
      expect(ids((await admin.get(url)).body)).toEqual([e2.id]);
    });

    it('lists with filters, pagination, sort and sparse fieldsets', async () => {
      const acct = await createAccount(t);
      const a = api(t, bearer(acct.adminToken));
      const url = `/v1/accounts/${acct.id}/licenses`;
      const p1 = await createProduct(t, acct);
      const p2 = await createProduct(t, acct);
      const user = await createUser(t, acct);
      const l1 = await createLicense(t, acct, p1.id, { attrs: { name: 'b' }, userId: user.id });
      const l2 = await createLicense(t, acct, p1.id, { attrs: { name: 'a' } });
      const l3 = await createLicense(t, acct, p2.id, { attrs: { name: 'c' }, userId: user.id });

      expect(ids((await a.get(`${url}?product=${p1.id}&sort=created`)).body)).toEqual([l1.id, l2.id]);
      expect(ids((await a.get(`${url}?user=${user.id}&sort=created`)).body)).toEqual([l1.id, l3.id]);
      expect(ids((await a.get(`${url}?user=${user.id}&product=${p2.id}`)).body)).toEqual([l3.id]);
      expect(ids((await a.get(`${url}?product=${UNKNOWN_ID}`)).body)).toEqual([]);
      expect(ids((await a.get(`${url}?sort=name`)).body)).toEqual([l2.id, l1.id, l3.id]);

      const page = await a.get(`${url}?page[size]=2&page[number]=2&sort=created`);
      expect(ids(page.body)).toEqual([l3.id]);
      expect(page.body.meta).toEqual({ count: 3, pages: 2 });
      const cursor = await a.get(`${url}?page[cursor]=${l1.id}&page[size]=1&sort=created`);
      expect(ids(cursor.body)).toEqual([l2.id]);
      expect(cursor.body.links.next).toContain(`page[cursor]=${l2.id}`);

      // a license without a name sorts first by name; cursor pages walk past it
      const l4 = await createLicense(t, acct, p2.id);
      const byName = await a.get(`${url}?sort=name&page[cursor]=&page[size]=2`);
      expect(ids(byName.body)).toEqual([l4.id, l2.id]);
      const byName2 = await a.get(`${url}?sort=name&page[cursor]=${l2.id}&page[size]=2`);
      expect(ids(byName2.body)).toEqual([l1.id, l3.id]);
      expect(byName2.body.links.next).toBeNull();
      await a.patch(`${url}/${l1.id}`, patch(l1.id, { expiry: FUTURE }));
      expect(ids((await a.get(`${url}?sort=-expiry&page[cursor]=&page[size]=10`)).body)[3]).toBe(l1.id);
      await a.delete(`${url}/${l4.id}`);

      const sparse = await a.get(`${url}?fields[licenses]=key,status`);
      expect(Object.keys(sparse.body.data[0].attributes)).toEqual(['key', 'status']);

      // product=abc is a product code (unknown: an empty list)
      expect((await a.get(`${url}?product=abc`)).body.meta.count).toBe(0);
      for (const q of [`product=${'x'.repeat(256)}`, 'user=123', 'sort=key', 'page[size]=1000', 'fields[licenses]=secret']) {
        const res = await a.get(`${url}?${q}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe('PARAMETER_INVALID');
      }
      expect((await a.get(`${url}?product=${'x'.repeat(256)}`)).body.errors[0].source).toEqual({ parameter: 'product' });
    });
  });

  describe('product token', () => {
    let own: TestProduct;
    let foreign: TestProduct;
    let pt: ReturnType<typeof api>;

    beforeAll(async () => {
      own = await createProduct(t, account);
      foreign = await createProduct(t, account);
      pt = api(t, bearer((await createProductToken(t, account, own.id)).token));
    });

    it('creates licenses of its own product only', async () => {
      const res = await pt.post(base, create({ name: 'by CI' }, productRel(own.id)));
      expect(res.status).toBe(201);
      expect(res.body.data.relationships.product.data.id).toBe(own.id);
      const refused = await pt.post(base, create({}, productRel(foreign.id)));
      expect(refused.status).toBe(422);
      expect(refused.body.errors[0].code).toBe('PRODUCT_NOT_FOUND');
    });

    it("sees, changes and deletes its product's licenses, not others'", async () => {
      const mine = await createLicense(t, account, own.id);
      const theirs = await createLicense(t, account, foreign.id, { attrs: { name: 'Theirs' } });
      const list = await pt.get(base);
      expect(ids(list.body)).toContain(mine.id);
      expect(ids(list.body)).not.toContain(theirs.id);
      expect(ids((await pt.get(`${base}?product=${foreign.id}`)).body)).toEqual([]);

      expect((await pt.get(`${base}/${mine.id}`)).status).toBe(200);
      expect((await pt.get(`${base}/${theirs.id}`)).status).toBe(404);
      const updated = await pt.patch(`${base}/${mine.id}`, patch(mine.id, { name: 'Renamed' }));
      expect(updated.status).toBe(200);
      expect(updated.body.data.attributes.name).toBe('Renamed');
      expect((await pt.patch(`${base}/${theirs.id}`, patch(theirs.id, { name: 'x' }))).status).toBe(404);
      expect((await pt.delete(`${base}/${theirs.id}`)).status).toBe(404);
      expect((await admin.get(`${base}/${theirs.id}`)).body.data.attributes.name).toBe('Theirs');
      expect((await pt.delete(`${base}/${mine.id}`)).status).toBe(204);
    });

    it("suspends, reinstates and manages entitlements of its product's licenses", async () => {
      const mine = await createLicense(t, account, own.id);
      const theirs = await createLicense(t, account, foreign.id);
      const e = await createEntitlement(t, account);
      expect((await pt.post(`${base}/${mine.id}/actions/suspend`)).body.data.attributes.status).toBe('SUSPENDED');
      expect((await pt.post(`${base}/${mine.id}/actions/reinstate`)).body.data.attributes.status).toBe('ACTIVE');
      expect((await pt.post(`${base}/${theirs.id}/actions/suspend`)).status).toBe(404);
      expect((await admin.get(`${base}/${theirs.id}`)).body.data.attributes.suspended).toBe(false);
      expect((await pt.post(`${base}/${mine.id}/entitlements`, linkage(e.id))).status).toBe(200);
      expect(ids((await pt.get(`${base}/${mine.id}/entitlements`)).body)).toEqual([e.id]);
      expect((await pt.post(`${base}/${theirs.id}/entitlements`, linkage(e.id))).status).toBe(404);
    });
  });

  describe('license key', () => {
    it('reads itself through every credential form', async () => {
      const l = await createLicense(t, account, product.id);
      const url = `${base}/${l.id}`;
      const header = await api(t, licenseAuth(l.key)).get(url);
      expect(header.status).toBe(200);
      expect(header.body.data.attributes.key).toBe(l.key);
      expect((await api(t).get(`${url}?key=${encodeURIComponent(l.key)}`)).status).toBe(200);
      expect((await api(t).get(`${url}?auth=${encodeURIComponent(`license:${l.key}`)}`)).status).toBe(200);
    });

    it('is refused when unknown or of another account (401 LICENSE_INVALID)', async () => {
      const l = await createLicense(t, account, product.id);
      const otherProduct = await createProduct(t, other);
      const foreign = await createLicense(t, other, otherProduct.id);
      for (const res of [
        await api(t, licenseAuth('NOPE-NOPE')).get(`${base}/${l.id}`),
        await api(t, licenseAuth(foreign.key)).get(`${base}/${l.id}`),
        await api(t, licenseAuth(foreign.key)).get(`${base}/${foreign.id}`),
        await api(t).get(`${base}/${l.id}?key=${foreign.key}`),
        await api(t).get(`${base}/${l.id}?auth=license:${foreign.key}`),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('LICENSE_INVALID');
      }
    });

    it('sees only itself and its entitlements, and changes nothing', async () => {
      const e = await createEntitlement(t, account);
      const l = await createLicense(t, account, product.id, { attrs: { name: 'Mine' }, entitlementIds: [e.id] });
      const sibling = await createLicense(t, account, product.id);
      const key = api(t, licenseAuth(l.key));
      expect((await key.get(`${base}/${sibling.id}`)).status).toBe(404);
      expect(ids((await key.get(base)).body)).toEqual([l.id]);
      expect(ids((await key.get(`${base}/${l.id}/entitlements`)).body)).toEqual([e.id]);
      expect((await key.get(`${base}/${sibling.id}/entitlements`)).status).toBe(404);

      expect((await key.patch(`${base}/${l.id}`, patch(l.id, { name: 'Hacked' }))).status).toBe(403);
      // permission comes before validation
      expect((await key.patch(`${base}/${l.id}`, patch(l.id, { status: 'ACTIVE', key: '' }))).status).toBe(403);
      expect((await key.post(`${base}/${l.id}/entitlements`, { data: 'x' })).status).toBe(403);
      expect((await key.post(base, { data: { type: 'licenses' } })).status).toBe(403);
      expect((await key.delete(`${base}/${l.id}`)).status).toBe(403);
      expect((await key.post(`${base}/${l.id}/actions/suspend`)).status).toBe(403);
      expect((await key.post(`${base}/${l.id}/entitlements`, linkage((await createEntitlement(t, account)).id))).status).toBe(403);
      expect((await key.post(base, create({}))).status).toBe(403);
      const after = await admin.get(`${base}/${l.id}`);
      expect(after.body.data.attributes).toMatchObject({ name: 'Mine', suspended: false });
    });
  });

  describe('user token', () => {
    it('reads the licenses it owns and nothing else; cannot write', async () => {
      const user = await createUser(t, account);
      const owned = await createLicense(t, account, product.id, { userId: user.id, attrs: { name: 'Owned' } });
      const notOwned = await createLicense(t, account, product.id);
      const u = api(t, bearer(user.token));
      expect((await u.get(`${base}/${owned.id}`)).status).toBe(200);
      expect((await u.get(`${base}/${notOwned.id}`)).status).toBe(404);
      expect(ids((await u.get(base)).body)).toEqual([owned.id]);
      expect(ids((await u.get(`${base}?user=${UNKNOWN_ID}`)).body)).toEqual([]);
      expect((await u.get(`${base}/${owned.id}/entitlements`)).status).toBe(200);

      expect((await u.post(base, create({}))).status).toBe(403);
      expect((await u.post(base, create({}, {}))).status).toBe(403);
      expect((await u.delete(`${base}/${owned.id}/entitlements`).set('Content-Type', 'application/vnd.api+json').send({ data: [] })).status).toBe(403);
      expect((await u.patch(`${base}/${owned.id}`, patch(owned.id, { name: 'x' }))).status).toBe(403);
      expect((await u.delete(`${base}/${owned.id}`)).status).toBe(403);
      expect((await u.post(`${base}/${owned.id}/actions/suspend`)).status).toBe(403);
      expect((await u.post(`${base}/${owned.id}/actions/reinstate`)).status).toBe(403);
      expect((await u.patch(`${base}/${notOwned.id}`, patch(notOwned.id, { name: 'x' }))).status).toBe(404);
      expect((await admin.get(`${base}/${owned.id}`)).body.data.attributes).toMatchObject({ name: 'Owned', suspended: false });
    });

    it("follows its own licenses link (GET /users/:id/licenses), not another user's", async () => {
      const user = await createUser(t, account);
      const someone = await createUser(t, account);
      const owned = await createLicense(t, account, product.id, { userId: user.id });
      await createLicense(t, account, product.id, { userId: someone.id });
      const u = api(t, bearer(user.token));
      const self = await u.get(`/v1/accounts/${account.id}/users/${user.id}`);
      const link = self.body.data.relationships.licenses.links.related;
      const res = await u.get(link);
      expect(res.status).toBe(200);
      expect(ids(res.body)).toEqual([owned.id]);
      expect((await u.get(`/v1/accounts/${account.id}/users/${someone.id}/licenses`)).status).toBe(404);
      // the admin sees any user's licenses; an unknown user is 404
      expect(ids((await admin.get(`/v1/accounts/${account.id}/users/${someone.id}/licenses`)).body)).toHaveLength(1);
      expect((await admin.get(`/v1/accounts/${account.id}/users/${UNKNOWN_ID}/licenses`)).status).toBe(404);
      expect((await admin.get(`/v1/accounts/${account.id}/users/nope/licenses`)).status).toBe(404);
    });
  });

  describe('anonymous', () => {
    it('is asked for credentials (401 TOKEN_MISSING) and changes nothing', async () => {
      const l = await createLicense(t, account, product.id);
      const anon = api(t);
      for (const res of [
        await anon.get(base),
        await anon.get(`${base}/${l.id}`),
        await anon.post(base, create({})),
        await anon.patch(`${base}/${l.id}`, patch(l.id, { name: 'x' })),
        await anon.delete(`${base}/${l.id}`),
        await anon.post(`${base}/${l.id}/actions/suspend`),
        await anon.get(`${base}/${l.id}/entitlements`),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
      }
      expect((await admin.get(`${base}/${l.id}`)).body.data.attributes.suspended).toBe(false);
    });
  });

  describe("other account's admin", () => {
    it('cannot use its token here (401) nor reach this account\'s licenses through its own (404)', async () => {
      const l = await createLicense(t, account, product.id, { attrs: { name: 'Ours' } });
      expect((await api(t, bearer(other.adminToken)).get(`${base}/${l.id}`)).status).toBe(401);
      const o = api(t, bearer(other.adminToken));
      const otherBase = `/v1/accounts/${other.id}/licenses`;
      expect((await o.get(`${otherBase}/${l.id}`)).status).toBe(404);
      expect((await o.patch(`${otherBase}/${l.id}`, patch(l.id, { name: 'Theirs' }))).status).toBe(404);
      expect((await o.delete(`${otherBase}/${l.id}`)).status).toBe(404);
      expect((await o.post(`${otherBase}/${l.id}/actions/suspend`)).status).toBe(404);
      expect(ids((await o.get(otherBase)).body)).not.toContain(l.id);
      // a license of this account's product cannot be created in the other account
      const res = await o.post(otherBase, create({}, productRel(product.id)));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('PRODUCT_NOT_FOUND');
      expect((await admin.get(`${base}/${l.id}`)).body.data.attributes).toMatchObject({ name: 'Ours', suspended: false });
    });
  });
});
