import { createHash } from 'node:crypto';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';

const V11 = { 'Keygen-Version': '1.1' };

/** A JSON:API client speaking API 1.1 (the Keygen-Version header on every request). */
function client(t: TestApp, authorization?: string) {
  const base = api(t, authorization);
  return {
    get: (url: string) => base.get(url).set(V11),
    post: (url: string, body?: unknown) => base.post(url, body).set(V11),
    patch: (url: string, body?: unknown) => base.patch(url, body).set(V11),
    delete: (url: string) => base.delete(url).set(V11),
  };
}

describe('releases with many artifacts (API 1.1)', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let admin: ReturnType<typeof client>;
  let root: string;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    admin = client(t, bearer(account.adminToken));
    root = `/v1/accounts/${account.id}`;
  });
  afterAll(() => t.close());

  async function createRelease(version: string, status = 'PUBLISHED', extra: Record<string, unknown> = {}) {
    const res = await admin.post(`${root}/releases`, {
      data: { type: 'releases', attributes: { version, channel: 'stable', status, ...extra }, relationships: { product: { data: { type: 'products', id: product.id } } } },
    });
    expect(res.status).toBe(201);
    return res.body.data as { id: string; attributes: Record<string, unknown> };
  }

  /** POST /artifacts with Prefer: no-redirect, then the bytes PUT to links.redirect with no credential. */
  async function uploadArtifact(releaseId: string, attributes: Record<string, unknown>, bytes: Buffer) {
    const created = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes, relationships: { release: { data: { type: 'releases', id: releaseId } } } } }).set('Prefer', 'no-redirect');
    expect(created.status).toBe(201);
    expect(created.body.data.attributes.status).toBe('WAITING');
    const url = new URL(created.body.data.links.redirect);
    const put = await t.http.put(url.pathname + url.search).set('Content-Type', 'application/octet-stream').send(bytes);
    expect(put.status).toBe(200);
    return created.body.data.id as string;
  }

  it('negotiates the version: the header, else the account, else 1.0, echoed on every answer', async () => {
    const plain = await api(t, bearer(account.adminToken)).get(`${root}/releases`);
    expect(plain.headers['keygen-version']).toBe('1.0');
    const asked = await admin.get(`${root}/releases`);
    expect(asked.headers['keygen-version']).toBe('1.1');
    const bad = await api(t, bearer(account.adminToken)).get(`${root}/releases`).set('Keygen-Version', '2.9');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ code: 'HEADER_INVALID', source: { header: 'Keygen-Version' } });
    expect(bad.headers['keygen-version']).toBeUndefined();

    const other = await createAccount(t);
    const set = await api(t, bearer(other.adminToken)).patch(`/v1/accounts/${other.id}`, { data: { type: 'accounts', id: other.id, attributes: { apiVersion: '1.1' } } });
    expect(set.status).toBe(200);
    expect(set.body.data.attributes.apiVersion).toBe('1.1');
    const byAccount = await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/releases`);
    expect(byAccount.headers['keygen-version']).toBe('1.1');
    const invalid = await api(t, bearer(other.adminToken)).patch(`/v1/accounts/${other.id}`, { data: { type: 'accounts', id: other.id, attributes: { apiVersion: '3' } } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0].source.pointer).toBe('/data/attributes/apiVersion');
  });

  it('creates a 1.1 release (DRAFT by default, tag, no file attributes) and refuses 1.0 attributes', async () => {
    const draft = await createRelease('0.1.0', 'DRAFT', { tag: 'first-draft' });
    expect(draft.attributes.status).toBe('DRAFT');
    expect(draft.attributes).not.toHaveProperty('platform');
    expect(draft.attributes.tag).toBe('first-draft');
    const byTag = await admin.get(`${root}/releases/first-draft`);
    expect(byTag.status).toBe(200);
    expect(byTag.body.data.id).toBe(draft.id);
    const byVersion = await admin.get(`${root}/releases/0.1.0?product=${product.id}`);
    expect(byVersion.body.data.id).toBe(draft.id);
    const withPlatform = await admin.post(`${root}/releases`, {
      data: { type: 'releases', attributes: { version: '0.1.1', channel: 'stable', platform: 'linux' }, relationships: { product: { data: { type: 'products', id: product.id } } } },
    });
    expect(withPlatform.status).toBe(400);
    expect(withPlatform.body.errors[0].source.pointer).toBe('/data/attributes/platform');
    const again = await admin.post(`${root}/releases`, {
      data: { type: 'releases', attributes: { version: '0.1.0', channel: 'stable' }, relationships: { product: { data: { type: 'products', id: product.id } } } },
    });
    expect(again.status).toBe(422);
    expect(again.body.errors[0].code).toBe('VERSION_TAKEN');
    // through 1.0 the same release is NOT_PUBLISHED, with no file yet
    const asV10 = await api(t, bearer(account.adminToken)).get(`${root}/releases/${draft.id}`);
    expect(asV10.body.data.attributes).toMatchObject({ status: 'NOT_PUBLISHED', platform: null, filename: null });
    const published = await admin.post(`${root}/releases/${draft.id}/actions/publish`);
    expect(published.body.data.attributes.status).toBe('PUBLISHED');
    const drafted = await admin.post(`${root}/releases/${draft.id}/actions/draft`);
    expect(drafted.status).toBe(200);
    expect(drafted.body.data.attributes.status).toBe('DRAFT');
  });

  it('three artifacts: each license sees what its entitlements allow; yanking one kills its URLs and leaves the others', async () => {
    const airGapped = await createEntitlement(t, account);
    const release = await createRelease('1.0.0');
    const files = {
      linux: Buffer.from('linux tarball '.repeat(100)),
      mac: Buffer.from('mac disk image '.repeat(100)),
      windows: Buffer.from('windows installer '.repeat(100)),
    };
    const linux = await uploadArtifact(release.id, { filename: 'app-1.0.0-linux-amd64.tar.gz', platform: 'linux', arch: 'amd64' }, files.linux);
    const mac = await uploadArtifact(release.id, { filename: 'App-1.0.0-arm64.dmg', platform: 'darwin', arch: 'arm64' }, files.mac);
    const windows = await uploadArtifact(release.id, { filename: 'App Setup 1.0.0.exe', filetype: '.exe', platform: 'windows', arch: 'amd64' }, files.windows);
    // the linux build asks for an entitlement of its own
    const attach = await admin.post(`${root}/artifacts/${linux}/constraints`, { data: [{ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id: airGapped.id } } } }] });
    expect(attach.status).toBe(200);

    const listed = await admin.get(`${root}/releases/${release.id}/artifacts`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((a: { attributes: { filename: string } }) => a.attributes.filename).sort()).toEqual(['App Setup 1.0.0.exe', 'App-1.0.0-arm64.dmg', 'app-1.0.0-linux-amd64.tar.gz']);
    const exe = listed.body.data.find((a: { id: string }) => a.id === windows);
    expect(exe.attributes).toMatchObject({ status: 'UPLOADED', platform: 'windows', arch: 'amd64', filetype: 'exe', filesize: files.windows.length });
    expect(exe.attributes.sha256).toBe(createHash('sha256').update(files.windows).digest('hex'));

    const pro = await createLicense(t, account, product.id);
    const enterprise = await createLicense(t, account, product.id, { entitlementIds: [airGapped.id] });
    const proSees = await client(t, licenseAuth(pro.key)).get(`${root}/artifacts?release=${release.id}`);
    expect(proSees.body.data.map((a: { id: string }) => a.id).sort()).toEqual([mac, windows].sort());
    const enterpriseSees = await client(t, licenseAuth(enterprise.key)).get(`${root}/artifacts?release=${release.id}`);
    expect(enterpriseSees.body.data.map((a: { id: string }) => a.id).sort()).toEqual([linux, mac, windows].sort());
    // the hidden artifact is not found for the Pro license, by id or by filename
    expect((await client(t, licenseAuth(pro.key)).get(`${root}/artifacts/${linux}`)).status).toBe(404);
    expect((await client(t, licenseAuth(pro.key)).get(`${root}/artifacts/app-1.0.0-linux-amd64.tar.gz`)).status).toBe(404);

    // update checks choose among the artifacts by platform and arch
    const upgrade = (auth: string, platform: string) => t.http.get(`${root}/releases/actions/upgrade?product=${product.id}&platform=${platform}&version=0.9.0`).set('Authorization', auth).set(V11);
    const macCheck = await upgrade(licenseAuth(pro.key), 'darwin/arm64');
    expect(macCheck.status).toBe(303);
    expect(macCheck.body.data.id).toBe(mac);
    // 1.1's document: the artifact with its platform and arch, and the release in meta
    expect(macCheck.body.data.attributes).toMatchObject({ platform: 'darwin', arch: 'arm64', filename: 'App-1.0.0-arm64.dmg' });
    expect(macCheck.body.data.links.redirect).toBe(macCheck.headers.location);
    expect(macCheck.body.meta).toMatchObject({ current: '0.9.0', next: '1.0.0', release: { id: release.id, type: 'releases' } });
    expect(macCheck.body.meta.release.attributes.status).toBe('PUBLISHED');
    expect((await upgrade(licenseAuth(pro.key), 'linux/amd64')).status).toBe(204);
    expect((await upgrade(licenseAuth(enterprise.key), 'linux/amd64')).status).toBe(303);
    // the platform and arch may be sent apart, as the artifacts name them
    const byArch = await upgrade(licenseAuth(pro.key), 'darwin&arch=arm64');
    expect([byArch.status, byArch.body.data?.id]).toEqual([303, mac]);
    const v3 = await t.http.get(`/v3/releases/update?productId=${product.id}&platform=windows/amd64&version=0.9.0&key=${pro.key}`);
    expect(v3.status).toBe(200);
    expect(v3.body).toMatchObject({ version: '1.0.0', filename: 'App Setup 1.0.0.exe' });

    // downloads: a URL per artifact, each serving its own bytes
    const urlOf = async (id: string) => {
      const res = await client(t, licenseAuth(enterprise.key)).get(`${root}/artifacts/${id}`);
      expect(res.status).toBe(303);
      return new URL(res.headers.location);
    };
    const winUrl = await urlOf(windows);
    const macUrl = await urlOf(mac);
    // a 1.0 client (no Keygen-Version) finds a 1.1 release's artifact by id on the same route
    const asV10 = await api(t, licenseAuth(enterprise.key)).get(`${root}/artifacts/${mac}`).redirects(0);
    expect(asV10.status).toBe(303);
    expect(asV10.headers['keygen-version']).toBe('1.0');
    expect(new URL(asV10.headers.location).pathname).toBe(macUrl.pathname);
    const got = await t.http.get(winUrl.pathname + winUrl.search).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(got.status).toBe(200);
    expect(Buffer.compare(got.body as Buffer, files.windows)).toBe(0);

    // through 1.0 the release's file is its first artifact (the linux tarball): the Pro license,
    // which may not download it, gets no URL for it (nor a download counted), Enterprise does
    const release10Artifact = (key: string) => api(t, licenseAuth(key)).get(`${root}/releases/${release.id}/artifact`).redirects(0);
    const downloadsBefore = (await admin.get(`${root}/releases/${release.id}`)).body.data.attributes.downloads;
    expect((await release10Artifact(pro.key)).status).toBe(404);
    expect((await t.http.get(`/v3/${release.id}?key=${pro.key}`)).status).toBe(404);
    expect((await admin.get(`${root}/releases/${release.id}`)).body.data.attributes.downloads).toBe(downloadsBefore);
    const enterprise10 = await release10Artifact(enterprise.key);
    expect([enterprise10.status, enterprise10.body.data.id]).toEqual([303, linux]);

    // yank the windows installer: its URL dies at once, the mac one keeps working
    expect((await admin.delete(`${root}/artifacts/${windows}`)).status).toBe(204);
    expect((await t.http.get(winUrl.pathname + winUrl.search)).status).toBe(404);
    expect((await t.http.get(macUrl.pathname + macUrl.search)).status).toBe(200);
    const after = await admin.get(`${root}/artifacts/${windows}`).set('Prefer', 'no-redirect');
    expect(after.body.data.attributes.status).toBe('YANKED');
    expect((await client(t, licenseAuth(pro.key)).get(`${root}/artifacts?release=${release.id}`)).body.data.map((a: { id: string }) => a.id)).toEqual([mac]);
    expect((await upgrade(licenseAuth(pro.key), 'windows/amd64')).status).toBe(204);
    const release10 = await api(t, licenseAuth(pro.key)).get(`${root}/releases/${release.id}`);
    // through 1.0 the release shows its first artifact (the linux tarball)
    expect(release10.body.data.attributes).toMatchObject({ status: 'PUBLISHED', filename: 'app-1.0.0-linux-amd64.tar.gz', platform: 'linux/amd64' });
  });

  it('answers POST /artifacts with 307 to the upload URL by default, and refuses bad input with pointers', async () => {
    const release = await createRelease('2.0.0', 'DRAFT');
    const res = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'a.zip', filesize: 3 }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(res.body.data.links.redirect);
    // the upload has not arrived: asking again gives the same artifact an upload URL again
    const again = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'a.zip', filesize: 3 }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    expect(again.status).toBe(307);
    expect(again.body.data.id).toBe(res.body.data.id);
    const fresh = new URL(again.headers.location);
    expect((await t.http.put(fresh.pathname + fresh.search).send(Buffer.from('abc'))).status).toBe(200);
    // once uploaded, the name is taken
    const taken = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'a.zip' }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    expect(taken.status).toBe(422);
    expect(taken.body.errors[0]).toMatchObject({ code: 'FILENAME_TAKEN', source: { pointer: '/data/attributes/filename' } });
    const badName = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: '../x.zip' }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    expect(badName.status).toBe(422);
    expect(badName.body.errors[0].source.pointer).toBe('/data/attributes/filename');
    const noRelease = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'b.zip' }, relationships: { release: { data: { type: 'releases', id: '9.9.9' } } } } });
    expect(noRelease.status).toBe(422);
    expect(noRelease.body.errors[0].source.pointer).toBe('/data/relationships/release');
    const license = await createLicense(t, account, product.id);
    const forbidden = await client(t, licenseAuth(license.key)).post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'c.zip' }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    expect(forbidden.status).toBe(403);
    // the wrong size is refused and the artifact stays WAITING
    const sized = await admin.post(`${root}/artifacts`, { data: { type: 'artifacts', attributes: { filename: 'd.zip', filesize: 3 }, relationships: { release: { data: { type: 'releases', id: release.id } } } } });
    const url = new URL(sized.body.data.links.redirect);
    const put = await t.http.put(url.pathname + url.search).send(Buffer.from('four'));
    expect(put.status).toBe(422);
    expect(put.body.errors[0].code).toBe('FILESIZE_MISMATCH');
    expect((await admin.get(`${root}/artifacts/${sized.body.data.id}`)).body.data.attributes.status).toBe('WAITING');
  });
});
