import { startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createEntitlement, createLicense, createProduct, createProductToken, licenseAuth } from '../support/catalogue.factories';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('entitlements', () => {
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
    base = `/v1/accounts/${account.id}/entitlements`;
  });
  afterAll(() => t.close());

  const body = (attributes: Record<string, unknown>) => ({ data: { type: 'entitlements', attributes } });
  const patchBody = (id: string, attributes: Record<string, unknown>) => ({ data: { type: 'entitlements', id, attributes } });

  describe('admin', () => {
    it('creates an entitlement: 201, Location, attributes', async () => {
      const res = await admin.post(base, body({ name: 'Pro features', code: 'PRO', metadata: { tier: 2 } }));
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`${base}/${res.body.data.id}`);
      expect(res.body.data.type).toBe('entitlements');
      expect(res.body.data.attributes).toEqual({
        name: 'Pro features',
        code: 'PRO',
        metadata: { tier: 2 },
        created: expect.any(String),
        updated: expect.any(String),
      });
      expect(res.body.data.relationships.account.data).toEqual({ type: 'accounts', id: account.id });
    });

    it.each([
      [{ code: 'A' }, 'NAME_MISSING', '/data/attributes/name'],
      [{ name: 'A' }, 'CODE_MISSING', '/data/attributes/code'],
      [{ name: 'A', code: '' }, 'CODE_INVALID', '/data/attributes/code'],
      [{ name: 'A', code: 7 }, 'CODE_INVALID', '/data/attributes/code'],
      [{ name: 'A', code: 'x'.repeat(256) }, 'CODE_INVALID', '/data/attributes/code'],
      [{ name: 'A', code: 'B', metadata: ['x'] }, 'METADATA_INVALID', '/data/attributes/metadata'],
      [{ name: 'A', code: 'B', metadata: { a: { b: { c: { d: { e: 1 } } } } } }, 'METADATA_INVALID', '/data/attributes/metadata'],
    ])('refuses %j with 422 %s', async (attributes, code, pointer) => {
      const res = await admin.post(base, body(attributes));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ status: '422', code, source: { pointer } });
    });

    it('accepts metadata of 4 nested objects', async () => {
      const res = await admin.post(base, body({ name: 'Deep', code: 'DEEP_OK', metadata: { a: { b: { c: { d: 1 } } } } }));
      expect(res.status).toBe(201);
    });

    it('refuses unknown attributes with 400 PARAMETER_UNPERMITTED', async () => {
      const res = await admin.post(base, body({ name: 'A', code: 'UNK', level: 3 }));
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_UNPERMITTED', source: { pointer: '/data/attributes/level' } });
    });

    it('refuses a code taken in any letter case (422 CODE_TAKEN), on create and update', async () => {
      await createEntitlement(t, account, { code: 'Feature-X' });
      for (const code of ['Feature-X', 'feature-x', 'FEATURE-X']) {
        const res = await admin.post(base, body({ name: 'Dup', code }));
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ code: 'CODE_TAKEN', source: { pointer: '/data/attributes/code' } });
      }
      const e = await createEntitlement(t, account, { code: 'feature-y' });
      const patch = await admin.patch(`${base}/${e.id}`, patchBody(e.id, { code: 'FEATURE-x' }));
      expect(patch.status).toBe(422);
      expect(patch.body.errors[0].code).toBe('CODE_TAKEN');
      expect((await admin.get(`${base}/${e.id}`)).body.data.attributes.code).toBe('feature-y');
      // its own code in another case is fine
      const recase = await admin.patch(`${base}/${e.id}`, patchBody(e.id, { code: 'FEATURE-Y' }));
      expect(recase.status).toBe(200);
      expect(recase.body.data.attributes.code).toBe('FEATURE-Y');
    });

    it('allows the same code in another account', async () => {
      await createEntitlement(t, account, { code: 'SHARED' });
      await expect(createEntitlement(t, other, { code: 'shared' })).resolves.toMatchObject({ code: 'shared' });
    });

    it('shows, updates and deletes (204, then 404)', async () => {
      const e = await createEntitlement(t, account, { name: 'Old' });
      expect((await admin.get(`${base}/${e.id}`)).body.data.attributes.name).toBe('Old');
      const res = await admin.patch(`${base}/${e.id}`, patchBody(e.id, { name: 'New', metadata: { x: 1 } }));
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ name: 'New', code: e.code, metadata: { x: 1 } });
      const nulled = await admin.patch(`${base}/${e.id}`, patchBody(e.id, { code: null }));
      expect(nulled.status).toBe(422);
      expect(nulled.body.errors[0].code).toBe('CODE_INVALID');
      expect((await admin.delete(`${base}/${e.id}`)).status).toBe(204);
      expect((await admin.get(`${base}/${e.id}`)).status).toBe(404);
    });

    it('detaches a deleted entitlement from licenses', async () => {
      const e = await createEntitlement(t, account);
      const p = await createProduct(t, account);
      const l = await createLicense(t, account, p.id, { entitlementIds: [e.id] });
      expect((await admin.delete(`${base}/${e.id}`)).status).toBe(204);
      const held = await admin.get(`/v1/accounts/${account.id}/licenses/${l.id}/entitlements`);
      expect(held.body.data).toEqual([]);
    });

    it('answers 404 for unknown and malformed ids', async () => {
      for (const id of [UNKNOWN_ID, 'nope']) {
        expect((await admin.get(`${base}/${id}`)).status).toBe(404);
        expect((await admin.patch(`${base}/${id}`, body({ name: 'x' }))).status).toBe(404);
        expect((await admin.delete(`${base}/${id}`)).status).toBe(404);
      }
    });

    it('lists with pagination, sort and sparse fieldsets', async () => {
      const acct = await createAccount(t);
      const a = api(t, bearer(acct.adminToken));
      const url = `/v1/accounts/${acct.id}/entitlements`;
      for (const name of ['Zeta', 'Alpha', 'Mu']) await createEntitlement(t, acct, { name });
      const page = await a.get(`${url}?page[size]=2`);
      expect(page.body.data).toHaveLength(2);
      expect(page.body.meta).toEqual({ count: 3, pages: 2 });
      const byName = await a.get(`${url}?sort=name`);
      expect(byName.body.data.map((e: { attributes: { name: string } }) => e.attributes.name)).toEqual(['Alpha', 'Mu', 'Zeta']);
      const cursor = await a.get(`${url}?page[cursor]=&limit=2&sort=-created`);
      expect(cursor.body.data.map((e: { attributes: { name: string } }) => e.attributes.name)).toEqual(['Mu', 'Alpha']);
      const byCode = await a.get(`${url}?sort=code&page[cursor]=&page[size]=10`);
      expect(byCode.status).toBe(200);
      expect(byCode.body.data).toHaveLength(3);
      const sparse = await a.get(`${url}?fields[entitlements]=code`);
      expect(Object.keys(sparse.body.data[0].attributes)).toEqual(['code']);
      expect((await a.get(`${url}?sort=level`)).status).toBe(400);
    });
  });

  describe('product token', () => {
    it('may neither read nor write entitlements', async () => {
      const p = await createProduct(t, account);
      const e = await createEntitlement(t, account, { name: 'Kept' });
      const pt = api(t, bearer((await createProductToken(t, account, p.id)).token));
      expect((await pt.get(base)).status).toBe(403);
      expect((await pt.get(`${base}/${e.id}`)).status).toBe(404);
      expect((await pt.post(base, body({ name: 'x', code: 'PT' }))).status).toBe(403);
      expect((await pt.patch(`${base}/${e.id}`, patchBody(e.id, { name: 'x' }))).status).toBe(404);
      expect((await pt.delete(`${base}/${e.id}`)).status).toBe(404);
      expect((await admin.get(`${base}/${e.id}`)).body.data.attributes.name).toBe('Kept');
    });
  });

  describe('license key', () => {
    it('may neither read nor write entitlements (it sees its own through /licenses/:id/entitlements)', async () => {
      const p = await createProduct(t, account);
      const e = await createEntitlement(t, account);
      const l = await createLicense(t, account, p.id, { entitlementIds: [e.id] });
      const lk = api(t, licenseAuth(l.key));
      expect((await lk.get(base)).status).toBe(403);
      expect((await lk.get(`${base}/${e.id}`)).status).toBe(404);
      expect((await lk.post(base, body({ name: 'x', code: 'LK' }))).status).toBe(403);
      expect((await lk.delete(`${base}/${e.id}`)).status).toBe(404);
      const own = await lk.get(`/v1/accounts/${account.id}/licenses/${l.id}/entitlements`);
      expect(own.status).toBe(200);
      expect(own.body.data.map((x: { id: string }) => x.id)).toEqual([e.id]);
    });
  });

  describe('user token', () => {
    it('may neither read nor write entitlements', async () => {
      const user = await createUser(t, account);
      const e = await createEntitlement(t, account);
      const u = api(t, bearer(user.token));
      expect((await u.get(base)).status).toBe(403);
      expect((await u.get(`${base}/${e.id}`)).status).toBe(404);
      expect((await u.post(base, body({ name: 'x', code: 'USR' }))).status).toBe(403);
      expect((await u.post(base, body({}))).status).toBe(403);
      expect((await u.post(base, { nonsense: true })).status).toBe(403);
      expect((await u.delete(`${base}/${e.id}`)).status).toBe(404);
      expect((await admin.get(`${base}/${e.id}`)).status).toBe(200);
    });
  });

  describe('anonymous', () => {
    it('is asked for credentials (401 TOKEN_MISSING)', async () => {
      const e = await createEntitlement(t, account);
      const anon = api(t);
      for (const res of [
        await anon.get(base),
        await anon.get(`${base}/${e.id}`),
        await anon.post(base, body({ name: 'x', code: 'ANON' })),
        await anon.patch(`${base}/${e.id}`, patchBody(e.id, { name: 'x' })),
        await anon.delete(`${base}/${e.id}`),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
      }
      expect((await admin.get(`${base}/${e.id}`)).status).toBe(200);
    });
  });

  describe("other account's admin", () => {
    it('cannot reach this account (401 with its token here, 404 through its own account)', async () => {
      const e = await createEntitlement(t, account, { name: 'Ours' });
      expect((await api(t, bearer(other.adminToken)).get(base)).status).toBe(401);
      const o = api(t, bearer(other.adminToken));
      const otherBase = `/v1/accounts/${other.id}/entitlements`;
      expect((await o.get(`${otherBase}/${e.id}`)).status).toBe(404);
      expect((await o.patch(`${otherBase}/${e.id}`, patchBody(e.id, { name: 'Theirs' }))).status).toBe(404);
      expect((await o.delete(`${otherBase}/${e.id}`)).status).toBe(404);
      expect((await admin.get(`${base}/${e.id}`)).body.data.attributes.name).toBe('Ours');
    });
  });
});
