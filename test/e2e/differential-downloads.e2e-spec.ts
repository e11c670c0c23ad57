import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApp, TestApp } from '../support/app';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { fetchBytes, getArtifact, releaseAttributes, uploadArtifact } from '../support/artifact.factories';
import { BlockMappedFile, ProxiedExchange, readBlockMap, startRecordingProxy, twoVersions, updateDifferentially, writeBlockMapped } from '../support/blockmaps';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/**
 * electron-updater's differential download against Shipgate: two versions of an installer with
 * real blockmaps (electron-builder's own code), the new one published through the 1.0 upload flow,
 * then electron-updater's GenericDifferentialDownloader turns the old file into the new one from a
 * signed download URL, fetching only the blocks that changed. A recording proxy in front of the
 * server (its PUBLIC_URL, so that every URL it hands out goes through it) tells what was asked and
 * what was transferred.
 */

const SIZE = 16 * 1024 * 1024;
const EDITS = 200;

/** The response bytes of these exchanges. */
const transferred = (exchanges: ProxiedExchange[]) => exchanges.reduce((sum, e) => sum + e.bytes, 0);

/** The ranges a `Range: bytes=a-b, c-d, ...` header names. */
const rangesIn = (header: string | undefined) => (header ?? '').replace(/^bytes=/, '').split(',').filter((s) => s.trim()).length;

interface Published {
  account: TestAccount;
  licenseKey: string;
  installerId: string;
  blockMapId: string;
}

/** The new version as a vendor publishes it: the installer and its `.blockmap`, each a 1.0 release with its file uploaded. */
async function publish(t: TestApp, next: BlockMappedFile): Promise<Published> {
  const account = await createAccount(t);
  const product = await createProduct(t, account);
  const licenseKey = (await createLicense(t, account, product.id)).key;
  const attrs = { version: '1.1.0', channel: 'stable', platform: 'windows' };
  const installer = await createRelease(t, account, product.id, { ...attrs, filename: 'Desk-Setup-1.1.0.exe', filetype: 'exe' });
  await uploadArtifact(t, account, installer.id, fs.readFileSync(next.path));
  const blockMap = await createRelease(t, account, product.id, { ...attrs, filename: 'Desk-Setup-1.1.0.exe.blockmap', filetype: 'blockmap' });
  await uploadArtifact(t, account, blockMap.id, fs.readFileSync(next.blockMapPath));
  return { account, licenseKey, installerId: installer.id, blockMapId: blockMap.id };
}

/** A license's signed download URL of a release's file (through the proxy: it is the PUBLIC_URL). */
async function signedUrl(t: TestApp, p: Published, releaseId: string): Promise<string> {
  const res = await getArtifact(t, p.account, releaseId, licenseAuth(p.licenseKey));
  if (res.status !== 303) throw new Error(`no download URL: ${res.status}`);
  return res.headers.location;
}

type Proxy = Awaited<ReturnType<typeof startRecordingProxy>>;

/** The app with a recording proxy in front, as its PUBLIC_URL: every URL it hands out goes through the proxy. */
async function startBehindProxy(env: Record<string, string> = {}): Promise<{ t: TestApp; proxy: Proxy }> {
  const port = await freeLoopbackPort();
  const proxy = await startRecordingProxy(`http://127.0.0.1:${port}`);
  const t = await startApp({ ...env, PORT: String(port), PUBLIC_URL: proxy.url });
  return { t, proxy };
}

/** The exchanges `run` caused through the proxy. */
async function recorded(proxy: Proxy, run: () => Promise<unknown>): Promise<ProxiedExchange[]> {
  proxy.exchanges.length = 0;
  await run();
  return [...proxy.exchanges];
}

describe('differential downloads (electron-updater)', () => {
  let dir: string;
  let previous: BlockMappedFile;
  let next: BlockMappedFile;
  let expected: Buffer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-differential-'));
    const versions = twoVersions(SIZE, EDITS);
    expected = versions.next;
    previous = await writeBlockMapped(path.join(dir, 'Desk-Setup-1.0.0.exe'), versions.previous);
    next = await writeBlockMapped(path.join(dir, 'Desk-Setup-1.1.0.exe'), versions.next);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('local storage', () => {
    let t: TestApp;
    let proxy: Proxy;
    let published: Published;

    beforeAll(async () => {
      ({ t, proxy } = await startBehindProxy());
      published = await publish(t, next);
    });
    afterAll(async () => {
      await t.close();
      await proxy.close();
    });

    it('serves the .blockmap as electron-builder wrote it', async () => {
      const file = await fetchBytes(await signedUrl(t, published, published.blockMapId));
      expect(file.status).toBe(200);
      expect(readBlockMap(file.body)).toEqual(next.blockMap);
    });

    it('updates the old file to the new one with multi-range requests (206 multipart/byteranges), transferring a fraction of it', async () => {
      const url = await signedUrl(t, published, published.installerId);
      const out = path.join(dir, 'multi.exe');
      let log: string[] = [];
      const exchanges = await recorded(proxy, async () => (log = await updateDifferentially({ previous, next, url, out, multipleRanges: true })));
      expect(fs.readFileSync(out).equals(expected)).toBe(true);

      expect(exchanges.length).toBeGreaterThan(0);
      for (const e of exchanges) {
        expect({ method: e.method, status: e.status, type: e.contentType }).toEqual({ method: 'GET', status: 206, type: expect.stringMatching(/^multipart\/byteranges; boundary=/) });
      }
      // one request asks for every changed block (electron-updater batches 1000 operations)
      expect(rangesIn(exchanges[0].range)).toBeGreaterThanOrEqual(EDITS / 2);
      expect(transferred(exchanges)).toBeLessThan(SIZE / 2);
      expect(log.join('\n')).not.toMatch(/^(warn|error):/m);
      // one signed URL, one counted download, however many requests the update made
      expect((await releaseAttributes(t, published.account, published.installerId)).downloads).toBe(1);
    });

    it('updates it from the URL an electron feed lists (the license key, then 303 to a signed URL, which Electron follows)', async () => {
      const signed = new URL(await signedUrl(t, published, published.installerId));
      const url = `${proxy.url}${signed.pathname}?key=${published.licenseKey}`;
      const out = path.join(dir, 'feed.exe');
      const exchanges = await recorded(proxy, () => updateDifferentially({ previous, next, url, out, multipleRanges: true, followRedirects: true }));
      expect(fs.readFileSync(out).equals(expected)).toBe(true);
      expect(exchanges.map((e) => [e.status, rangesIn(e.range) > 1])).toEqual([
        [303, true],
        [206, true],
      ]);
    });

    it("one range per request through the feed's file URL: a 303 to a signed URL each, and the update counts one download at most", async () => {
      const signed = new URL(await signedUrl(t, published, published.installerId));
      const url = `${proxy.url}${signed.pathname}?key=${published.licenseKey}`;
      const downloads = async () => (await releaseAttributes(t, published.account, published.installerId)).downloads as number;
      const before = await downloads();
      const out = path.join(dir, 'feed-single.exe');
      const exchanges = await recorded(proxy, () => updateDifferentially({ previous, next, url, out, multipleRanges: false, followRedirects: true }));
      expect(fs.readFileSync(out).equals(expected)).toBe(true);
      const redirects = exchanges.filter((e) => e.status === 303);
      expect(redirects.length).toBeGreaterThanOrEqual(EDITS / 2);
      // only a request whose Range starts at byte 0 is a new download (docs/updaters.md)
      const fromStart = redirects.filter((e) => /^bytes=0-/.test(e.range ?? '')).length;
      expect(fromStart).toBeLessThanOrEqual(1);
      expect((await downloads()) - before).toBe(fromStart);
    });

    it("updates it with one range per request too (useMultipleRangeRequest: false, the keygen provider's way)", async () => {
      const url = await signedUrl(t, published, published.installerId);
      const out = path.join(dir, 'single.exe');
      const exchanges = await recorded(proxy, () => updateDifferentially({ previous, next, url, out, multipleRanges: false }));
      expect(fs.readFileSync(out).equals(expected)).toBe(true);
      expect(exchanges.length).toBeGreaterThanOrEqual(EDITS / 2);
      for (const e of exchanges) {
        expect(rangesIn(e.range)).toBe(1);
        expect({ status: e.status, type: e.contentType }).toEqual({ status: 206, type: 'application/octet-stream' });
      }
      expect(transferred(exchanges)).toBeLessThan(SIZE / 2);
    });
  });

  describe('S3 storage (s3rver): several ranges are served by Shipgate, read from S3 range by range', () => {
    let s3: { run(): Promise<{ port: number }>; close(): Promise<void> };
    let s3Dir: string;
    let t: TestApp;
    let proxy: Proxy;
    let published: Published;

    beforeAll(async () => {
      s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-s3rver-'));
      // s3rver (a local S3 implementation, a dev dependency) ships no type declarations
      const S3 = ((await import('s3rver' as string)) as { default: new (options: Record<string, unknown>) => typeof s3 }).default;
      s3 = new S3({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'differential' }] });
      const { port } = await s3.run();
      ({ t, proxy } = await startBehindProxy({
        STORAGE_DRIVER: 's3',
        S3_BUCKET: 'differential',
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        S3_FORCE_PATH_STYLE: 'true',
      }));
      published = await publish(t, next);
    });
    afterAll(async () => {
      await t?.close();
      await proxy?.close();
      await s3?.close();
      fs.rmSync(s3Dir, { recursive: true, force: true });
    });

    it('updates the old file to the new one with multi-range requests, without a redirect to S3', async () => {
      const url = await signedUrl(t, published, published.installerId);
      const out = path.join(dir, 's3.exe');
      const exchanges = await recorded(proxy, () => updateDifferentially({ previous, next, url, out, multipleRanges: true }));
      expect(fs.readFileSync(out).equals(expected)).toBe(true);
      expect(exchanges.map((e) => e.status)).toEqual(exchanges.map(() => 206));
      expect(exchanges.every((e) => e.contentType?.startsWith('multipart/byteranges; boundary='))).toBe(true);
      expect(transferred(exchanges)).toBeLessThan(SIZE / 2);
    });
  });
});
