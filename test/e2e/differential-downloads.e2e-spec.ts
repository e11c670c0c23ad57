import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApp, TestApp } from '../support/app';
import { fetchBytes, getArtifact, onTestServer, releaseAttributes, uploadArtifact } from '../support/artifact.factories';
import { BlockMappedFile, readBlockMap, startRecordingProxy, twoVersions, updateDifferentially, writeBlockMapped } from '../support/blockmaps';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/**
 * electron-updater's differential download against Shipgate: two versions of an installer with
 * real blockmaps (electron-builder's own code), the new one published through the 1.0 upload flow,
 * then electron-updater's GenericDifferentialDownloader turns the old file into the new one from a
 * signed download URL, fetching only the blocks that changed. A recording proxy in front of the
 * server tells what was asked and what was transferred.
 */

const SIZE = 16 * 1024 * 1024;
const EDITS = 200;

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

/** A license's signed download URL of a release's file, on the test server. */
async function signedUrl(t: TestApp, p: Published, releaseId: string): Promise<string> {
  const res = await getArtifact(t, p.account, releaseId, licenseAuth(p.licenseKey));
  if (res.status !== 303) throw new Error(`no download URL: ${res.status}`);
  return onTestServer(t, res.headers.location);
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
    let published: Published;

    beforeAll(async () => {
      t = await startApp();
      published = await publish(t, next);
    });
    afterAll(() => t.close());

    it('serves the .blockmap as electron-builder wrote it', async () => {
      const file = await fetchBytes(await signedUrl(t, published, published.blockMapId));
      expect(file.status).toBe(200);
      expect(readBlockMap(file.body)).toEqual(next.blockMap);
    });

    it('updates the old file to the new one with multi-range requests (206 multipart/byteranges), transferring a fraction of it', async () => {
      const proxy = await startRecordingProxy(t.baseUrl);
      try {
        const url = (await signedUrl(t, published, published.installerId)).replace(t.baseUrl, proxy.url);
        const out = path.join(dir, 'multi.exe');
        const log = await updateDifferentially({ previous, next, url, out, multipleRanges: true });
        expect(fs.readFileSync(out).equals(expected)).toBe(true);

        expect(proxy.exchanges.length).toBeGreaterThan(0);
        for (const e of proxy.exchanges) {
          expect({ method: e.method, status: e.status, type: e.contentType }).toEqual({ method: 'GET', status: 206, type: expect.stringMatching(/^multipart\/byteranges; boundary=/) });
        }
        // one request asks for every changed block (electron-updater batches 1000 operations)
        expect(rangesIn(proxy.exchanges[0].range)).toBeGreaterThanOrEqual(EDITS / 2);
        const transferred = proxy.exchanges.reduce((sum, e) => sum + e.bytes, 0);
        expect(transferred).toBeLessThan(SIZE / 2);
        expect(log.join('\n')).not.toMatch(/^(warn|error):/m);
        // one signed URL, one counted download, however many requests the update made
        expect((await releaseAttributes(t, published.account, published.installerId)).downloads).toBe(1);
      } finally {
        await proxy.close();
      }
    });

    it("updates it with one range per request too (useMultipleRangeRequest: false, the keygen provider's way)", async () => {
      const proxy = await startRecordingProxy(t.baseUrl);
      try {
        const url = (await signedUrl(t, published, published.installerId)).replace(t.baseUrl, proxy.url);
        const out = path.join(dir, 'single.exe');
        await updateDifferentially({ previous, next, url, out, multipleRanges: false });
        expect(fs.readFileSync(out).equals(expected)).toBe(true);
        expect(proxy.exchanges.length).toBeGreaterThanOrEqual(EDITS / 2);
        for (const e of proxy.exchanges) {
          expect(rangesIn(e.range)).toBe(1);
          expect({ status: e.status, type: e.contentType }).toEqual({ status: 206, type: 'application/octet-stream' });
        }
        expect(proxy.exchanges.reduce((sum, e) => sum + e.bytes, 0)).toBeLessThan(SIZE / 2);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('S3 storage (s3rver): several ranges are served by Shipgate, read from S3 range by range', () => {
    let s3: { run(): Promise<{ port: number }>; close(): Promise<void> };
    let s3Dir: string;
    let t: TestApp;
    let published: Published;

    beforeAll(async () => {
      s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-s3rver-'));
      // s3rver (a local S3 implementation, a dev dependency) ships no type declarations
      const S3 = ((await import('s3rver' as string)) as { default: new (options: Record<string, unknown>) => typeof s3 }).default;
      s3 = new S3({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'differential' }] });
      const { port } = await s3.run();
      t = await startApp({
        STORAGE_DRIVER: 's3',
        S3_BUCKET: 'differential',
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        S3_FORCE_PATH_STYLE: 'true',
      });
      published = await publish(t, next);
    });
    afterAll(async () => {
      await t?.close();
      await s3?.close();
      fs.rmSync(s3Dir, { recursive: true, force: true });
    });

    it('updates the old file to the new one with multi-range requests, without a redirect to S3', async () => {
      const proxy = await startRecordingProxy(t.baseUrl);
      try {
        const url = (await signedUrl(t, published, published.installerId)).replace(t.baseUrl, proxy.url);
        const out = path.join(dir, 's3.exe');
        await updateDifferentially({ previous, next, url, out, multipleRanges: true });
        expect(fs.readFileSync(out).equals(expected)).toBe(true);
        expect(proxy.exchanges.map((e) => e.status)).toEqual(proxy.exchanges.map(() => 206));
        expect(proxy.exchanges.every((e) => e.contentType?.startsWith('multipart/byteranges; boundary='))).toBe(true);
        expect(proxy.exchanges.reduce((sum, e) => sum + e.bytes, 0)).toBeLessThan(SIZE / 2);
      } finally {
        await proxy.close();
      }
    });
  });
});
