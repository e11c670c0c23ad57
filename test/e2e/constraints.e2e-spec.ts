import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, createProductToken, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createRelease, publishRelease } from '../support/release.factories';

const attachDoc = (...entitlementIds: string[]) => ({
  data: entitlementIds.map((id) => ({ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id } } } })),
});
const detachDoc = (...ids: string[]) => ({ data: ids.map((id) => ({ type: 'constraints', id })) });

describe('release constraints', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let admin: ReturnType<typeof api>;
  let base: string;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    admin = api(t, bearer(account.adminToken));
    base = `/v1/accounts/${account.id}/releases`;
  });
  afterAll(() => t.close());

  async function constraintCount(releaseId: string): Promise<number> {
    return (await admin.get(`${base}/${releaseId}/constraints`)).body.meta.count;
  }

  describe('as an admin', () => {
    it('attaches (200 with the new constraints), lists with include=entitlement, reads one, detaches (204)', async () => {
      const r = await createRelease(t, account, product.id);
      const e1 = await createEntitlement(t, account);
      const e2 = await createEntitlement(t, account);
      const attach = await admin.post(`${base}/${r.id}/constraints`, attachDoc(e1.id, e2.id));
      expect(attach.status).toBe(200);
      expect(attach.body.data).toHaveLength(2);
      const c = attach.body.data[0];
      expect(c.type).toBe('constraints');
      expect(Object.keys(c.attributes).sort()).toEqual(['created', 'updated']);
      expect(c.relationships.release.data).toEqual({ type: 'releases', id: r.id });
      expect(attach.body.data.map((x: { relationships: { entitlement: { data: { id: string } } } }) => x.relationships.entitlement.data.id).sort()).toEqual([e1.id, e2.id].sort());
      expect(c.links.self).toBe(`${base}/${r.id}/constraints/${c.id}`);

      const list = await admin.get(`${base}/${r.id}/constraints?include=entitlement`);
      expect(list.status).toBe(200);
      expect(list.body.meta.count).toBe(2);
      expect(list.body.included.map((i: { id: string }) => i.id).sort()).toEqual([e1.id, e2.id].sort());
      expect(list.body.included[0].type).toBe('entitlements');

      const one = await admin.get(`${base}/${r.id}/constraints/${c.id}`);
      expect(one.status).toBe(200);
      expect(one.body.data.id).toBe(c.id);
      expect((await admin.get(`${base}/${r.id}/constraints/not-a-uuid`)).status).toBe(404);

      const withRelease = await admin.get(`${base}/${r.id}?include=constraints.entitlement`);
      expect(withRelease.body.data.relationships.constraints.data).toHaveLength(2);
      expect(withRelease.body.included.filter((i: { type: string }) => i.type === 'entitlements')).toHaveLength(2);

      const detach = await admin.delete(`${base}/${r.id}/constraints`).send(detachDoc(c.id));
      expect(detach.status).toBe(204);
      expect(await constraintCount(r.id)).toBe(1);
      expect((await admin.get(`${base}/${r.id}/constraints/${c.id}`)).status).toBe(404);
    });

    it('refuses a duplicate with 422 ENTITLEMENT_TAKEN and attaches nothing of that request', async () => {
      const r = await createRelease(t, account, product.id);
      const e1 = await createEntitlement(t, account);
      const e2 = await createEntitlement(t, account);
      expect((await admin.post(`${base}/${r.id}/constraints`, attachDoc(e1.id))).status).toBe(200);
      const again = await admin.post(`${base}/${r.id}/constraints`, attachDoc(e2.id, e1.id));
      expect(again.status).toBe(422);
      expect(again.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_TAKEN', source: { pointer: '/data/1/relationships/entitlement' } });
      const twice = await admin.post(`${base}/${r.id}/constraints`, attachDoc(e2.id, e2.id));
      expect(twice.status).toBe(422);
      expect(twice.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_TAKEN', source: { pointer: '/data/1/relationships/entitlement' } });
      expect(await constraintCount(r.id)).toBe(1);
    });

    it('survives concurrent identical attaches: one 200, the others 422 ENTITLEMENT_TAKEN', async () => {
      const r = await createRelease(t, account, product.id);
      const e = await createEntitlement(t, account);
      const results = await Promise.all(Array.from({ length: 4 }, () => admin.post(`${base}/${r.id}/constraints`, attachDoc(e.id))));
      expect(results.map((x) => x.status).sort()).toEqual([200, 422, 422, 422]);
      expect(await constraintCount(r.id)).toBe(1);
    });

    it('answers unknown entitlements (even of another account) with 422 ENTITLEMENT_NOT_FOUND', async () => {
      const r = await createRelease(t, account, product.id);
      const e = await createEntitlement(t, account);
      const other = await createAccount(t);
      const foreign = await createEntitlement(t, other);
      for (const id of ['00000000-0000-4000-8000-000000000000', foreign.id, 'not-a-uuid']) {
        const res = await admin.post(`${base}/${r.id}/constraints`, attachDoc(e.id, id));
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ code: 'ENTITLEMENT_NOT_FOUND', source: { pointer: '/data/1/relationships/entitlement' } });
      }
      expect(await constraintCount(r.id)).toBe(0);
    });

    it.each([
      ['a single resource', { data: { type: 'constraints' } }, 400, 'DOCUMENT_INVALID', { pointer: '/data' }],
      ['an empty list', { data: [] }, 400, 'DOCUMENT_INVALID', { pointer: '/data' }],
      ['no data', {}, 400, 'DOCUMENT_INVALID', { pointer: '' }],
      ['a wrong type', { data: [{ type: 'entitlements', id: '00000000-0000-4000-8000-000000000000' }] }, 409, 'TYPE_MISMATCH', { pointer: '/data/0/type' }],
      ['no entitlement', { data: [{ type: 'constraints', relationships: {} }] }, 422, 'ENTITLEMENT_MISSING', { pointer: '/data/0/relationships/entitlement' }],
      ['a null entitlement', { data: [{ type: 'constraints', relationships: { entitlement: { data: null } } }] }, 422, 'ENTITLEMENT_MISSING', { pointer: '/data/0/relationships/entitlement' }],
      ['a wrong linkage type', { data: [{ type: 'constraints', relationships: { entitlement: { data: { type: 'products', id: '00000000-0000-4000-8000-000000000000' } } } }] }, 409, 'TYPE_MISMATCH', { pointer: '/data/0/relationships/entitlement/data/type' }],
      ['an attribute', { data: [{ type: 'constraints', attributes: { created: 'x' } }] }, 400, 'PARAMETER_UNPERMITTED', { pointer: '/data/0/attributes/created' }],
      ['another relationship', { data: [{ type: 'constraints', relationships: { release: { data: null } } }] }, 400, 'PARAMETER_UNPERMITTED', { pointer: '/data/0/relationships/release' }],
    ])('refuses an attach body with %s', async (_what, body, status, code, source) => {
      const r = await createRelease(t, account, product.id);
      const res = await admin.post(`${base}/${r.id}/constraints`, body);
      expect(res.status).toBe(status);
      expect(res.body.errors[0]).toMatchObject({ code, source });
    });

    it('refuses to detach what is not a constraint of this release (422) and removes nothing', async () => {
      const r = await createRelease(t, account, product.id);
      const r2 = await createRelease(t, account, product.id);
      const e = await createEntitlement(t, account);
      const [mine] = (await admin.post(`${base}/${r.id}/constraints`, attachDoc(e.id))).body.data;
      const [theirs] = (await admin.post(`${base}/${r2.id}/constraints`, attachDoc(e.id))).body.data;
      const res = await admin.delete(`${base}/${r.id}/constraints`).send(detachDoc(mine.id, theirs.id));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'CONSTRAINT_NOT_FOUND', source: { pointer: '/data/1/id' } });
      expect(await constraintCount(r.id)).toBe(1);
      expect(await constraintCount(r2.id)).toBe(1);
      const noId = await admin.delete(`${base}/${r.id}/constraints`).send({ data: [{ type: 'constraints' }] });
      expect(noId.status).toBe(400);
      expect(noId.body.errors[0]).toMatchObject({ code: 'DOCUMENT_INVALID', source: { pointer: '/data/0/id' } });
    });

    it('is 404 for an unknown release', async () => {
      const e = await createEntitlement(t, account);
      expect((await admin.get(`${base}/00000000-0000-4000-8000-000000000000/constraints`)).status).toBe(404);
      expect((await admin.post(`${base}/not-a-uuid/constraints`, attachDoc(e.id))).status).toBe(404);
    });

    it('goes away with its release', async () => {
      const r = await createRelease(t, account, product.id);
      const e = await createEntitlement(t, account);
      await admin.post(`${base}/${r.id}/constraints`, attachDoc(e.id));
      expect((await admin.delete(`${base}/${r.id}`)).status).toBe(204);
      expect((await admin.get(`${base}/${r.id}/constraints`)).status).toBe(404);
      // the entitlement itself stays
      expect((await admin.get(`/v1/accounts/${account.id}/entitlements/${e.id}`)).status).toBe(200);
    });
  });

  describe('as a product token', () => {
    it('manages the constraints of its product\'s releases only', async () => {
      const token = api(t, bearer((await createProductToken(t, account, product.id)).token));
      const other = await createProduct(t, account);
      const mine = await createRelease(t, account, product.id);
      const theirs = await createRelease(t, account, other.id);
      const e = await createEntitlement(t, account);
      const attach = await token.post(`${base}/${mine.id}/constraints`, attachDoc(e.id));
      expect(attach.status).toBe(200);
      expect((await token.get(`${base}/${mine.id}/constraints`)).body.meta.count).toBe(1);
      expect((await token.delete(`${base}/${mine.id}/constraints`).send(detachDoc(attach.body.data[0].id))).status).toBe(204);
      expect((await token.post(`${base}/${theirs.id}/constraints`, attachDoc(e.id))).status).toBe(404);
      expect((await token.get(`${base}/${theirs.id}/constraints`)).status).toBe(404);
      expect(await constraintCount(theirs.id)).toBe(0);
    });
  });

  describe('as a license key', () => {
    it('reads the constraints of releases it sees, may not change them (403), and never sees others (404)', async () => {
      const e = await createEntitlement(t, account);
      const license = await createLicense(t, account, product.id, { entitlementIds: [e.id] });
      const client = api(t, licenseAuth(license.key));
      const visible = await createRelease(t, account, product.id);
      await publishRelease(t, account, visible.id);
      const [c] = (await admin.post(`${base}/${visible.id}/constraints`, attachDoc(e.id))).body.data;
      const hidden = await createRelease(t, account, product.id);

      const list = await client.get(`${base}/${visible.id}/constraints?include=entitlement`);
      expect(list.status).toBe(200);
      expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([c.id]);
      expect(list.body.included[0].id).toBe(e.id);

      const e2 = await createEntitlement(t, account);
      expect((await client.post(`${base}/${visible.id}/constraints`, attachDoc(e2.id))).status).toBe(403);
      expect((await client.delete(`${base}/${visible.id}/constraints`).send(detachDoc(c.id))).status).toBe(403);
      expect(await constraintCount(visible.id)).toBe(1);
      expect((await client.get(`${base}/${hidden.id}/constraints`)).status).toBe(404);
      expect((await client.post(`${base}/${hidden.id}/constraints`, attachDoc(e2.id))).status).toBe(404);
    });
  });

  describe('as a user token', () => {
    it('may not attach constraints (403 on a release it sees)', async () => {
      const user = await createUser(t, account);
      await createLicense(t, account, product.id, { userId: user.id });
      const r = await createRelease(t, account, product.id);
      await publishRelease(t, account, r.id);
      const e = await createEntitlement(t, account);
      const res = await api(t, bearer(user.token)).post(`${base}/${r.id}/constraints`, attachDoc(e.id));
      expect(res.status).toBe(403);
      expect(await constraintCount(r.id)).toBe(0);
    });
  });

  describe('anonymously', () => {
    it('needs credentials to write (401); reads nothing of a LICENSED product (404)', async () => {
      const r = await createRelease(t, account, product.id);
      await publishRelease(t, account, r.id);
      const e = await createEntitlement(t, account);
      const res = await api(t).post(`${base}/${r.id}/constraints`, attachDoc(e.id));
      expect(res.status).toBe(401);
      expect((await api(t).delete(`${base}/${r.id}/constraints`).send(detachDoc('00000000-0000-4000-8000-000000000000'))).status).toBe(401);
      expect((await api(t).get(`${base}/${r.id}/constraints`)).status).toBe(404);
    });
  });

  describe('from another account', () => {
    it('reaches no constraint of this account', async () => {
      const other = await createAccount(t);
      const r = await createRelease(t, account, product.id);
      const e = await createEntitlement(t, other);
      const foreign = api(t, bearer(other.adminToken));
      expect((await foreign.post(`${base}/${r.id}/constraints`, attachDoc(e.id))).status).toBe(401);
      expect((await foreign.post(`/v1/accounts/${other.id}/releases/${r.id}/constraints`, attachDoc(e.id))).status).toBe(404);
      expect((await foreign.get(`/v1/accounts/${other.id}/releases/${r.id}/constraints`)).status).toBe(404);
      expect(await constraintCount(r.id)).toBe(0);
    });
  });
});
