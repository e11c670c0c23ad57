import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApp, TestApp, JSONAPI } from '../support/app';
import { ChildRun, runClientScript } from '../support/child-runner';
import { ElectronBuild, writeNsisBuild } from '../support/electron-build';
import { createLicense, createProduct, createProductToken, TestLicense, TestProduct } from '../support/catalogue.factories';
import { bearer, createAccount, TestAccount } from '../support/factories';
import { makeTestCertificate, startTlsFront, TestCertificate, TlsFront } from '../support/tls-front';

/**
 * The real electron-builder client against a running Shipgate (API.md section 11, "Real clients"):
 * electron-publish's KeygenPublisher publishes an NSIS installer, its .blockmap and stable.yml, and
 * electron-updater (its Keygen provider, and its generic provider on Shipgate's electron feed)
 * finds that release and downloads the installer with a license key.
 *
 * Both clients only speak https to a bare hostname, so the app sits behind a TLS front on port 443
 * (test/support/tls-front.ts) with PUBLIC_URL=https://localhost, and the clients run in child
 * processes that trust the test certificate through NODE_EXTRA_CA_CERTS. This is the only test file
 * that binds port 443; it fails (never skips) when it cannot.
 *
 * SHIPGATE_CLIENT_TRACE=<file> writes every request the clients sent, with Shipgate's answers, to
 * that file (Authorization reduced to its scheme).
 */

interface PublishResult {
  ok: boolean;
  error?: string;
  uploads: Array<{ file: string; ok: boolean; statusCode?: number; error?: string }>;
}

interface UpdateResult {
  ok: boolean;
  error?: string;
  version: string;
  updateAvailable: boolean;
  releaseDate: string;
  files: string[];
  fileUrl: string;
  bytes: number;
  sha512: string;
  blockmap?: { url: string; bytes: number; sha512Hex: string; version: string; blocks: number };
}

const VERSION = '1.2.0';

/** The client's report when it succeeded; otherwise a failure that shows what the client was told. */
function succeeded<T extends { ok: boolean }>(run: ChildRun<T>): T {
  if (!run.result.ok) {
    const stderr = run.stderr.trim() ? `\n--- its stderr ---\n${run.stderr.slice(-3000)}` : '';
    throw new Error(`the client failed:\n${JSON.stringify(run.result, null, 2)}${stderr}`);
  }
  return run.result;
}

describe('electron-builder publishes to Shipgate over TLS, electron-updater updates from it', () => {
  let cert: TestCertificate;
  let t: TestApp;
  let front: TlsFront;
  let account: TestAccount;
  let product: TestProduct;
  let productToken: string;
  let license: TestLicense;
  let work: string;
  let build: ElectronBuild;

  beforeAll(async () => {
    cert = makeTestCertificate();
    t = await startApp({ PUBLIC_URL: 'https://localhost' });
    front = await startTlsFront({ target: Number(new URL(t.baseUrl).port), certificate: cert });
    account = await createAccount(t);
    product = await createProduct(t, account, { name: 'Shipgate Demo' });
    productToken = (await createProductToken(t, account, product.id)).token;
    license = await createLicense(t, account, product.id);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-electron-'));
    build = writeNsisBuild(path.join(work, 'dist'), { productName: 'Shipgate Demo', version: VERSION, channel: 'stable' });
  }, 90_000);

  afterAll(async () => {
    if (process.env.SHIPGATE_CLIENT_TRACE && front) fs.writeFileSync(process.env.SHIPGATE_CLIENT_TRACE, JSON.stringify(front.requests, null, 2));
    await front?.close();
    await t?.close();
    cert?.remove();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** The publish config electron-builder resolves from `publish: {provider: "keygen", host, account, product, channel}` on Windows. */
  const publishConfig = () => ({ provider: 'keygen', host: 'localhost', account: account.id, product: product.id, channel: 'stable', platform: 'windows' });

  /** The update config electron-builder writes into the app (app-update.yml) for that publish config. */
  const keygenUpdateConfig = () => ({ provider: 'keygen', host: 'localhost', account: account.id, product: product.id, channel: 'stable', platform: 'windows' });

  const feedUrl = () => `https://localhost/v1/accounts/${account.id}/products/${product.id}/feeds/electron/?key=${license.key}`;

  const hex = (b: Buffer) => createHash('sha512').update(b).digest('hex');

  const v11 = (url: string) => t.http.get(url).set('Authorization', bearer(account.adminToken)).set('Accept', JSONAPI).set('Keygen-Version', '1.1');

  /** The app's update check and download, as electron-updater does them, with `config` as its update config. */
  const update = async (config: Record<string, unknown>, requestHeaders: Record<string, string> | null, dir: string) =>
    succeeded(
      await runClientScript<UpdateResult>(
        'update.cjs',
        { config, platform: 'win32', requestHeaders, currentVersion: '1.1.0', extension: 'exe', downloadDir: path.join(work, dir), blockmap: true },
        { caFile: cert.certFile },
      ),
    );

  it("electron-builder's KeygenPublisher publishes the installer, its blockmap and stable.yml in parallel with a product token", async () => {
    const uploads = [
      { file: build.installer, arch: 'x64' },
      { file: build.blockmap, arch: null },
      { file: build.channelFile, arch: null, asContent: true },
    ];
    const run = await runClientScript<PublishResult>(
      'publish.cjs',
      { config: publishConfig(), version: VERSION, uploads },
      { caFile: cert.certFile, env: { KEYGEN_TOKEN: productToken } },
    );
    expect(succeeded(run).uploads.map((u) => u.ok)).toEqual([true, true, true]);
    // it reached Shipgate through the TLS front, speaking Keygen API 1.1
    const posts = front.requests.filter((r) => r.method === 'POST' && r.url === `/v1/accounts/${account.id}/artifacts`);
    expect(posts).toHaveLength(3);
    expect(posts.every((r) => r.headers['keygen-version'] === '1.1')).toBe(true);
  });

  it('the release shows through API 1.1, published, with its three files uploaded', async () => {
    const release = await v11(`/v1/accounts/${account.id}/releases/${VERSION}?product=${product.id}`);
    expect(release.status).toBe(200);
    expect(release.headers['keygen-version']).toBe('1.1');
    expect(release.body.data.attributes).toMatchObject({ version: VERSION, channel: 'stable', status: 'PUBLISHED' });
    const artifacts = await v11(`/v1/accounts/${account.id}/releases/${release.body.data.id}/artifacts`);
    expect(artifacts.status).toBe(200);
    const byName = Object.fromEntries(
      (artifacts.body.data as Array<{ attributes: Record<string, unknown> }>).map((a) => [a.attributes.filename, a.attributes]),
    );
    expect(Object.keys(byName).sort()).toEqual(['Shipgate Demo Setup 1.2.0.exe', 'Shipgate Demo Setup 1.2.0.exe.blockmap', 'stable.yml']);
    for (const [file, bytes] of [
      [build.installer, build.installerBytes],
      [build.blockmap, build.blockmapBytes],
      [build.channelFile, build.channelFileBytes],
    ] as const) {
      expect(byName[path.basename(file)]).toMatchObject({ status: 'UPLOADED', filesize: bytes.length, sha512: hex(bytes), platform: 'windows' });
    }
  });

  it("electron-updater's Keygen provider reads the uploaded stable.yml with a license key, finds 1.2.0 and downloads the installer", async () => {
    // the app calls autoUpdater.addAuthHeader(`License ${key}`)
    const result = await update(keygenUpdateConfig(), { authorization: `License ${license.key}` }, 'keygen-provider');
    expect(result).toMatchObject({ version: VERSION, updateAvailable: true, bytes: build.installerBytes.length, sha512: build.sha512 });
    // the channel file is the one electron-builder uploaded, not one Shipgate generated
    expect(result.releaseDate).toBe(build.releaseDate);
    const channelFileRead = front.requests.find((r) => r.method === 'GET' && r.url === `/v1/accounts/${account.id}/artifacts/stable.yml?product=${product.id}`);
    expect(channelFileRead?.headers['keygen-version']).toBe('1.1');
    // the blockmap beside the installer, where the differential downloader looks for it
    expect(result.blockmap).toMatchObject({ bytes: build.blockmapBytes.length, sha512Hex: hex(build.blockmapBytes), version: '2' });
  });

  it("electron-updater's generic provider on Shipgate's electron feed finds the same release and downloads the installer", async () => {
    const result = await update({ provider: 'generic', url: feedUrl() }, null, 'generic-provider');
    expect(result).toMatchObject({ version: VERSION, updateAvailable: true, bytes: build.installerBytes.length, sha512: build.sha512 });
    expect(result.blockmap).toMatchObject({ bytes: build.blockmapBytes.length, sha512Hex: hex(build.blockmapBytes), version: '2' });
  });
});
