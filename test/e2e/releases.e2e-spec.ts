import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { startApp, TestApp } from '../support/app';
import { uploadArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, createProductToken, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createRelease, publishRelease, TestRelease } from '../support/release.factories';

const ATTRIBUTE_NAMES = [
  'name', 'description', 'channel', 'platform', 'filename', 'filetype', 'filesize', 'signature', 'checksum',
  'version', 'semver', 'metadata', 'status', 'critical', 'required', 'rolloutPercentage', 'downloads', 'upgrades', 'created', 'updated', 'yanked',
];

function releaseDoc(attributes: Record<string, unknown>, productId?: string | null) {
  const data: Record<string, unknown> = { type: 'releases', attributes };
  if (productId !== null) data.relationships = { product: { data: { type: 'products', id: productId } } };
  return { data };
}

const valid = (over: Record<string, unknown> = {}) => ({
  version: '1.0.0',
  channel: 'stable',
  platform: 'darwin/arm64',
  filename: `App-${Math.random().toString(36).slice(2, 10)}.dmg`,
  filetype: 'dmg',
  ...over,
});

describe('releases', () => {
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

  describe('as an admin', () => {
    it('creates a NOT_PUBLISHED release shaped like Keygen\'s release object', async () => {
      const res = await admin.post(base, releaseDoc({
        name: 'Product v2', version: '2.0.0-beta.1+build.7', channel: 'beta', platform: 'darwin/arm64',
        filename: 'prod-1/Product-2.0.0-beta.1.dmg', filetype: 'dmg', filesize: 209715200,
        signature: 'sig', checksum: 'sum', metadata: { sha512: 'abc', nested: { a: { b: 1 } } },
      }, product.id));
      expect(res.status).toBe(201);
      const r = res.body.data;
      expect(res.headers.location).toBe(`/v1/accounts/${account.id}/releases/${r.id}`);
      expect(r.type).toBe('releases');
      expect(Object.keys(r.attributes).sort()).toEqual([...ATTRIBUTE_NAMES].sort());
      expect(r.attributes).toMatchObject({
        name: 'Product v2', description: null, version: '2.0.0-beta.1+build.7', channel: 'beta', platform: 'darwin/arm64',
        filename: 'prod-1/Product-2.0.0-beta.1.dmg', filetype: 'dmg', filesize: 209715200, signature: 'sig', checksum: 'sum',
        metadata: { sha512: 'abc', nested: { a: { b: 1 } } }, status: 'NOT_PUBLISHED', downloads: 0, upgrades: 0, yanked: null,
        semver: { major: 2, minor: 0, patch: 0, prerelease: 'beta.1', build: 'build.7' },
      });
      expect(new Date(r.attributes.created).toISOString()).toBe(r.attributes.created);
      expect(r.relationships.account.data).toEqual({ type: 'accounts', id: account.id });
      expect(r.relationships.product).toEqual({
        data: { type: 'products', id: product.id },
        links: { related: `/v1/accounts/${account.id}/releases/${r.id}/product` },
      });
      expect(r.relationships.constraints.links.related).toBe(`/v1/accounts/${account.id}/releases/${r.id}/constraints`);
      expect(r.relationships.artifact.links.related).toBe(`/v1/accounts/${account.id}/releases/${r.id}/artifact`);
      expect(r.links.self).toBe(`/v1/accounts/${account.id}/releases/${r.id}`);

      const product2 = await admin.get(`${base}/${r.id}/product`);
      expect(product2.status).toBe(200);
      expect(product2.body.data.id).toBe(product.id);
    });

    it.each([
      ['VERSION_MISSING', { version: undefined }, '/data/attributes/version'],
      ['VERSION_INVALID', { version: 'v1.0.0' }, '/data/attributes/version'],
      ['VERSION_INVALID', { version: '1.0' }, '/data/attributes/version'],
      ['VERSION_INVALID', { version: 100 }, '/data/attributes/version'],
      ['VERSION_CHANNEL_INVALID', { version: '1.0.0-beta.1', channel: 'stable' }, '/data/attributes/version'],
      ['VERSION_CHANNEL_INVALID', { version: '1.0.0', channel: 'beta' }, '/data/attributes/version'],
      ['VERSION_CHANNEL_INVALID', { version: '1.0.0-alpha.1', channel: 'beta' }, '/data/attributes/version'],
      ['CHANNEL_MISSING', { channel: undefined }, '/data/attributes/channel'],
      ['CHANNEL_INVALID', { channel: 'nightly' }, '/data/attributes/channel'],
      ['CHANNEL_INVALID', { channel: 'Stable' }, '/data/attributes/channel'],
      ['PLATFORM_MISSING', { platform: undefined }, '/data/attributes/platform'],
      ['PLATFORM_INVALID', { platform: 'Darwin' }, '/data/attributes/platform'],
      ['PLATFORM_INVALID', { platform: 'linux amd64' }, '/data/attributes/platform'],
      ['FILENAME_MISSING', { filename: undefined }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: '../etc/passwd.dmg' }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: 'a/../b.dmg' }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: '/abs.dmg' }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: 'dir\\app.dmg' }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: 'app\u0001.dmg' }, '/data/attributes/filename'],
      ['FILENAME_INVALID', { filename: `${'x'.repeat(252)}.dmg` }, '/data/attributes/filename'],
      ['FILETYPE_MISSING', { filetype: undefined }, '/data/attributes/filetype'],
      ['FILETYPE_INVALID', { filetype: 'zip' }, '/data/attributes/filetype'],
      ['FILETYPE_INVALID', { filetype: '.dmg' }, '/data/attributes/filetype'],
      ['FILETYPE_INVALID', { filetype: 'DMG', filename: 'App.DMG' }, '/data/attributes/filetype'],
      ['FILESIZE_INVALID', { filesize: -1 }, '/data/attributes/filesize'],
      ['FILESIZE_INVALID', { filesize: 1.5 }, '/data/attributes/filesize'],
      ['FILESIZE_INVALID', { filesize: '12' }, '/data/attributes/filesize'],
      ['SIGNATURE_INVALID', { signature: 's'.repeat(4097) }, '/data/attributes/signature'],
      ['CHECKSUM_INVALID', { checksum: 'c'.repeat(4097) }, '/data/attributes/checksum'],
      ['DESCRIPTION_INVALID', { description: 'd'.repeat(64 * 1024 + 1) }, '/data/attributes/description'],
      ['NAME_INVALID', { name: 'n'.repeat(256) }, '/data/attributes/name'],
      ['METADATA_INVALID', { metadata: 'text' }, '/data/attributes/metadata'],
      ['METADATA_INVALID', { metadata: [1, 2] }, '/data/attributes/metadata'],
      ['METADATA_INVALID', { metadata: null }, '/data/attributes/metadata'],
      ['METADATA_INVALID', { metadata: { a: { b: { c: { d: { e: 1 } } } } } }, '/data/attributes/metadata'],
      ['METADATA_INVALID', { metadata: { big: 'm'.repeat(16 * 1024) } }, '/data/attributes/metadata'],
    ])('answers 422 %s (case %#)', async (code, over, pointer) => {
      const attributes = valid(over as Record<string, unknown>);
      for (const k of Object.keys(attributes)) if ((attributes as Record<string, unknown>)[k] === undefined) delete (attributes as Record<string, unknown>)[k];
      const res = await admin.post(base, releaseDoc(attributes, product.id));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ status: '422', code, source: { pointer } });
    });

    it('creates nothing when validation fails', async () => {
      const filename = 'never-created.dmg';
      await admin.post(base, releaseDoc(valid({ filename, version: 'nope' }), product.id));
      expect((await admin.get(`${base}/${filename}`)).status).toBe(404);
    });

    it.each([
      [{ version: '1.0.0-rc.1', channel: 'rc' }],
      [{ version: '1.0.0-rc1', channel: 'rc' }],
      [{ version: '1.0.0-alpha', channel: 'alpha' }],
      [{ version: '1.0.0-dev.20240101', channel: 'dev' }],
      [{ version: '1.0.0+build.1', channel: 'stable' }],
      [{ filename: 'linux/app-1.tar.gz', filetype: 'tar.gz' }],
      [{ filename: 'linux/app-2.tar.gz', filetype: 'gz' }],
      [{ filename: 'App 3.DMG', filetype: 'dmg' }],
      [{ filename: 'linux/app-no-extension', filetype: 'bin' }],
      [{ filesize: 0, name: null, description: null }],
    ])('accepts %j', async (over) => {
      const res = await admin.post(base, releaseDoc(valid({ platform: `p-${Math.random().toString(36).slice(2, 8)}`, ...over }), product.id));
      expect(res.status).toBe(201);
    });

    it('needs a product of its own account', async () => {
      const missing = await admin.post(base, releaseDoc(valid(), null));
      expect(missing.status).toBe(422);
      expect(missing.body.errors[0]).toMatchObject({ code: 'PRODUCT_MISSING', source: { pointer: '/data/relationships/product' } });

      const nul = await admin.post(base, { data: { type: 'releases', attributes: valid(), relationships: { product: { data: null } } } });
      expect(nul.status).toBe(422);
      expect(nul.body.errors[0]).toMatchObject({ code: 'PRODUCT_MISSING', source: { pointer: '/data/relationships/product' } });

      const unknown = await admin.post(base, releaseDoc(valid(), '00000000-0000-4000-8000-000000000000'));
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors[0]).toMatchObject({ code: 'PRODUCT_NOT_FOUND', source: { pointer: '/data/relationships/product' } });

      const other = await createAccount(t);
      const foreign = await createProduct(t, other);
      const res = await admin.post(base, releaseDoc(valid(), foreign.id));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'PRODUCT_NOT_FOUND', source: { pointer: '/data/relationships/product' } });
    });

    it('refuses read-only and unknown attributes with 400 PARAMETER_UNPERMITTED', async () => {
      for (const attr of ['status', 'downloads', 'semver', 'yanked', 'created', 'bogus']) {
        const res = await admin.post(base, releaseDoc(valid({ [attr]: 'x' }), product.id));
        expect(res.status).toBe(400);
        expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_UNPERMITTED', source: { pointer: `/data/attributes/${attr}` } });
      }
    });

    it('keeps versions unique per product, platform, channel and filetype, and filenames per product', async () => {
      const first = await admin.post(base, releaseDoc(valid({ version: '3.0.0', platform: 'windows', filename: 'app-3.exe', filetype: 'exe' }), product.id));
      expect(first.status).toBe(201);
      const sameVersion = await admin.post(base, releaseDoc(valid({ version: '3.0.0', platform: 'windows', filename: 'app-3b.exe', filetype: 'exe' }), product.id));
      expect(sameVersion.status).toBe(422);
      expect(sameVersion.body.errors[0]).toMatchObject({ code: 'VERSION_TAKEN', source: { pointer: '/data/attributes/version' } });
      const sameFile = await admin.post(base, releaseDoc(valid({ version: '3.0.1', platform: 'windows', filename: 'app-3.exe', filetype: 'exe' }), product.id));
      expect(sameFile.status).toBe(422);
      expect(sameFile.body.errors[0]).toMatchObject({ code: 'FILENAME_TAKEN', source: { pointer: '/data/attributes/filename' } });
      // another platform, or another product, may reuse the version (and the other product the filename)
      expect((await admin.post(base, releaseDoc(valid({ version: '3.0.0', platform: 'linux', filename: 'app-3.tar.gz', filetype: 'tar.gz' }), product.id))).status).toBe(201);
      const otherProduct = await createProduct(t, account);
      expect((await admin.post(base, releaseDoc(valid({ version: '3.0.0', platform: 'windows', filename: 'app-3.exe', filetype: 'exe' }), otherProduct.id))).status).toBe(201);
    });

    it('lets exactly one of five concurrent identical creates win, the others get 422', async () => {
      const doc = releaseDoc(valid({ version: '4.0.0', filename: 'race-4.0.0.dmg' }), product.id);
      const results = await Promise.all(Array.from({ length: 5 }, () => admin.post(base, doc)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 422, 422, 422, 422]);
      for (const r of results.filter((x) => x.status === 422)) expect(['VERSION_TAKEN', 'FILENAME_TAKEN']).toContain(r.body.errors[0].code);
      const list = await admin.get(`${base}?product=${product.id}&version=4.0.0`);
      expect(list.body.meta.count).toBe(1);
    });

    it('updates only name, description, filesize, signature, checksum and metadata', async () => {
      const r = await createRelease(t, account, product.id);
      const res = await admin.patch(`${base}/${r.id}`, {
        data: { type: 'releases', id: r.id, attributes: { name: 'Renamed', description: 'notes', filesize: 42, signature: 's', checksum: 'c', metadata: { k: 'v' } } },
      });
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ name: 'Renamed', description: 'notes', filesize: 42, signature: 's', checksum: 'c', metadata: { k: 'v' } });

      for (const [attr, value] of [['version', '9.9.9'], ['channel', 'beta'], ['platform', 'x'], ['filename', 'x.tar.gz'], ['filetype', 'zip'], ['status', 'PUBLISHED'], ['yanked', '2020-01-01T00:00:00.000Z']] as const) {
        const bad = await admin.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { [attr]: value } } });
        expect(bad.status).toBe(400);
        expect(bad.body.errors[0]).toMatchObject({ code: 'PARAMETER_UNPERMITTED', source: { pointer: `/data/attributes/${attr}` } });
      }
      // counters are the server's: ignored whatever their value (a client sends back what it read, maybe elsewhere)
      const counters = await admin.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { name: 'Renamed', downloads: 5, upgrades: -1 } } });
      expect(counters.status).toBe(200);
      expect(counters.body.data.attributes).toMatchObject({ name: 'Renamed', downloads: 0, upgrades: 0 });
      const otherId = await admin.patch(`${base}/${r.id}`, { data: { type: 'releases', id: '00000000-0000-4000-8000-000000000000', attributes: { name: 'x' } } });
      expect(otherId.status).toBe(409);
      expect(otherId.body.errors[0].source).toEqual({ pointer: '/data/id' });
      const invalid = await admin.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { metadata: null } } });
      expect(invalid.status).toBe(422);
      expect(invalid.body.errors[0].code).toBe('METADATA_INVALID');
      const after = await admin.get(`${base}/${r.id}`);
      expect(after.body.data.attributes).toMatchObject({ version: r.version, filename: r.filename, name: 'Renamed', metadata: { k: 'v' }, status: 'NOT_PUBLISHED' });
      const cleared = await admin.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { name: null, filesize: null } } });
      expect(cleared.body.data.attributes).toMatchObject({ name: null, filesize: null });
    });

    it('finds a release by id or filename, with ?product= to choose between products', async () => {
      const p2 = await createProduct(t, account);
      const a = await createRelease(t, account, product.id, { filename: 'shared/App-5.0.0.zip', filetype: 'zip', version: '5.0.0' });
      const b = await createRelease(t, account, p2.id, { filename: 'shared/App-5.0.0.zip', filetype: 'zip', version: '5.0.0' });
      const byId = await admin.get(`${base}/${a.id}`);
      expect(byId.status).toBe(200);
      expect(byId.body.data.id).toBe(a.id);
      const encoded = encodeURIComponent('shared/App-5.0.0.zip');
      expect((await admin.get(`${base}/${encoded}?product=${product.id}`)).body.data.id).toBe(a.id);
      expect((await admin.get(`${base}/${encoded}?product=${p2.id}`)).body.data.id).toBe(b.id);
      const ambiguous = await admin.get(`${base}/${encoded}`);
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'product' } });
      expect((await admin.get(`${base}/no-such-file.zip`)).status).toBe(404);
      expect((await admin.get(`${base}/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      // ?product= takes a product code too: an unknown code finds nothing
      const unknownCode = await admin.get(`${base}/${encoded}?product=nope`);
      expect(unknownCode.status).toBe(404);
      const badProduct = await admin.get(`${base}/${encoded}?product=${'x'.repeat(256)}`);
      expect(badProduct.status).toBe(400);
      expect(badProduct.body.errors[0].source).toEqual({ parameter: 'product' });
    });

    it('deletes a release (204) with its constraints; then it is gone', async () => {
      const r = await createRelease(t, account, product.id);
      const res = await admin.delete(`${base}/${r.id}`);
      expect(res.status).toBe(204);
      expect((await admin.get(`${base}/${r.id}`)).status).toBe(404);
      expect((await admin.delete(`${base}/${r.id}`)).status).toBe(404);
      expect((await admin.delete(`${base}/not-a-uuid`)).status).toBe(404);
    });

    it('deleting a release removes its stored artifact file', async () => {
      const r = await createRelease(t, account, product.id);
      await uploadArtifact(t, account, r.id, Buffer.from('release bytes'));
      expect((await admin.get(`${base}/${r.id}`)).body.data.attributes.status).toBe('PUBLISHED');
      const [row] = await t.app.get(DataSource).query('SELECT storage_key FROM artifacts WHERE release_id = $1', [r.id]);
      const file = path.join(t.config.dataDir, 'artifacts', row.storage_key);
      expect(fs.existsSync(file)).toBe(true);
      expect((await admin.delete(`${base}/${r.id}`)).status).toBe(204);
      expect(fs.existsSync(file)).toBe(false);
      expect(await t.app.get(DataSource).query('SELECT 1 FROM artifacts WHERE release_id = $1', [r.id])).toEqual([]);
    });

    it('yanks idempotently and republishes only with an uploaded artifact', async () => {
      const r = await createRelease(t, account, product.id);
      const publish = await admin.post(`${base}/${r.id}/actions/publish`);
      expect(publish.status).toBe(422);
      expect(publish.body.errors[0].code).toBe('ARTIFACT_NOT_UPLOADED');

      const y1 = await admin.post(`${base}/${r.id}/actions/yank`);
      expect(y1.status).toBe(200);
      expect(y1.body.data.attributes.status).toBe('YANKED');
      expect(y1.body.data.attributes.yanked).not.toBeNull();
      const y2 = await admin.post(`${base}/${r.id}/actions/yank`);
      expect(y2.status).toBe(200);
      expect(y2.body.data.attributes.status).toBe('YANKED');
      expect(y2.body.data.attributes.yanked).toBe(y1.body.data.attributes.yanked);

      // an upload does not un-yank; publishing does, and clears `yanked`
      expect(await publishRelease(t, account, r.id)).toBe('YANKED');
      const p = await admin.post(`${base}/${r.id}/actions/publish`);
      expect(p.status).toBe(200);
      expect(p.body.data.attributes).toMatchObject({ status: 'PUBLISHED', yanked: null });
      expect((await admin.post(`${base}/not-a-uuid/actions/yank`)).status).toBe(404);
    });
  });

  describe('lists (as an admin)', () => {
    let p: TestProduct;
    let releases: Record<string, TestRelease>;
    const versions = ['1.10.0', '1.0.0-beta.11', '1.0.0', '1.0.0-beta.2', '1.2.0', '1.0.0-alpha', '1.0.0-rc.1', '1.0.1-dev.1', '10.0.0', '2.0.0-beta.1'];

    beforeAll(async () => {
      p = await createProduct(t, account);
      releases = {};
      for (const v of versions) releases[v] = await createRelease(t, account, p.id, { version: v, name: `Release ${v}` });
      await createRelease(t, account, p.id, { version: '1.0.0', platform: 'windows', filename: `w-${Date.now()}.zip`, filetype: 'zip' });
      await publishRelease(t, account, releases['1.2.0'].id);
      await publishRelease(t, account, releases['1.10.0'].id);
      await admin.post(`${base}/${releases['1.10.0'].id}/actions/yank`);
    });

    const all = (q: string) => admin.get(`${base}?product=${p.id}&page[size]=100&${q}`);
    const versionsOf = (res: { body: { data: Array<{ attributes: { version: string } }> } }) => res.body.data.map((r) => r.attributes.version);

    it('orders by semver precedence with sort=version and -version', async () => {
      const res = await all('platform=linux/amd64&sort=version');
      expect(res.status).toBe(200);
      expect(versionsOf(res)).toEqual([
        '1.0.0-alpha', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1-dev.1', '1.2.0', '1.10.0', '2.0.0-beta.1', '10.0.0',
      ]);
      const desc = await all('platform=linux/amd64&sort=-version');
      expect(versionsOf(desc)).toEqual([...versionsOf(res)].reverse());
    });

    it('sorts by name and by created (default newest first, order=asc)', async () => {
      const byName = await all('platform=linux/amd64&sort=name');
      const names = byName.body.data.map((r: { attributes: { name: string } }) => r.attributes.name);
      expect(names).toEqual([...names].sort());
      const newest = await all('platform=linux/amd64');
      expect(versionsOf(newest)).toEqual([...versions].reverse());
      const oldest = await all('platform=linux/amd64&order=asc');
      expect(versionsOf(oldest)).toEqual(versions);
      const bad = await all('sort=downloads');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'sort' } });
    });

    it('filters by channel inclusively, platform, filetype, version, status and yanked', async () => {
      expect(versionsOf(await all('channel=stable&platform=linux/amd64&sort=version'))).toEqual(['1.0.0', '1.2.0', '1.10.0', '10.0.0']);
      expect(versionsOf(await all('channel=rc&platform=linux/amd64&sort=version'))).toEqual(['1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '10.0.0']);
      expect(versionsOf(await all('channel=beta&platform=linux/amd64&sort=version'))).toEqual([
        '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '2.0.0-beta.1', '10.0.0',
      ]);
      expect(versionsOf(await all('channel=alpha&platform=linux/amd64')).length).toBe(9);
      expect(versionsOf(await all('channel=dev'))).toEqual(['1.0.1-dev.1']);
      expect((await all('platform=windows')).body.data.map((r: { attributes: { filetype: string } }) => r.attributes.filetype)).toEqual(['zip']);
      expect((await all('filetype=zip')).body.meta.count).toBe(1);
      expect((await all('version=1.0.0')).body.meta.count).toBe(2);
      expect(versionsOf(await all('status=PUBLISHED'))).toEqual(['1.2.0']);
      expect(versionsOf(await all('status=YANKED'))).toEqual(['1.10.0']);
      expect(versionsOf(await all('yanked=true'))).toEqual(['1.10.0']);
      expect((await all('yanked=false')).body.meta.count).toBe(versions.length);
    });

    it.each([
      ['channel', 'nightly'], ['status', 'DRAFT'], ['yanked', 'maybe'], ['product', 'x'.repeat(256)], ['version', 'v1'],
      ['page[size]', '0'], ['page[size]', '101'], ['page[number]', '0'], ['page[cursor]', 'nope'], ['include', 'license'], ['fields[releases]', 'bogus'],
    ])('answers 400 PARAMETER_INVALID for %s=%s', async (name, value) => {
      const res = await admin.get(`${base}?${name}=${value}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: name } });
    });

    it('pages by offset with links and meta', async () => {
      const res = await admin.get(`${base}?product=${p.id}&page[size]=4&page[number]=2`);
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(4);
      expect(res.body.meta).toEqual({ count: versions.length + 1, pages: 3 });
      expect(res.body.links.next).toContain('page[number]=3');
      expect(res.body.links.prev).toContain('page[number]=1');
    });

    it('walks every page with a cursor, for each sort', async () => {
      for (const sort of ['-created', 'version', '-version', 'name', 'created']) {
        const seen: string[] = [];
        let url: string | null = `${base}?product=${p.id}&sort=${sort}&page[size]=3&page[cursor]=`;
        let pages = 0;
        while (url && pages < 20) {
          const res = await admin.get(url);
          expect(res.status).toBe(200);
          seen.push(...res.body.data.map((r: { id: string }) => r.id));
          url = res.body.links.next;
          pages += 1;
        }
        expect(seen).toHaveLength(versions.length + 1);
        expect(new Set(seen).size).toBe(versions.length + 1);
        const offset = await admin.get(`${base}?product=${p.id}&sort=${sort}&page[size]=100`);
        expect(seen).toEqual(offset.body.data.map((r: { id: string }) => r.id));
      }
    });

    it('includes product, artifact and constraints with their entitlements; honours sparse fieldsets', async () => {
      const ent = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/entitlements`, {
        data: { type: 'entitlements', attributes: { name: 'Pro', code: `PRO-${Date.now()}` } },
      });
      const entId = ent.body.data.id;
      const r = releases['1.2.0'];
      const attach = await admin.post(`${base}/${r.id}/constraints`, {
        data: [{ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id: entId } } } }],
      });
      expect(attach.status).toBe(200);
      const res = await admin.get(`${base}/${r.id}?include=product,artifact,constraints.entitlement`);
      expect(res.status).toBe(200);
      const types = res.body.included.map((i: { type: string }) => i.type).sort();
      expect(types).toEqual(['artifacts', 'constraints', 'entitlements', 'products']);
      const rels = res.body.data.relationships;
      expect(rels.constraints.data).toEqual([{ type: 'constraints', id: attach.body.data[0].id }]);
      expect(rels.artifact.data.type).toBe('artifacts');
      const artifact = res.body.included.find((i: { type: string }) => i.type === 'artifacts');
      expect(artifact.id).toBe(rels.artifact.data.id);
      expect(artifact.attributes.status).toBe('UPLOADED');

      const list = await admin.get(`${base}?product=${p.id}&include=product,constraints&fields[releases]=version,channel,product&fields[products]=name`);
      expect(list.status).toBe(200);
      for (const item of list.body.data) {
        expect(Object.keys(item.attributes).sort()).toEqual(['channel', 'version']);
        expect(Object.keys(item.relationships)).toEqual(['product']);
      }
      const included = list.body.included;
      expect(included.filter((i: { type: string }) => i.type === 'products')).toEqual([
        expect.objectContaining({ id: p.id, attributes: { name: p.name } }),
      ]);
      expect(included.filter((i: { type: string }) => i.type === 'constraints')).toHaveLength(1);
      const noInclude = await admin.get(`${base}?product=${p.id}`);
      expect(noInclude.body.included).toBeUndefined();
    });
  });

  describe('as a product token', () => {
    let token: ReturnType<typeof api>;
    let other: TestProduct;

    beforeAll(async () => {
      token = api(t, bearer((await createProductToken(t, account, product.id)).token));
      other = await createProduct(t, account);
    });

    it('creates, updates, yanks and deletes releases of its product', async () => {
      const res = await token.post(base, releaseDoc(valid({ version: '7.0.0' }), product.id));
      expect(res.status).toBe(201);
      const id = res.body.data.id;
      expect((await token.patch(`${base}/${id}`, { data: { type: 'releases', id, attributes: { name: 'CI' } } })).body.data.attributes.name).toBe('CI');
      expect((await token.post(`${base}/${id}/actions/yank`)).status).toBe(200);
      expect((await token.get(`${base}/${id}`)).body.data.attributes.status).toBe('YANKED');
      expect((await token.delete(`${base}/${id}`)).status).toBe(204);
    });

    it('sees every status of its product, and nothing of another product', async () => {
      const mine = await createRelease(t, account, product.id);
      const theirs = await createRelease(t, account, other.id);
      await publishRelease(t, account, theirs.id);
      expect((await token.get(`${base}/${mine.id}`)).status).toBe(200);
      expect((await token.get(`${base}/${theirs.id}`)).status).toBe(404);
      const list = await token.get(`${base}?page[size]=100`);
      expect(list.body.data.every((r: { relationships: { product: { data: { id: string } } } }) => r.relationships.product.data.id === product.id)).toBe(true);
      expect((await token.patch(`${base}/${theirs.id}`, { data: { type: 'releases', id: theirs.id, attributes: { name: 'x' } } })).status).toBe(404);
      expect((await token.delete(`${base}/${theirs.id}`)).status).toBe(404);
      expect((await admin.get(`${base}/${theirs.id}`)).body.data.attributes.name).not.toBe('x');
    });

    it('may not create releases of another product (403), even invalid ones', async () => {
      const res = await token.post(base, releaseDoc(valid(), other.id));
      expect(res.status).toBe(403);
      expect(res.body.errors[0].code).toBe('FORBIDDEN');
      expect((await admin.get(`${base}?product=${other.id}&version=1.0.0`)).body.meta.count).toBe(0);
    });
  });

  describe('as a license key', () => {
    let license: ReturnType<typeof api>;
    let published: TestRelease;

    beforeAll(async () => {
      const l = await createLicense(t, account, product.id);
      license = api(t, licenseAuth(l.key));
      published = await createRelease(t, account, product.id);
      await publishRelease(t, account, published.id);
    });

    it('reads a published release of its product but may not write it (403) nor create (403)', async () => {
      expect((await license.get(`${base}/${published.id}`)).status).toBe(200);
      const patch = await license.patch(`${base}/${published.id}`, { data: { type: 'releases', id: published.id, attributes: { name: 'hacked' } } });
      expect(patch.status).toBe(403);
      expect((await license.post(`${base}/${published.id}/actions/yank`)).status).toBe(403);
      expect((await license.delete(`${base}/${published.id}`)).status).toBe(403);
      const create = await license.post(base, releaseDoc(valid({ version: 'bad' }), product.id));
      expect(create.status).toBe(403);
      const after = await admin.get(`${base}/${published.id}`);
      expect(after.body.data.attributes).toMatchObject({ name: null, status: 'PUBLISHED' });
    });

    it('gets 404 for writes on releases it cannot see', async () => {
      const hidden = await createRelease(t, account, product.id);
      expect((await license.patch(`${base}/${hidden.id}`, { data: { type: 'releases', id: hidden.id, attributes: { name: 'x' } } })).status).toBe(404);
      expect((await license.post(`${base}/${hidden.id}/actions/yank`)).status).toBe(404);
    });
  });

  describe('as a user token', () => {
    it('may not create releases (403)', async () => {
      const user = await createUser(t, account);
      await createLicense(t, account, product.id, { userId: user.id });
      const res = await api(t, bearer(user.token)).post(base, releaseDoc(valid(), product.id));
      expect(res.status).toBe(403);
    });
  });

  describe('anonymously', () => {
    it('needs credentials to write (401) and reads the public list', async () => {
      const anon = api(t);
      const create = await anon.post(base, releaseDoc(valid(), product.id));
      expect(create.status).toBe(401);
      expect(create.body.errors[0].code).toBe('TOKEN_MISSING');
      const r = await createRelease(t, account, product.id);
      expect((await anon.patch(`${base}/${r.id}`, { data: { type: 'releases', id: r.id, attributes: { name: 'x' } } })).status).toBe(401);
      expect((await anon.delete(`${base}/${r.id}`)).status).toBe(401);
      expect((await anon.post(`${base}/${r.id}/actions/yank`)).status).toBe(401);
      expect((await anon.post(`${base}/${r.id}/actions/publish`)).status).toBe(401);
      const list = await anon.get(base);
      expect(list.status).toBe(200);
      expect(list.body.data).toEqual([]);
    });
  });

  describe('from another account', () => {
    it('cannot see or change these releases', async () => {
      const other = await createAccount(t);
      const r = await createRelease(t, account, product.id);
      const foreignAdmin = api(t, bearer(other.adminToken));
      // its token is not valid in this account at all
      expect((await foreignAdmin.get(`${base}/${r.id}`)).status).toBe(401);
      // and through its own account the release does not exist
      expect((await foreignAdmin.get(`/v1/accounts/${other.id}/releases/${r.id}`)).status).toBe(404);
      expect((await foreignAdmin.delete(`/v1/accounts/${other.id}/releases/${r.id}`)).status).toBe(404);
      expect((await foreignAdmin.get(`/v1/accounts/${other.id}/releases`)).body.meta.count).toBe(0);
      expect((await admin.get(`${base}/${r.id}`)).status).toBe(200);
    });
  });
});
