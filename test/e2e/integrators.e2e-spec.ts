import * as http from 'node:http';
import Kitsu from 'kitsu';
import { startApp, ROOT_TOKEN, TestApp } from '../support/app';
import { artifactPath, onTestServer, randomFile, sha256, storedFiles, uploadArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, createProductToken, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';

/** Keygen's clients, package managers and apps talking to Shipgate (issue: integrators). */

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A PUT the way electron-builder's Keygen publisher sends it to `links.redirect`: the bytes and Content-Length, nothing else. */
function plainPut(url: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(u, { method: 'PUT', headers: { 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function createRelease(t: TestApp, account: TestAccount, productId: string, attrs: Record<string, unknown>) {
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases`, {
    data: {
      type: 'releases',
      attributes: { channel: 'stable', platform: 'linux/amd64', filetype: 'tar.gz', ...attrs },
      relationships: { product: { data: { type: 'products', id: productId } } },
    },
  });
  if (res.status !== 201) throw new Error(`release creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; attributes: Record<string, unknown> };
}

describe('integrators', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  const admin = () => api(t, bearer(account.adminToken));

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account, { code: 'acme-app', distributionStrategy: 'LICENSED' });
  });
  afterAll(() => t.close());

  describe('safe uploads', () => {
    it.each([
      ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.tar.gz"\r\n\r\nbytes\r\n--xyz--\r\n'],
      ['application/x-www-form-urlencoded', 'file=bytes'],
    ])('refuses a %s body with 415, storing and publishing nothing', async (type, body) => {
      const n = type.startsWith('multipart') ? 1 : 2;
      const release = await createRelease(t, account, product.id, { version: `0.0.${n}`, filename: `form-${n}.tar.gz` });
      const res = await t.http.put(artifactPath(account, release.id)).set('Authorization', bearer(account.adminToken)).set('Content-Type', type).send(body);
      expect(res.status).toBe(415);
      expect(res.body.errors[0]).toMatchObject({ code: 'MEDIA_TYPE_UNSUPPORTED', source: { header: 'Content-Type' } });
      expect(res.body.errors[0].detail).toContain('curl -T');
      expect(res.body.errors[0].detail).toContain('--data-binary @');
      const after = await admin().get(`/v1/accounts/${account.id}/releases/${release.id}?include=artifact`);
      expect(after.body.data.attributes.status).toBe('NOT_PUBLISHED');
      expect(after.body.included ?? []).toEqual([]);
      expect(storedFiles(t).filter((f) => !f.startsWith('.tmp'))).toEqual([]);
    });

    it('answers a wrong method on a known path with 405 and Allow', async () => {
      const release = await createRelease(t, account, product.id, { version: '0.0.99', filename: 'method.tar.gz' });
      const res = await admin().patch(artifactPath(account, release.id), {});
      expect(res.status).toBe(405);
      expect(res.headers.allow.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
      expect(res.body.errors[0].code).toBe('METHOD_NOT_ALLOWED');
    });

    it('answers POST of the file (any body, any media type) with 405 and Allow, not 415, storing nothing', async () => {
      const release = await createRelease(t, account, product.id, { version: '0.0.98', filename: 'post.tar.gz' });
      const bodies: Array<[string | undefined, string | Buffer | undefined]> = [
        ['application/octet-stream', randomFile(4096)],
        ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nbytes\r\n--xyz--\r\n'],
        ['application/vnd.api+json', JSON.stringify({ data: { type: 'artifacts', attributes: {} } })],
        [undefined, undefined],
      ];
      for (const [type, body] of bodies) {
        let req = t.http.post(artifactPath(account, release.id)).set('Authorization', bearer(account.adminToken));
        if (type) req = req.set('Content-Type', type);
        const res = await (body === undefined ? req : req.send(body));
        expect({ type, status: res.status, code: res.body.errors?.[0]?.code }).toEqual({ type, status: 405, code: 'METHOD_NOT_ALLOWED' });
        expect(res.headers.allow.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
      }
      // an Accept JSON:API cannot meet is second to the wrong method too
      const accept = await t.http.post(artifactPath(account, release.id)).set('Accept', 'application/octet-stream').set('Content-Type', 'application/octet-stream').send(randomFile(10));
      expect(accept.status).toBe(405);
      // the right method with the wrong type is still 415, an unknown path still 404
      const wrongType = await t.http.post(`/v1/accounts/${account.id}/releases`).set('Authorization', bearer(account.adminToken)).set('Content-Type', 'text/plain').send('x');
      expect(wrongType.status).toBe(415);
      expect((await t.http.post(`/v1/accounts/${account.id}/nothing-here`).set('Content-Type', 'application/vnd.api+json').send('{}')).status).toBe(404);
      const after = await admin().get(`/v1/accounts/${account.id}/releases/${release.id}?include=artifact`);
      expect(after.body.data.attributes.status).toBe('NOT_PUBLISHED');
      expect(after.body.included ?? []).toEqual([]);
    });
  });

  describe("electron-builder's Keygen publisher flow", () => {
    it('finds by version (404), creates, PUTs an empty body (307), PUTs the bytes to links.redirect, and the release is published', async () => {
      const token = (await createProductToken(t, account, product.id)).token;
      const as = api(t, bearer(token));
      const base = `/v1/accounts/${account.slug}/releases`;
      expect((await as.get(`${base}/3.0.0?product=acme-app`)).status).toBe(404);

      const created = await as.post(base, {
        data: {
          type: 'releases',
          attributes: { version: '3.0.0', channel: 'stable', platform: 'darwin', filename: 'App-3.0.0.dmg', filetype: 'dmg', filesize: 4096 },
          relationships: { product: { data: { type: 'products', id: product.id } } },
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.data.id;
      expect((await as.get(`${base}/3.0.0?product=acme-app`)).body.data.id).toBe(id);

      const empty = await t.http.put(`${base}/${id}/artifact`).set('Authorization', bearer(token)).set('Accept', 'application/vnd.api+json').set('Content-Length', '0').redirects(0);
      expect(empty.status).toBe(307);
      expect(empty.body.data.attributes).toMatchObject({ status: 'WAITING', filename: 'App-3.0.0.dmg', sha256: null });
      expect(empty.body.data.links.redirect).toBe(empty.headers.location);
      expect(empty.headers.location).toMatch(new RegExp(`/v1/accounts/${account.id}/artifacts/${empty.body.data.id}/App-3\\.0\\.0\\.dmg\\?expires=\\d+&signature=[0-9a-f]{64}$`));
      // nothing is visible until the bytes arrive
      expect((await as.get(`${base}/${id}`)).body.data.attributes.status).toBe('NOT_PUBLISHED');

      const bytes = randomFile(4096);
      const url = onTestServer(t, empty.body.data.links.redirect);
      // another signature, another size: refused, the URL still works afterwards
      expect((await plainPut(url.replace(/signature=[0-9a-f]{8}/, 'signature=00000000'), bytes)).status).toBe(403);
      expect((await plainPut(url, randomFile(10))).status).toBe(422);
      const uploaded = await plainPut(url, bytes);
      expect(uploaded.status).toBe(200);
      expect(JSON.parse(uploaded.body).data.attributes).toMatchObject({ status: 'UPLOADED', sha256: sha256(bytes) });
      const release = (await as.get(`${base}/3.0.0?product=${product.id}&platform=darwin`)).body.data;
      expect(release.attributes).toMatchObject({ status: 'PUBLISHED', checksum: sha256(bytes) });
      // the URL is spent
      expect((await plainPut(url, bytes)).status).toBe(404);
      // Prefer: no-redirect gives the same body with 200
      const again = await t.http.put(`${base}/${id}/artifact`).set('Authorization', bearer(token)).set('Prefer', 'no-redirect').set('Content-Length', '0').redirects(0);
      expect(again.status).toBe(200);
      expect(again.body.data.attributes.status).toBe('UPLOADED');
      expect(again.body.data.links.redirect).toMatch(/signature=/);
    });

    it('leaves the release as it was and the artifact FAILED when the upload never arrives', async () => {
      const short = await startApp({ UPLOAD_URL_TTL_SECONDS: '1' });
      try {
        const acct = await createAccount(short);
        const prod = await createProduct(short, acct);
        const release = await createRelease(short, acct, prod.id, { version: '1.0.0', filename: 'never.tar.gz' });
        const empty = await short.http.put(artifactPath(acct, release.id)).set('Authorization', bearer(acct.adminToken)).set('Content-Length', '0').redirects(0);
        expect(empty.status).toBe(307);
        const artifactOf = async () => (await api(short, bearer(acct.adminToken)).get(`/v1/accounts/${acct.id}/releases/${release.id}?include=artifact`)).body;
        const deadline = Date.now() + 20_000;
        let doc = await artifactOf();
        while (doc.included?.[0]?.attributes.status !== 'FAILED' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          doc = await artifactOf();
        }
        expect(doc.included[0].attributes.status).toBe('FAILED');
        expect(doc.data.attributes.status).toBe('NOT_PUBLISHED');
        expect((await plainPut(onTestServer(short, empty.headers.location), randomFile(10))).status).toBe(403);
      } finally {
        await short.close();
      }
    });
  });

  describe('Keygen lookups and credentials', () => {
    let licenseKey: string;
    let releaseId: string;
    let bytes: Buffer;

    beforeAll(async () => {
      licenseKey = (await createLicense(t, account, product.id)).key;
      const release = await createRelease(t, account, product.id, { version: '4.0.0', filename: 'app-4.0.0.tar.gz' });
      bytes = randomFile(1000);
      await uploadArtifact(t, account, release.id, bytes);
      releaseId = release.id;
    });

    it('answers the account-level artifact route by filename (?product= by code)', async () => {
      const res = await api(t, `License ${licenseKey}`).get(`/v1/accounts/${account.slug}/artifacts/app-4.0.0.tar.gz?product=acme-app`).redirects(0);
      expect(res.status).toBe(303);
      expect(res.body.data.links.redirect).toBe(res.headers.location);
      const file = await fetch(onTestServer(t, res.headers.location));
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
      expect((await api(t, `License ${licenseKey}`).get(`/v1/accounts/${account.slug}/artifacts/nope.tar.gz`)).status).toBe(404);
      expect((await api(t).get(`/v1/accounts/${account.slug}/artifacts/app-4.0.0.tar.gz`)).status).toBe(404);
    });

    it('takes HTTP Basic license:<key> and token:<token>, and ?auth=token:', async () => {
      const user = await createUser(t, account);
      const path = `/v1/accounts/${account.id}/releases/${releaseId}`;
      expect((await api(t, basic('license', licenseKey)).get(path)).status).toBe(200);
      expect((await api(t, basic('token', account.adminToken)).get(path)).status).toBe(200);
      expect((await api(t).get(`${path}?auth=token:${account.adminToken}`)).status).toBe(200);
      expect((await api(t, basic('license', 'not-a-key-at-all')).get(path)).body.errors[0].code).toBe('LICENSE_INVALID');
      expect((await api(t, basic('token', user.token)).get(`/v1/accounts/${account.id}/me`)).body.data.id).toBe(user.id);
    });

    it('tells a caller who sends a license key as a Bearer token how to send it', async () => {
      const res = await api(t, bearer(licenseKey)).get(`/v1/accounts/${account.id}/releases`);
      expect(res.status).toBe(401);
      expect(res.body.errors[0]).toMatchObject({ code: 'TOKEN_INVALID', source: { header: 'Authorization' } });
      expect(res.body.errors[0].detail).toContain('Authorization: License <key>');
      expect(res.body.errors[0].detail).not.toContain(licenseKey);
      const other = await api(t, bearer('not-a-license-either')).get(`/v1/accounts/${account.id}/releases`);
      expect(other.body.errors[0].detail).not.toContain('License <key>');
    });

    it('gives the page counts in links.meta, and takes a product code wherever a product id is a query parameter', async () => {
      const res = await admin().get(`/v1/accounts/${account.id}/releases?product=acme-app&page[size]=2`);
      expect(res.status).toBe(200);
      expect(res.body.links.meta).toEqual({ pages: res.body.meta.pages, count: res.body.meta.count });
      expect(res.body.meta.count).toBeGreaterThan(2);
      const byId = await admin().get(`/v1/accounts/${account.id}/releases?product=${product.id}&page[size]=2`);
      expect(byId.body.meta.count).toBe(res.body.meta.count);
      expect((await admin().get(`/v1/accounts/${account.id}/releases?product=unknown-code`)).body.meta.count).toBe(0);
      const upgrade = await api(t, `License ${licenseKey}`)
        .get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=acme-app&platform=linux/amd64&version=3.9.0`)
        .redirects(0);
      expect(upgrade.status).toBe(303);
      expect(upgrade.body.meta).toMatchObject({ current: '3.9.0', next: '4.0.0' });
      expect((await admin().get(`/v1/accounts/${account.id}/products/acme-app`)).body.data.id).toBe(product.id);
      expect((await admin().get(`/v1/accounts/${account.id}/licenses?product=acme-app`)).body.meta.count).toBeGreaterThan(0);
    });

    it("lets a JSON:API client (kitsu) read a release and send it back as a PATCH", async () => {
      const kitsu = new Kitsu({ baseURL: `${t.baseUrl}/v1/accounts/${account.id}`, headers: { Authorization: bearer(account.adminToken) } });
      const { data } = (await kitsu.get(`releases/${releaseId}`)) as { data: Record<string, unknown> };
      expect(data.version).toBe('4.0.0');
      const { data: patched } = (await kitsu.patch('releases', { ...data, name: 'Four', description: 'Notes' })) as { data: Record<string, unknown> };
      expect(patched).toMatchObject({ name: 'Four', description: 'Notes', version: '4.0.0' });
      // a read-only attribute that changed is still refused
      await expect(kitsu.patch('releases', { ...data, version: '4.0.1' })).rejects.toMatchObject({ response: { status: 400 } });
      // counters are the server's: ignored whatever their value (another instance may have counted more)
      const raw = await admin().patch(`/v1/accounts/${account.id}/releases/${releaseId}`, { data: { type: 'releases', id: releaseId, attributes: { downloads: 99 } } });
      expect(raw.status).toBe(200);
      expect(raw.body.data.attributes.downloads).not.toBe(99);
    });
  });

  describe('license self-service', () => {
    it('validates a key: VALID, NOT_FOUND, SUSPENDED, EXPIRED, PRODUCT_SCOPE_MISMATCH', async () => {
      const other = await createProduct(t, account, { code: 'other-app' });
      const valid = await createLicense(t, account, product.id);
      const suspended = await createLicense(t, account, product.id);
      await admin().post(`/v1/accounts/${account.id}/licenses/${suspended.id}/actions/suspend`);
      const expired = await createLicense(t, account, product.id, { attrs: { expiry: '2020-01-01T00:00:00Z' } });
      const validate = (key: string, scope?: Record<string, string>) =>
        api(t).post(`/v1/accounts/${account.slug}/licenses/actions/validate-key`, { meta: { key, ...(scope ? { scope } : {}) } });

      const ok = await validate(valid.key, { product: product.id });
      expect(ok.status).toBe(200);
      expect(ok.body.meta).toEqual({ valid: true, code: 'VALID', detail: expect.any(String) });
      expect(ok.body.data).toMatchObject({ type: 'licenses', id: valid.id });
      expect((await validate(valid.key, { product: 'acme-app' })).body.meta.code).toBe('VALID');
      expect((await validate(valid.key, { product: other.id })).body.meta).toMatchObject({ valid: false, code: 'PRODUCT_SCOPE_MISMATCH' });
      expect((await validate('no-such-key-123')).body).toEqual({ data: null, meta: { valid: false, code: 'NOT_FOUND', detail: expect.any(String) } });
      expect((await validate(suspended.key)).body.meta).toMatchObject({ valid: false, code: 'SUSPENDED' });
      expect((await validate(expired.key)).body.meta).toMatchObject({ valid: false, code: 'EXPIRED' });
      const missing = await api(t).post(`/v1/accounts/${account.slug}/licenses/actions/validate-key`, { meta: {} });
      expect(missing.status).toBe(422);
      expect(missing.body.errors[0]).toMatchObject({ code: 'KEY_MISSING', source: { pointer: '/meta/key' } });
    });

    it('counts unknown keys against the address like failed key checks', async () => {
      const limited = await startApp({ RATE_LIMIT_FAILED_AUTH_PER_15MIN: '2' });
      try {
        const acct = await createAccount(limited);
        const validate = () => api(limited).post(`/v1/accounts/${acct.slug}/licenses/actions/validate-key`, { meta: { key: 'guess-guess-guess' } });
        expect((await validate()).status).toBe(200);
        expect((await validate()).status).toBe(200);
        const third = await validate();
        expect(third.status).toBe(429);
        expect(third.body.errors[0].code).toBe('RATE_LIMITED');
      } finally {
        await limited.close();
      }
    });

    it('answers GET /me with the caller', async () => {
      const license = await createLicense(t, account, product.id);
      const token = (await createProductToken(t, account, product.id)).token;
      expect((await api(t, `License ${license.key}`).get(`/v1/accounts/${account.id}/me`)).body.data).toMatchObject({ type: 'licenses', id: license.id });
      expect((await admin().get(`/v1/accounts/${account.id}/me`)).body.data).toMatchObject({ type: 'users', id: account.adminId });
      expect((await api(t, bearer(token)).get(`/v1/accounts/${account.id}/me`)).body.data).toMatchObject({ type: 'products', id: product.id });
      expect((await api(t).get(`/v1/accounts/${account.id}/me`)).status).toBe(401);
    });

    it('finds a license by key (admins) and filters licenses by status, expiry, user and product', async () => {
      const user = await createUser(t, account);
      const owned = await createLicense(t, account, product.id, { userId: user.id, attrs: { expiry: '2099-06-01T00:00:00Z' } });
      expect((await admin().get(`/v1/accounts/${account.id}/licenses/${encodeURIComponent(owned.key)}`)).body.data.id).toBe(owned.id);
      expect((await api(t, bearer(user.token)).get(`/v1/accounts/${account.id}/licenses/${encodeURIComponent(owned.key)}`)).body.data.id).toBe(owned.id);
      const list = async (query: string) => ((await admin().get(`/v1/accounts/${account.id}/licenses?${query}&page[size]=100`)).body.data as Array<{ id: string; attributes: { status: string } }>);
      expect((await list(`user=${user.id}`)).map((l) => l.id)).toEqual([owned.id]);
      expect((await list('status=EXPIRED')).every((l) => l.attributes.status === 'EXPIRED')).toBe(true);
      expect((await list('status=EXPIRED')).length).toBeGreaterThan(0);
      expect((await list('status=SUSPENDED')).every((l) => l.attributes.status === 'SUSPENDED')).toBe(true);
      expect((await list('status=ACTIVE')).map((l) => l.id)).toContain(owned.id);
      expect((await list('expires[after]=2099-01-01T00:00:00Z&expires[before]=2099-12-31T00:00:00Z')).map((l) => l.id)).toEqual([owned.id]);
      expect((await list('product=other-app')).length).toBe(0);
      const bad = await admin().get(`/v1/accounts/${account.id}/licenses?status=GONE`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].source).toEqual({ parameter: 'status' });
      expect((await admin().get(`/v1/accounts/${account.id}/licenses?expires[before]=soon`)).body.errors[0].source).toEqual({ parameter: 'expires[before]' });
    });
  });

  describe('the operator (root token)', () => {
    it('lists, reads and deletes accounts; deleting removes the stored files', async () => {
      const doomed = await createAccount(t);
      const prod = await createProduct(t, doomed);
      const release = await createRelease(t, doomed, prod.id, { version: '1.0.0', filename: 'doomed.tar.gz' });
      await uploadArtifact(t, doomed, release.id, randomFile(100));
      expect(storedFiles(t).some((f) => f.startsWith(`${doomed.id}/`))).toBe(true);

      const root = api(t, bearer(ROOT_TOKEN));
      const list = await root.get('/v1/accounts?page[size]=100');
      expect(list.status).toBe(200);
      expect(list.body.data.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining([account.id, doomed.id]));
      expect((await root.get(`/v1/accounts/${doomed.slug}`)).body.data.id).toBe(doomed.id);
      expect((await api(t, bearer(doomed.adminToken)).delete(`/v1/accounts/${doomed.id}`)).status).toBe(403);
      expect((await admin().get('/v1/accounts')).status).toBe(401);

      expect((await root.delete(`/v1/accounts/${doomed.id}`)).status).toBe(204);
      expect((await root.get(`/v1/accounts/${doomed.id}`)).status).toBe(404);
      expect(storedFiles(t).some((f) => f.startsWith(`${doomed.id}/`))).toBe(false);
      // the root token reaches no account's other resources
      expect((await root.get(`/v1/accounts/${account.id}/licenses`)).status).toBe(403);
    });
  });
});
