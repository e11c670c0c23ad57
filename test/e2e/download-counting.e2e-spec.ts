import { CountersService } from '../../src/counters/counters.service';
import { startApp, TestApp } from '../support/app';
import { fetchBytes, onTestServer, randomFile, releaseAttributes, uploadArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';
import { createReleaseV11, uploadArtifactV11, v11Client } from '../support/v11.factories';

/**
 * Which requests to a file URL count a download. Each request to an authenticated file route
 * (an electron feed's file URL, `GET /artifacts/:id`, `GET /releases/:id/artifact`, `/v3/:id`)
 * issues a new signed URL; it counts a download unless it is a HEAD, or its Range does not start
 * at byte 0 (a resumed download, or the blocks of a differential update, which electron-updater
 * asks for one request each when it cannot send several ranges at once).
 */
describe('download counting', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let key: string;
  let releaseId: string;
  let artifactId: string;
  let release10: string;
  const size = 10_000;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    productId = (await createProduct(t, account)).id;
    key = (await createLicense(t, account, productId)).key;
    const release = await createReleaseV11(t, account, productId, '2.0.0');
    releaseId = release.id;
    artifactId = await uploadArtifactV11(t, account, releaseId, { filename: 'Desk-Setup-2.0.0.exe', platform: 'windows' }, randomFile(size));
    release10 = (await createRelease(t, account, productId, { version: '1.0.0', platform: 'linux/amd64', filename: 'desk-1.0.0.tar.gz', filetype: 'tar.gz' })).id;
    await uploadArtifact(t, account, release10, randomFile(size));
  });
  afterAll(() => t.close());

  /** The release's and the artifact's downloads as written (counters flushed). */
  async function counted(): Promise<{ release: number; artifact: number; release10: number }> {
    await t.app.get(CountersService).flush();
    const artifact = await v11Client(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/artifacts/${artifactId}`).set('Prefer', 'no-redirect');
    return {
      release: (await releaseAttributes(t, account, releaseId)).downloads as number,
      artifact: artifact.body.data.attributes.downloads,
      release10: (await releaseAttributes(t, account, release10)).downloads as number,
    };
  }

  const routes = () => ({
    // the file URL an electron feed lists (the key in the query, as electron-updater copies it)
    feedFile: `/v1/accounts/${account.id}/artifacts/${artifactId}/Desk-Setup-2.0.0.exe?key=${key}`,
    artifact: `/v1/accounts/${account.id}/artifacts/${artifactId}?key=${key}`,
    byFilename: `/v1/accounts/${account.id}/artifacts/Desk-Setup-2.0.0.exe?key=${key}`,
  });

  it('a GET counts one download per request, and the signed URL it issued serves the Range', async () => {
    const before = await counted();
    for (const path of Object.values(routes())) {
      const res = await fetchBytes(`${t.baseUrl}${path}`, { Range: 'bytes=0-99' });
      expect([path, res.status]).toEqual([path, 303]);
      const part = await fetchBytes(onTestServer(t, res.headers.get('location')!), { Range: 'bytes=0-99' });
      expect(part.status).toBe(206);
    }
    expect(await counted()).toEqual({ ...before, release: before.release + 3, artifact: before.artifact + 3 });
  });

  it('a Range that does not start at byte 0, or a HEAD, is no new download (the URL is still issued)', async () => {
    const before = await counted();
    for (const path of Object.values(routes())) {
      for (const range of ['bytes=100-199', 'bytes=5000-', 'bytes=-500', 'bytes=100-199, 300-399']) {
        const res = await fetchBytes(`${t.baseUrl}${path}`, { Range: range });
        expect([path, range, res.status]).toEqual([path, range, 303]);
        const part = await fetchBytes(onTestServer(t, res.headers.get('location')!), { Range: range });
        expect(part.status).toBe(206);
      }
      expect((await fetchBytes(`${t.baseUrl}${path}`, {}, 'HEAD')).status).toBe(303);
    }
    expect(await counted()).toEqual(before);
    // several ranges of which one starts at 0, a Range the server ignores (the whole file), none: counted
    for (const range of ['bytes=500-599, 0-9', 'bytes=abc', undefined]) {
      const res = await fetchBytes(`${t.baseUrl}${routes().feedFile}`, range ? { Range: range } : {});
      expect(res.status).toBe(303);
    }
    expect(await counted()).toEqual({ ...before, release: before.release + 3, artifact: before.artifact + 3 });
  });

  it('the same rule on 1.0 routes: GET /releases/:id/artifact and /v3/:id', async () => {
    const before = await counted();
    const artifact = (range?: string) => api(t, licenseAuth(key)).get(`/v1/accounts/${account.id}/releases/${release10}/artifact`).set(range ? { Range: range } : {}).redirects(0);
    const v3 = (range?: string) => fetchBytes(`${t.baseUrl}/v3/${release10}?key=${key}`, range ? { Range: range } : {});
    expect((await artifact('bytes=100-')).status).toBe(303);
    expect((await v3('bytes=100-199')).status).toBe(206);
    expect((await counted()).release10).toBe(before.release10);
    expect((await artifact('bytes=0-')).status).toBe(303);
    expect((await v3()).status).toBe(200);
    expect((await counted()).release10).toBe(before.release10 + 2);
  });
});
