import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { HttpExecutor } from 'builder-util-runtime';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider';
import { XMLParser } from 'fast-xml-parser';
import { load } from 'js-yaml';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { fetchBytes, randomFile } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { constrainArtifact, createReleaseV11, uploadArtifactV11 } from '../support/v11.factories';

/** electron-builder's Node executor, as its own `NodeHttpExecutor` does it: plain http.request. */
class NodeExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    return http.request(options, callback);
  }
}

interface ElectronYaml {
  version: string;
  files: Array<{ url: string; sha512: string; size: number }>;
  path: string;
  sha512: string;
  releaseDate: string;
  releaseNotes?: string;
}

const sha512Base64 = (b: Buffer) => createHash('sha512').update(b).digest('base64');
const lastSegment = (url: string) => decodeURIComponent(new URL(url).pathname.split('/').pop()!);

/**
 * The update feeds (electron, Tauri, Sparkle) over releases published through API 1.1, each with
 * several artifacts (an installer and the files electron-builder writes beside it, a build per
 * platform and arch, one asking for an entitlement of its own). What an updater reads and
 * downloads, and the same answers from a server with the catalogue off (the SQL snapshot path).
 */
describe('feeds over API 1.1 releases (many artifacts per release)', () => {
  let t: TestApp;
  let sql: TestApp;
  let account: TestAccount;
  let productId: string;
  /** A license without the AIR_GAPPED entitlement, and one with it. */
  let pro: { id: string; key: string };
  let enterprise: { id: string; key: string };
  const bytes: Record<string, Buffer> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    t = await startApp({ PORT: String(port), PUBLIC_URL: publicUrl });
    // the same database, the catalogue off (every answer from a fresh snapshot), the same URLs written
    sql = await startApp({ CATALOGUE: 'false', PUBLIC_URL: publicUrl });
    account = await createAccount(t);
    productId = (await createProduct(t, account, { code: 'desk-11' })).id;
    const airGapped = (await createEntitlement(t, account, { code: 'AIR_GAPPED' })).id;
    pro = await createLicense(t, account, productId);
    enterprise = await createLicense(t, account, productId, { entitlementIds: [airGapped] });

    /** An artifact of `releaseId` with bytes of its own, kept under `name`. */
    const file = async (releaseId: string, name: string, attributes: Record<string, unknown>, size = 1024) => {
      bytes[name] = randomFile(size);
      ids[name] = await uploadArtifactV11(t, account, releaseId, { filename: name, ...attributes }, bytes[name]);
    };
    const v100 = await createReleaseV11(t, account, productId, '1.0.0', { description: 'First' });
    await file(v100.id, 'Desk-Setup-1.0.0.exe', { platform: 'windows' });
    await file(v100.id, 'Desk-Setup-1.0.0.exe.blockmap', { platform: 'windows' });
    await file(v100.id, 'Desk-1.0.0-mac.zip', { platform: 'mac', signature: 'ed-100' });
    await file(v100.id, 'desk_1.0.0_aarch64.AppImage.tar.gz', { platform: 'linux', arch: 'arm64', signature: 'sig-arm64-100' });

    const v110 = await createReleaseV11(t, account, productId, '1.1.0', { description: 'Faster sync' });
    // electron-builder's publisher: the installer, its blockmap and the channel file (platform, no arch)
    await file(v110.id, 'Desk-Setup-1.1.0.exe', { platform: 'windows', filetype: '.exe' }, 4096);
    await file(v110.id, 'Desk-Setup-1.1.0.exe.blockmap', { platform: 'windows' });
    await file(v110.id, 'latest.yml', { platform: 'windows' }, 300);
    // the air-gapped installer asks for AIR_GAPPED besides the release's (no) constraints
    await file(v110.id, 'Desk-1.1.0-airgapped.msi', { platform: 'windows' }, 2048);
    await constrainArtifact(t, account, ids['Desk-1.1.0-airgapped.msi'], [airGapped]);
    await file(v110.id, 'Desk-1.1.0-mac.zip', { platform: 'darwin', arch: 'amd64', signature: 'ed-x64' });
    await file(v110.id, 'Desk-1.1.0-arm64-mac.zip', { platform: 'darwin', arch: 'arm64', signature: 'ed-arm' });
    await file(v110.id, 'latest-mac.yml', { platform: 'darwin' }, 300);
    // Tauri's bundles: signed per arch (the arm64 one for AIR_GAPPED only), an unsigned AppImage, a detached .sig
    await file(v110.id, 'desk_1.1.0_amd64.AppImage.tar.gz', { platform: 'linux', arch: 'amd64', signature: 'sig-amd64-110' });
    await file(v110.id, 'desk_1.1.0_amd64.AppImage.tar.gz.sig', { platform: 'linux', arch: 'amd64' }, 100);
    await file(v110.id, 'desk_1.1.0_amd64.AppImage', { platform: 'linux', arch: 'amd64' });
    await file(v110.id, 'desk_1.1.0_aarch64.AppImage.tar.gz', { platform: 'linux', arch: 'arm64', signature: 'sig-arm64-110' });
    await constrainArtifact(t, account, ids['desk_1.1.0_aarch64.AppImage.tar.gz'], [airGapped]);
  });
  afterAll(async () => {
    await t.close();
    await sql.close();
  });

  const feeds = () => `/v1/accounts/${account.id}/products/${productId}/feeds`;
  const electron = async (file: string, key: string, on = t) => {
    const res = await on.http.get(`${feeds()}/electron/${file}?key=${key}`);
    return { status: res.status, yaml: res.status === 200 ? (load(res.text) as ElectronYaml) : null, text: res.text };
  };
  /** A file URL of an electron feed with the feed URL's query, as electron-updater makes it, followed to the bytes. */
  const download = async (url: string, key: string) => {
    const res = await fetch(`${url}?key=${encodeURIComponent(key)}`);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  describe('electron', () => {
    it('latest.yml lists the installer (not its blockmap nor the channel file), sha512 in base64, and its URL downloads with ?key=', async () => {
      const { status, yaml } = await electron('latest.yml', pro.key);
      expect(status).toBe(200);
      expect(yaml!.version).toBe('1.1.0');
      expect(yaml!.releaseNotes).toBe('Faster sync');
      expect(yaml!.files.map((f) => lastSegment(f.url))).toEqual(['Desk-Setup-1.1.0.exe']);
      const [installer] = yaml!.files;
      expect(installer).toEqual({ url: expect.stringMatching(new RegExp(`/artifacts/${ids['Desk-Setup-1.1.0.exe']}/Desk-Setup-1\\.1\\.0\\.exe$`)), sha512: sha512Base64(bytes['Desk-Setup-1.1.0.exe']), size: 4096 });
      expect(yaml!.path).toBe(installer.url);
      expect(yaml!.sha512).toBe(installer.sha512);

      const got = await download(installer.url, pro.key);
      expect(got.status).toBe(200);
      expect(got.body.equals(bytes['Desk-Setup-1.1.0.exe'])).toBe(true);
      // electron-updater reads the blockmap at the installer's URL + .blockmap, with the same query
      const blockmap = await download(`${installer.url}.blockmap`, pro.key);
      expect(blockmap.status).toBe(200);
      expect(blockmap.body.equals(bytes['Desk-Setup-1.1.0.exe.blockmap'])).toBe(true);
      // without a key the file URL is not a download
      expect((await fetchBytes(installer.url)).status).toBe(404);
    });

    it("electron-updater's GenericProvider resolves the installer, whose bytes match the feed's sha512", async () => {
      const provider = new GenericProvider({ provider: 'generic', url: `${t.baseUrl}${feeds()}/electron/?key=${pro.key}` }, { channel: null, isAddNoCacheQuery: false } as never, {
        executor: new NodeExecutor(),
        platform: 'win32',
        isUseMultipleRangeRequest: false,
      } as never);
      const info = await provider.getLatestVersion();
      const files = provider.resolveFiles(info);
      expect(files.map((f) => lastSegment(f.url.href))).toEqual(['Desk-Setup-1.1.0.exe']);
      expect(files[0].url.searchParams.get('key')).toBe(pro.key);
      const body = (await download(files[0].url.href.split('?')[0], pro.key)).body;
      expect(sha512Base64(body)).toBe(files[0].info.sha512);
    });

    it("a license lacking an artifact's own entitlement does not see that file; one holding it does", async () => {
      const proFeed = (await electron('latest.yml', pro.key)).yaml!;
      const enterpriseFeed = (await electron('latest.yml', enterprise.key)).yaml!;
      expect(enterpriseFeed.files.map((f) => lastSegment(f.url))).toEqual(['Desk-Setup-1.1.0.exe', 'Desk-1.1.0-airgapped.msi']);
      const msi = enterpriseFeed.files[1];
      expect(msi.sha512).toBe(sha512Base64(bytes['Desk-1.1.0-airgapped.msi']));
      expect((await download(msi.url, enterprise.key)).body.equals(bytes['Desk-1.1.0-airgapped.msi'])).toBe(true);
      // the Pro license: not in its feed, and the URL it could guess is not found
      expect(proFeed.files.map((f) => lastSegment(f.url))).not.toContain('Desk-1.1.0-airgapped.msi');
      expect((await download(msi.url, pro.key)).status).toBe(404);
    });

    it('latest-mac.yml lists both macOS builds (not latest-mac.yml); linux the amd64 files (not the .sig)', async () => {
      const mac = (await electron('latest-mac.yml', pro.key)).yaml!;
      expect(mac.version).toBe('1.1.0');
      expect(mac.files.map((f) => lastSegment(f.url)).sort()).toEqual(['Desk-1.1.0-arm64-mac.zip', 'Desk-1.1.0-mac.zip']);
      for (const f of mac.files) {
        const name = lastSegment(f.url);
        expect(f.sha512).toBe(sha512Base64(bytes[name]));
        expect((await download(f.url, pro.key)).body.equals(bytes[name])).toBe(true);
      }
      const linux = (await electron('latest-linux.yml', pro.key)).yaml!;
      expect(linux.files.map((f) => lastSegment(f.url))).toEqual(['desk_1.1.0_amd64.AppImage', 'desk_1.1.0_amd64.AppImage.tar.gz']);
      // the arm64 build of 1.1.0 is AIR_GAPPED's: the Pro license is offered 1.0.0's
      expect((await electron('latest-linux-arm64.yml', pro.key)).yaml!.version).toBe('1.0.0');
      expect((await electron('latest-linux-arm64.yml', enterprise.key)).yaml!.version).toBe('1.1.0');
    });
  });

  describe('Tauri', () => {
    const tauri = (query: string, on = t) => on.http.get(`${feeds()}/tauri?${query}`);

    it("picks the signed bundle of the target and arch (signature = that artifact's), whose URL downloads it", async () => {
      const res = await tauri(`target=linux&arch=x86_64&current_version=1.0.0&key=${pro.key}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version: '1.1.0', signature: 'sig-amd64-110', notes: 'Faster sync', critical: false });
      expect(lastSegment(res.body.url)).toBe('desk_1.1.0_amd64.AppImage.tar.gz');
      const file = await fetchBytes(res.body.url);
      expect(file.status).toBe(200);
      expect(file.body.equals(bytes['desk_1.1.0_amd64.AppImage.tar.gz'])).toBe(true);
      expect((await tauri(`target=linux&arch=x86_64&current_version=1.1.0&key=${pro.key}`)).status).toBe(204);
    });

    it("the arm64 bundle: AIR_GAPPED's in 1.1.0, so the Pro license is offered nothing newer than 1.0.0's", async () => {
      const enterpriseAnswer = await tauri(`target=linux&arch=aarch64&current_version=1.0.0&key=${enterprise.key}`);
      expect(enterpriseAnswer.status).toBe(200);
      expect(enterpriseAnswer.body).toMatchObject({ version: '1.1.0', signature: 'sig-arm64-110' });
      expect((await fetchBytes(enterpriseAnswer.body.url)).body.equals(bytes['desk_1.1.0_aarch64.AppImage.tar.gz'])).toBe(true);
      expect((await tauri(`target=linux&arch=aarch64&current_version=1.0.0&key=${pro.key}`)).status).toBe(204);
      const older = await tauri(`target=linux&arch=aarch64&current_version=0.9.0&key=${pro.key}`);
      expect(older.body).toMatchObject({ version: '1.0.0', signature: 'sig-arm64-100' });
      // Keygen's route answers the same
      const keygen = await t.http.get(`/v1/accounts/${account.id}/engines/tauri/${productId}?platform=linux&arch=aarch64&version=1.0.0&key=${enterprise.key}`);
      expect(keygen.body).toMatchObject({ version: '1.1.0', signature: 'sig-arm64-110' });
    });
  });

  describe('Sparkle', () => {
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'item' });

    it("lists the 1.1 releases' darwin artifacts: enclosure = the artifact, sparkle:edSignature = its signature", async () => {
      const res = await t.http.get(`${feeds()}/sparkle/appcast.xml?key=${pro.key}`);
      expect(res.status).toBe(200);
      const items = parser.parse(res.text).rss.channel.item as Array<Record<string, any>>;
      expect(items.map((i) => i['sparkle:shortVersionString'])).toEqual(['1.1.0', '1.0.0']);
      // one file per version: the newest of the signed zips of 1.1.0 (the arm64 one), 1.0.0's only zip
      const expected = [
        ['Desk-1.1.0-arm64-mac.zip', 'ed-arm'],
        ['Desk-1.0.0-mac.zip', 'ed-100'],
      ];
      for (const [i, [name, signature]] of expected.entries()) {
        const enclosure = items[i].enclosure;
        expect({ file: lastSegment(enclosure['@url']), signature: enclosure['@sparkle:edSignature'], length: Number(enclosure['@length']) }).toEqual({ file: name, signature, length: 1024 });
        const got = await fetchBytes(enclosure['@url']);
        expect(got.status).toBe(200);
        expect(got.body.equals(bytes[name])).toBe(true);
      }
      expect(items[0].description).toBe('Faster sync');
    });
  });

  it('every feed answers the same with the catalogue off (SQL snapshot) as from memory, for each license', async () => {
    // signed URLs differ only by their second of expiry (and so their signature)
    const stable = (text: string) => text.replace(/expires=\d+/g, 'expires=<t>').replace(/signature=[0-9a-f]+/g, 'signature=<s>');
    const paths = (key: string) => [
      ...['latest.yml', 'latest-mac.yml', 'latest-linux.yml', 'latest-linux-arm64.yml', 'beta.yml', 'latest.yml?version=1.0.0&x=1'].map(
        (file) => `${feeds()}/electron/${file}${file.includes('?') ? '&' : '?'}key=${key}`,
      ),
      `${feeds()}/tauri?target=linux&arch=x86_64&current_version=1.0.0&key=${key}`,
      `${feeds()}/tauri?target=linux&arch=aarch64&current_version=0.9.0&key=${key}`,
      `${feeds()}/tauri?target=linux&arch=aarch64&current_version=1.0.0&key=${key}`,
      `${feeds()}/tauri?target=macos&arch=aarch64&current_version=1.0.0&key=${key}`,
      `${feeds()}/tauri?target=windows&arch=x86_64&current_version=1.0.0&key=${key}`,
      `/v1/accounts/${account.id}/engines/tauri/desk-11?platform=linux&arch=x86_64&version=1.0.0&key=${key}`,
      `${feeds()}/sparkle/appcast.xml?key=${key}`,
      `${feeds()}/sparkle/appcast.xml?channel=beta&key=${key}`,
    ];
    let compared = 0;
    for (const key of [pro.key, enterprise.key]) {
      for (const path of paths(key)) {
        const [a, b] = await Promise.all([t.http.get(path), sql.http.get(path)]);
        expect({ path, status: b.status, body: stable(b.text) }).toEqual({ path, status: a.status, body: stable(a.text) });
        if (a.status === 200) compared++;
      }
    }
    expect(compared).toBeGreaterThan(15);
  });
});
