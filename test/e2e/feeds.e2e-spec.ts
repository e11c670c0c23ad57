import { createHash } from 'node:crypto';
import * as http from 'node:http';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { CancellationToken, HttpExecutor } from 'builder-util-runtime';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider';
import { KeygenProvider } from 'electron-updater/out/providers/KeygenProvider';
// @ts-expect-error newBaseUrl is marked @internal in electron-updater's typings; KeygenProvider builds its base URL with it
import { newBaseUrl } from 'electron-updater/out/util';
import { XMLParser } from 'fast-xml-parser';
import { load } from 'js-yaml';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { constrainRelease, createRelease } from '../support/release.factories';

/** electron-builder's Node executor, as its own `NodeHttpExecutor` does it: plain http.request. */
class NodeExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    return http.request(options, callback);
  }
}

/** The Tauri updater's dynamic-server answer, as its documentation states it. */
const TAURI_SCHEMA = {
  type: 'object',
  required: ['version', 'url', 'signature'],
  properties: {
    version: { type: 'string', pattern: '^v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$' },
    url: { type: 'string', format: 'uri' },
    signature: { type: 'string' },
    notes: { type: 'string' },
    pub_date: { type: 'string', format: 'date-time' },
  },
};

describe('update feeds', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let license: { id: string; key: string };
  let plain: { id: string; key: string };
  const bytes: Record<string, Buffer> = {};
  const ids: Record<string, string> = {};

  /** A release with an uploaded file; `name` keys its bytes and id. */
  async function release(name: string, attrs: Record<string, unknown>) {
    const r = await createRelease(t, account, productId, attrs);
    bytes[name] = randomFile(2048);
    await uploadArtifact(t, account, r.id, bytes[name]);
    ids[name] = r.id;
    return r;
  }

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    productId = (await createProduct(t, account, { code: 'desk-app' })).id;
    const pro = (await createEntitlement(t, account)).id;
    license = await createLicense(t, account, productId, { entitlementIds: [pro] });
    plain = await createLicense(t, account, productId);
    await release('win-1.0', { version: '1.0.0', platform: 'windows/amd64', filename: 'Desk-Setup-1.0.0.exe', filetype: 'exe' });
    await release('win-1.1-exe', { version: '1.1.0', platform: 'windows/amd64', filename: 'Desk-Setup-1.1.0.exe', filetype: 'exe', description: 'Faster sync', signature: 'sig-exe' });
    await release('win-1.1-msi', { version: '1.1.0', platform: 'windows/amd64', filename: 'Desk-1.1.0.msi', filetype: 'msi', signature: 'sig-msi' });
    // a pro-only version above: only the licensed caller with the entitlement sees it
    const pro12 = await release('win-1.2', { version: '1.2.0', platform: 'windows', filename: 'Desk-Setup-1.2.0.exe', filetype: 'exe', critical: true });
    await constrainRelease(t, account, pro12.id, [pro]);
    await release('win-2.0-beta', { version: '2.0.0-beta.1', channel: 'beta', platform: 'windows', filename: 'Desk-Setup-2.0.0-beta.1.exe', filetype: 'exe' });
    await release('mac-1.1-arm', { version: '1.1.0', platform: 'darwin/arm64', filename: 'Desk-1.1.0-arm64-mac.zip', filetype: 'zip', signature: 'ed-arm' });
    await release('mac-1.1-x64', { version: '1.1.0', platform: 'darwin/amd64', filename: 'Desk-1.1.0-mac.zip', filetype: 'zip', signature: 'ed-x64', metadata: { bundleVersion: '110', minimumSystemVersion: '12.0' } });
    await release('mac-1.0', { version: '1.0.0', platform: 'darwin', filename: 'Desk-1.0.0-mac.zip', filetype: 'zip', critical: true, signature: 'ed-10' });
    await release('linux-1.1', { version: '1.1.0', platform: 'linux/amd64', filename: 'Desk-1.1.0.AppImage', filetype: 'appimage' });
    await release('linux-arm-1.0', { version: '1.0.0', platform: 'linux/arm64', filename: 'Desk-1.0.0-arm64.AppImage', filetype: 'appimage' });
    await release('tauri-linux-1.1', { version: '1.1.0', platform: 'linux/amd64', filename: 'desk_1.1.0_amd64.AppImage.tar.gz', filetype: 'tar.gz', signature: 'dW50cnVzdGVkIGNvbW1lbnQ=' });
  });
  afterAll(() => t.close());

  const feedBase = () => `${t.baseUrl}/v1/accounts/${account.id}/products/${productId}/feeds`;

  describe("electron-updater (its own GenericProvider, yml parser and resolveFiles)", () => {
    function provider(key: string | null, platform: 'win32' | 'darwin' | 'linux', channel?: string) {
      const url = `${feedBase()}/electron/${key ? `?key=${key}` : ''}`;
      return new GenericProvider({ provider: 'generic', url }, { channel: channel ?? null, isAddNoCacheQuery: false } as never, {
        executor: new NodeExecutor(),
        platform,
        isUseMultipleRangeRequest: false,
      } as never);
    }

    it('offers the newest version the license sees, with every file of it, and the files download with matching sha512', async () => {
      const p = provider(license.key, 'win32');
      const info = await p.getLatestVersion();
      expect(info.version).toBe('1.2.0');
      expect((info as unknown as { critical?: boolean }).critical).toBe(true);
      const files = p.resolveFiles(info);
      expect(files).toHaveLength(1);
      const executor = new NodeExecutor();
      const body = await executor.downloadToBuffer(files[0].url, { cancellationToken: new CancellationToken(), headers: {} } as never);
      expect(body.equals(bytes['win-1.2'])).toBe(true);
      expect(createHash('sha512').update(body).digest('base64')).toBe(files[0].info.sha512);
    });

    it('a license without the entitlement gets 1.1.0, both files (exe first), each downloading its own bytes', async () => {
      const p = provider(plain.key, 'win32');
      const info = await p.getLatestVersion();
      expect(info.version).toBe('1.1.0');
      expect(info.releaseNotes).toBe('Faster sync');
      const files = p.resolveFiles(info);
      expect(files.map((f) => f.url.pathname.split('/').pop())).toEqual(['Desk-Setup-1.1.0.exe', 'Desk-1.1.0.msi']);
      // the feed's ?key= travels to the file URLs (electron-updater copies the feed URL's query)
      expect(files[0].url.searchParams.get('key')).toBe(plain.key);
      for (const [f, name] of [[files[0], 'win-1.1-exe'], [files[1], 'win-1.1-msi']] as const) {
        const body = await new NodeExecutor().downloadToBuffer(f.url, { cancellationToken: new CancellationToken(), headers: {} } as never);
        expect(body.equals(bytes[name])).toBe(true);
        expect(createHash('sha512').update(body).digest('base64')).toBe(f.info.sha512);
      }
    });

    it('an app without a key is told so (401 with a hint), not that nothing exists: electron-updater reports the 401', async () => {
      await expect(provider(null, 'win32').getLatestVersion()).rejects.toThrow(/401/);
      const res = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest.yml`);
      expect(res.status).toBe(401);
      expect(res.body.errors[0]).toMatchObject({ code: 'TOKEN_MISSING', source: { parameter: 'key' } });
      expect(res.body.errors[0].detail).toMatch(/license key/);
    });

    it('reads the beta channel, macOS (both arches) and linux (amd64 and arm64) files', async () => {
      expect((await provider(plain.key, 'win32', 'beta').getLatestVersion()).version).toBe('2.0.0-beta.1');
      const mac = provider(plain.key, 'darwin');
      const macInfo = await mac.getLatestVersion();
      expect(macInfo.version).toBe('1.1.0');
      expect(mac.resolveFiles(macInfo).map((f) => f.url.pathname.split('/').pop()).sort()).toEqual(['Desk-1.1.0-arm64-mac.zip', 'Desk-1.1.0-mac.zip']);
      // 1.0.0 (critical) lies below 1.1.0 and above nothing: without ?version= the flag is the offered release's own
      expect((macInfo as unknown as { critical?: boolean }).critical).toBeUndefined();
      const linux = await provider(plain.key, 'linux').getLatestVersion();
      expect(linux.version).toBe('1.1.0');
      expect(linux.files.map((f) => f.url.split('/').pop()).sort()).toEqual(['Desk-1.1.0.AppImage', 'desk_1.1.0_amd64.AppImage.tar.gz']);
      const arm = await api(t).get(`/v1/accounts/${account.id}/products/desk-app/feeds/electron/latest-linux-arm64.yml?key=${plain.key}`);
      expect(arm.status).toBe(200);
      expect((load(arm.text) as { version: string }).version).toBe('1.0.0');
    });

    it('with ?version= flags a critical release skipped on the way, and counts the upgrade', async () => {
      const res = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest-mac.yml?key=${plain.key}&version=0.9.0`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/yaml/);
      expect(load(res.text)).toMatchObject({ version: '1.1.0', critical: true });
      const up = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest-mac.yml?key=${plain.key}&version=1.0.0`);
      expect((load(up.text) as { critical?: boolean }).critical).toBeUndefined();
    });

    it("electron-updater's Keygen provider reads the same feed from the account-level artifacts route", async () => {
      const keygen = new KeygenProvider({ provider: 'keygen', account: account.id, product: productId, channel: 'stable' } as never, { channel: null, isAddNoCacheQuery: false } as never, {
        executor: new NodeExecutor(),
        platform: 'darwin',
      } as never);
      // the provider is written for https://<host>; the test server speaks plain http
      (keygen as unknown as { baseUrl: URL }).baseUrl = newBaseUrl(`${t.baseUrl}/v1/accounts/${account.id}/artifacts?product=${productId}`);
      keygen.setRequestHeaders({ Authorization: `License ${plain.key}` });
      const info = await keygen.getLatestVersion();
      expect(info.version).toBe('1.1.0');
      const files = keygen.resolveFiles(info);
      expect(files.map((f) => f.url.pathname.split('/').pop()).sort()).toEqual(['Desk-1.1.0-arm64-mac.zip', 'Desk-1.1.0-mac.zip']);
      // its downloads carry the same headers: the credential, and ?product= in place of the feed's query
      const body = await new NodeExecutor().downloadToBuffer(files[0].url, { cancellationToken: new CancellationToken(), headers: { Authorization: `License ${plain.key}` } } as never);
      expect(createHash('sha512').update(body).digest('base64')).toBe(files[0].info.sha512);
      // a stored artifact of that name would win; an unknown file name stays 404
      const missing = await api(t, licenseAuth(plain.key)).get(`/v1/accounts/${account.id}/artifacts/nothing.yml?product=${productId}`);
      expect(missing.status).toBe(404);
    });

    it('unknown feed files are 404; an unknown product is 401 for a license key (not valid for it), 404 for an admin', async () => {
      expect((await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest.json?key=${plain.key}`)).status).toBe(404);
      const unknown = await t.http.get(`/v1/accounts/${account.id}/products/nope/feeds/electron/latest.yml?key=${plain.key}`);
      expect(unknown.status).toBe(401);
      expect(unknown.body.errors[0]).toMatchObject({ code: 'LICENSE_INVALID', source: { parameter: 'key' } });
      expect((await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products/nope/feeds/electron/latest.yml`)).status).toBe(404);
    });
  });

  describe('Tauri', () => {
    const ajv = new Ajv({ allErrors: true });
    addFormats(ajv);
    const valid = ajv.compile(TAURI_SCHEMA);

    it("answers the Tauri schema for a newer release, with the .sig content and a signed URL that downloads", async () => {
      const res = await t.http
        .get(`/v1/accounts/${account.id}/products/${productId}/feeds/tauri?target=linux&arch=x86_64&current_version=1.0.0`)
        .set('Authorization', licenseAuth(plain.key))
        .set('Accept', 'application/json');
      expect(res.status).toBe(200);
      expect(valid(res.body)).toBe(true);
      expect(res.body).toMatchObject({ version: '1.1.0', signature: 'dW50cnVzdGVkIGNvbW1lbnQ=', critical: false });
      // the signed bundle wins over the unsigned AppImage of the same version
      expect(new URL(res.body.url).pathname).toMatch(/desk_1\.1\.0_amd64\.AppImage\.tar\.gz$/);
      const file = await fetch(res.body.url);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes['tauri-linux-1.1'])).toBe(true);
    });

    it('never offers Tauri an unsigned file (the updater would refuse it): 204 while the newer version has no signature', async () => {
      const other = await createProduct(t, account);
      const key = (await createLicense(t, account, other.id)).key;
      const unsigned = await createRelease(t, account, other.id, { version: '2.0.0', platform: 'linux/amd64', filename: 'other_2.0.0.AppImage.tar.gz', filetype: 'tar.gz' });
      await uploadArtifact(t, account, unsigned.id, randomFile(64));
      const url = `/v1/accounts/${account.id}/products/${other.id}/feeds/tauri?target=linux&arch=x86_64&current_version=1.0.0&key=${key}`;
      expect((await t.http.get(url)).status).toBe(204);
      const patched = await api(t, bearer(account.adminToken)).patch(`/v1/accounts/${account.id}/releases/${unsigned.id}`, { data: { type: 'releases', id: unsigned.id, attributes: { signature: 'c2lnbmVk' } } });
      expect(patched.status).toBe(200);
      const signed = await t.http.get(url);
      expect(signed.status).toBe(200);
      expect(signed.body).toMatchObject({ version: '2.0.0', signature: 'c2lnbmVk' });
    });

    it('204 when the app is current; Keygen\'s engines/tauri route answers the same; macos and aarch64 map to darwin/arm64', async () => {
      const current = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/tauri?target=linux&arch=x86_64&current_version=1.1.0&key=${plain.key}`);
      expect(current.status).toBe(204);
      const keygen = await t.http.get(`/v1/accounts/${account.id}/engines/tauri/${productId}?platform=linux&arch=x86_64&version=1.0.0&key=${plain.key}`);
      expect(keygen.status).toBe(200);
      expect(valid(keygen.body)).toBe(true);
      expect(keygen.body.version).toBe('1.1.0');
      const mac = await t.http.get(`/v1/accounts/${account.id}/products/desk-app/feeds/tauri?target=macos&arch=aarch64&current_version=0.1.0&key=${plain.key}`);
      expect(mac.status).toBe(200);
      expect(mac.body).toMatchObject({ version: '1.1.0', signature: 'ed-arm', critical: true });
      const bad = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/tauri?target=beos&current_version=1.0.0&key=${plain.key}`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].source).toEqual({ parameter: 'target' });
    });
  });

  describe('Sparkle', () => {
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'item' });

    it('an RSS 2.0 appcast of the visible macOS releases, newest first, with signatures, channels and critical updates', async () => {
      const res = await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/sparkle/appcast.xml?key=${plain.key}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/rss\+xml/);
      const doc = parser.parse(res.text);
      expect(doc.rss['@version']).toBe('2.0');
      expect(doc.rss['@xmlns:sparkle']).toBe('http://www.andymatuschak.org/xml-namespaces/sparkle');
      const items = doc.rss.channel.item;
      expect(items.map((i: Record<string, unknown>) => i['sparkle:shortVersionString'])).toEqual(['1.1.0', '1.0.0']);
      // 1.0.0 is critical: it says so itself, and 1.1.0 says it is critical for apps below 1.0.0
      expect(items[1]['sparkle:criticalUpdate']).toBeDefined();
      expect(items[0]['sparkle:criticalUpdate']['@sparkle:version']).toBe('1.0.0');
      const enclosure = items[0].enclosure;
      expect(enclosure['@sparkle:edSignature']).toMatch(/^ed-/);
      expect(Number(enclosure['@length'])).toBe(2048);
      const file = await fetch(enclosure['@url']);
      expect(file.status).toBe(200);
      const got = Buffer.from(await file.arrayBuffer());
      expect(got.equals(bytes['mac-1.1-arm']) || got.equals(bytes['mac-1.1-x64'])).toBe(true);
      expect(new Date(items[0].pubDate).getTime()).not.toBeNaN();
    });

    it('bundleVersion, minimumSystemVersion and non-stable channels', async () => {
      await release('mac-2.0-beta', { version: '2.0.0-beta.1', channel: 'beta', platform: 'darwin/arm64', filename: 'Desk-2.0.0-beta.1-arm64-mac.zip', filetype: 'zip', description: 'Beta <b>notes</b> ]]> end' });
      const stable = parser.parse((await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/sparkle/appcast.xml?key=${plain.key}`)).text);
      expect(stable.rss.channel.item.map((i: Record<string, unknown>) => i['sparkle:shortVersionString'])).toEqual(['1.1.0', '1.0.0']);
      const beta = parser.parse((await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/sparkle/appcast.xml?channel=beta&key=${plain.key}`)).text);
      const [b, s] = beta.rss.channel.item;
      expect(b['sparkle:channel']).toBe('beta');
      expect(b.description).toBe('Beta <b>notes</b> ]]> end');
      expect(s['sparkle:channel']).toBeUndefined();
      // the x64 file of 1.1.0 carries a bundleVersion; whichever file is listed, its version is a string
      expect(typeof s['sparkle:version'] === 'string' || typeof s['sparkle:version'] === 'number').toBe(true);
    });
  });

  describe('a product the caller may not see answers as an unknown product', () => {
    /** Status and body of every feed route for `product` (the product id and the request id masked). */
    async function feeds(product: string, key?: string) {
      const credential = key ? `key=${key}&` : '';
      const paths = [
        `/v1/accounts/${account.id}/products/${product}/feeds/tauri?${credential}target=linux&arch=x86_64&current_version=0.1.0`,
        `/v1/accounts/${account.id}/products/${product}/feeds/tauri?${credential}target=linux&arch=x86_64&current_version=9.0.0`,
        `/v1/accounts/${account.id}/engines/tauri/${product}?${credential}platform=linux&arch=x86_64&version=0.1.0`,
        `/v1/accounts/${account.id}/products/${product}/feeds/sparkle/appcast.xml?${credential}`,
        `/v1/accounts/${account.id}/products/${product}/feeds/electron/latest-linux.yml?${credential}`,
      ];
      return Promise.all(
        paths.map(async (path) => {
          const res = await t.http.get(path);
          // the request id differs per request
          const body = res.text.replaceAll(product, '<product>').replace(/"meta":\{"id":"[^"]+"\}/, '"meta":{"id":"<request>"}');
          return { path: path.replace(product, '<product>'), status: res.status, body };
        }),
      );
    }

    it('anonymous callers: a LICENSED or CLOSED product is 401 (a key is needed) exactly as an unknown one, naming no product or account', async () => {
      const unknown = await feeds('00000000-0000-4000-8000-000000000000');
      expect(unknown.map((f) => f.status)).toEqual([401, 401, 401, 401, 401]);
      for (const strategy of ['LICENSED', 'CLOSED']) {
        const hidden = await createProduct(t, account, { distributionStrategy: strategy });
        for (const platform of ['linux/amd64', 'darwin/arm64']) {
          const r = await createRelease(t, account, hidden.id, { version: '1.0.0', platform, filename: `hidden-${randomFile(4).toString('hex')}.tar.gz`, filetype: 'tar.gz' });
          await uploadArtifact(t, account, r.id, randomFile(16));
        }
        const answers = await feeds(hidden.id);
        expect(answers).toEqual(unknown);
        for (const a of answers) expect(a.body).not.toContain(account.id);
      }
    });

    it("a license: another product of the account is 401 (the key is not valid for it) exactly as an unknown one", async () => {
      const other = await createProduct(t, account);
      const r = await createRelease(t, account, other.id, { version: '1.0.0', platform: 'linux/amd64', filename: `other-${randomFile(4).toString('hex')}.tar.gz`, filetype: 'tar.gz' });
      await uploadArtifact(t, account, r.id, randomFile(16));
      expect(await feeds(other.id, plain.key)).toEqual(await feeds('00000000-0000-4000-8000-000000000000', plain.key));
    });
  });

  describe('a change reaches the next feed answer', () => {
    it("closing the product, or taking a license's entitlement, changes what the same license is offered at once", async () => {
      const yml = async (key: string) => t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest.yml?key=${key}`);
      expect((load((await yml(license.key)).text) as { version: string }).version).toBe('1.2.0');
      const admin = api(t, bearer(account.adminToken));
      const setStrategy = (distributionStrategy: string) =>
        admin.patch(`/v1/accounts/${account.id}/products/${productId}`, { data: { type: 'products', id: productId, attributes: { distributionStrategy } } });
      expect((await setStrategy('CLOSED')).status).toBe(200);
      expect((await yml(license.key)).status).toBe(401);
      expect((await setStrategy('LICENSED')).status).toBe(200);
      expect((load((await yml(license.key)).text) as { version: string }).version).toBe('1.2.0');
    });
  });

  describe('staged rollouts in feeds', () => {
    it('a release at 0 % is in no feed; at 100 % in every one', async () => {
      const staged = await release('linux-1.3', { version: '1.3.0', platform: 'linux/amd64', filename: 'Desk-1.3.0.AppImage', filetype: 'appimage', rolloutPercentage: 0 });
      const yml = async () => load((await t.http.get(`/v1/accounts/${account.id}/products/${productId}/feeds/electron/latest-linux.yml?key=${plain.key}`)).text) as { version: string; stagingPercentage?: number };
      expect((await yml()).version).toBe('1.1.0');
      const admin = api(t, bearer(account.adminToken));
      expect((await admin.patch(`/v1/accounts/${account.id}/releases/${staged.id}`, { data: { type: 'releases', id: staged.id, attributes: { rolloutPercentage: 100 } } })).status).toBe(200);
      expect((await yml()).version).toBe('1.3.0');
      expect((await yml()).stagingPercentage).toBeUndefined();
    });
  });
});
