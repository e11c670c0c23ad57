import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3StorageDriver, S3_PART_SIZE } from '../../src/storage/s3-storage.driver';
import { STORAGE_DRIVER } from '../../src/storage/storage-driver';
import { startApp, TestApp } from '../support/app';
import {
  eventually,
  fetchBytes,
  getArtifact,
  onTestServer,
  interruptedUpload,
  putArtifact,
  randomFile,
  releaseAttributes,
  sha256,
  sha512,
  uploadArtifact,
} from '../support/artifact.factories';
import { parseByteranges } from '../support/byteranges';
import { createLicense, createProduct, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';
import { createReleaseV11, v11Client } from '../support/v11.factories';

const BUCKET = 'shipgate-artifacts';

function s3Env(port: number, bucket = BUCKET): Record<string, string> {
  return {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: bucket,
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/** Follows a signed Shipgate URL (on the test server) to the presigned S3 URL it redirects to. */
async function presignedBehind(signedUrl: string): Promise<string> {
  const hop = await fetchBytes(onTestServer(testApp, signedUrl));
  if (hop.status !== 302) throw new Error(`the signed URL answered ${hop.status}`);
  return hop.headers.get('location')!;
}
let testApp: TestApp;

describe('artifacts on S3 storage (s3rver)', () => {
  let s3: { run(): Promise<{ port: number }>; close(): Promise<void> };
  let s3Dir: string;
  let port: number;
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let licenseKey: string;

  beforeAll(async () => {
    s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-s3rver-'));
    // s3rver (a local S3 implementation, a dev dependency) ships no type declarations
    const S3 = ((await import('s3rver' as string)) as { default: new (options: Record<string, unknown>) => typeof s3 }).default;
    s3 = new S3({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET }] });
    port = (await s3.run()).port;
    t = testApp = await startApp(s3Env(port));
    account = await createAccount(t);
    product = await createProduct(t, account);
    licenseKey = (await createLicense(t, account, product.id)).key;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  });

  const admin = () => bearer(account.adminToken);

  async function objectKeys(): Promise<string[]> {
    const driver = t.app.get(STORAGE_DRIVER) as S3StorageDriver;
    const res = await driver.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${account.id}/` }));
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  }

  it('uses the S3 driver', () => {
    expect(t.app.get(STORAGE_DRIVER)).toBeInstanceOf(S3StorageDriver);
  });

  it.each([
    ['a small file (one PUT)', 200_001],
    ['a file of several parts (multipart upload)', 2 * S3_PART_SIZE + 12_345],
  ])('round-trips %s through a presigned URL', async (_, size) => {
    const release = await createRelease(t, account, product.id, { filename: `prod-1/app-${size}.tar.gz`, filetype: 'tar.gz' });
    const bytes = randomFile(size);
    const res = await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Type': 'application/gzip' });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ filesize: size, sha256: sha256(bytes), sha512: sha512(bytes), status: 'UPLOADED' });
    expect((await releaseAttributes(t, account, release.id)).status).toBe('PUBLISHED');

    const got = await getArtifact(t, account, release.id, licenseAuth(licenseKey));
    expect(got.status).toBe(303);
    expect(got.body.data.links.redirect).toBe(got.headers.location);
    // the signed URL checks the release, then redirects to a presigned URL that lives a minute
    const presigned = await presignedBehind(got.headers.location);
    expect(presigned).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/${BUCKET}/`));
    expect(presigned).toMatch(/X-Amz-Signature=/);
    expect(new URL(presigned).searchParams.get('X-Amz-Expires')).toBe('60');
    const file = await fetchBytes(presigned);
    expect(file.status).toBe(200);
    expect(file.body.length).toBe(size);
    expect(sha256(file.body)).toBe(sha256(bytes));
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="app-${size}.tar.gz"`);
    expect((await releaseAttributes(t, account, release.id)).downloads).toBe(1);

    const range = await fetchBytes(presigned, { Range: 'bytes=100-199' });
    expect(range.status).toBe(206);
    expect(range.body.equals(bytes.subarray(100, 200))).toBe(true);
  });

  it('serves several ranges itself, read from S3 range by range; one range goes to S3', async () => {
    const release = await createRelease(t, account, product.id, { filename: 'prod-1/ranges.tar.gz', filetype: 'tar.gz' });
    const bytes = randomFile(S3_PART_SIZE + 50_000);
    await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Type': 'application/gzip' });
    const signed = onTestServer(t, (await getArtifact(t, account, release.id, licenseAuth(licenseKey))).headers.location);
    // S3 answers one range per request (a Range of several gets the whole object): Shipgate frames them
    const ranges = [[0, 99], [S3_PART_SIZE - 10, S3_PART_SIZE + 9], [bytes.length - 1000, bytes.length - 1]] as const;
    const res = await fetchBytes(signed, { Range: `bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(', ')}` });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe(String(res.body.length));
    const parts = parseByteranges(res.body, res.headers.get('content-type'));
    expect(parts.map((p) => [p.start, p.end, p.size, p.contentType])).toEqual(ranges.map(([a, b]) => [a, b, bytes.length, 'application/gzip']));
    for (const p of parts) expect(p.body.equals(bytes.subarray(p.start, p.end + 1))).toBe(true);
    const head = await fetchBytes(signed, { Range: 'bytes=0-99,200-299' }, 'HEAD');
    expect(head.status).toBe(206);
    expect(head.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    expect(head.body.length).toBe(0);
    expect((await fetchBytes(signed, { Range: `bytes=${bytes.length}-, ${bytes.length + 5}-` })).status).toBe(416);

    // a single range is redirected to S3, which answers it
    const one = await fetchBytes(signed, { Range: 'bytes=100-199' });
    expect(one.status).toBe(302);
    const presigned = await fetchBytes(one.headers.get('location')!, { Range: 'bytes=100-199' });
    expect(presigned.status).toBe(206);
    expect(presigned.body.equals(bytes.subarray(100, 200))).toBe(true);
  });

  it('honours ?ttl= for admins in the signed URL', async () => {
    const release = await createRelease(t, account, product.id);
    await uploadArtifact(t, account, release.id, randomFile(10));
    const expiresIn = (url: string) => Number(new URL(url).searchParams.get('expires')) - Date.now() / 1000;
    const res = await getArtifact(t, account, release.id, admin(), '?ttl=900');
    expect(Math.abs(expiresIn(res.headers.location) - 900)).toBeLessThan(10);
    const lic = await getArtifact(t, account, release.id, licenseAuth(licenseKey), '?ttl=900');
    expect(Math.abs(expiresIn(lic.headers.location) - 3600)).toBeLessThan(10);
  });

  it('ends every URL of a release at its yank, the presigned ones included', async () => {
    const release = await createRelease(t, account, product.id);
    await uploadArtifact(t, account, release.id, randomFile(10));
    const signed = (await getArtifact(t, account, release.id, licenseAuth(licenseKey))).headers.location;
    const presigned = await presignedBehind(signed);
    expect((await api(t, admin()).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/yank`)).status).toBe(200);
    expect((await fetchBytes(onTestServer(t, signed))).status).toBe(404);
    // what was handed out before the yank expires within a minute of being issued
    expect(Number(new URL(presigned).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(60);
  });

  it('stores nothing for a digest mismatch and keeps the release unpublished', async () => {
    const release = await createRelease(t, account, product.id);
    const before = await objectKeys();
    const res = await putArtifact(t, account, release.id, randomFile(S3_PART_SIZE + 10), admin(), {
      'Content-Digest': `sha-256=:${Buffer.from(sha256(Buffer.from('x')), 'hex').toString('base64')}:`,
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].code).toBe('CHECKSUM_MISMATCH');
    expect(await objectKeys()).toEqual(before);
    expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
  });

  it('stores nothing for an upload cut off half-way', async () => {
    const release = await createRelease(t, account, product.id);
    const before = await objectKeys();
    await interruptedUpload(t, account, release.id, 3 * S3_PART_SIZE, S3_PART_SIZE + S3_PART_SIZE / 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await objectKeys()).toEqual(before);
    expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
  });

  it('replaces the object on re-upload and deletes it with the artifact', async () => {
    const release = await createRelease(t, account, product.id);
    const before = await objectKeys();
    await uploadArtifact(t, account, release.id, randomFile(1000));
    const second = randomFile(1000);
    await uploadArtifact(t, account, release.id, second);
    expect((await objectKeys()).length).toBe(before.length + 1);
    const url = await presignedBehind((await getArtifact(t, account, release.id, admin())).headers.location);
    expect(sha256((await fetchBytes(url)).body)).toBe(sha256(second));

    expect((await api(t, admin()).delete(`/v1/accounts/${account.id}/releases/${release.id}/artifact`)).status).toBe(204);
    expect(await objectKeys()).toEqual(before);
    expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
  });

  it('answers an empty PUT with 307 to a presigned PUT, then verifies the object and publishes the release', async () => {
    const bytes = randomFile(300_000);
    const release = await createRelease(t, account, product.id, { filesize: bytes.length });
    const digest = `sha-256=:${Buffer.from(sha256(bytes), 'hex').toString('base64')}:`;
    const empty = await t.http
      .put(`/v1/accounts/${account.id}/releases/${release.id}/artifact`)
      .set('Authorization', admin())
      .set('Content-Length', '0')
      .set('Content-Digest', digest)
      .redirects(0);
    expect(empty.status).toBe(307);
    expect(empty.body.data.attributes.status).toBe('WAITING');
    const location = empty.headers.location as string;
    expect(location.startsWith(`http://127.0.0.1:${port}/${BUCKET}/`)).toBe(true);
    expect(empty.body.data.links.redirect).toBe(location);
    const put = await fetch(location, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    // the sweep notices the object, reads it back and publishes the release
    const deadline = Date.now() + 20_000;
    let attrs = await releaseAttributes(t, account, release.id);
    while (attrs.status !== 'PUBLISHED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      attrs = await releaseAttributes(t, account, release.id);
    }
    expect(attrs).toMatchObject({ status: 'PUBLISHED', checksum: sha256(bytes) });
    const url = await presignedBehind((await getArtifact(t, account, release.id, admin())).headers.location);
    expect(sha256((await fetchBytes(url)).body)).toBe(sha256(bytes));
  });

  it('refuses a presigned upload whose bytes are not the declared size, leaving the release unpublished', async () => {
    const release = await createRelease(t, account, product.id, { filesize: 5000 });
    const empty = await t.http.put(`/v1/accounts/${account.id}/releases/${release.id}/artifact`).set('Authorization', admin()).set('Content-Length', '0').redirects(0);
    expect(empty.status).toBe(307);
    expect((await fetch(empty.headers.location as string, { method: 'PUT', body: randomFile(10) })).status).toBe(200);
    const include = async () => (await api(t, admin()).get(`/v1/accounts/${account.id}/releases/${release.id}?include=artifact`)).body;
    const deadline = Date.now() + 20_000;
    let doc = await include();
    while (doc.included?.[0]?.attributes.status !== 'FAILED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      doc = await include();
    }
    expect(doc.included[0].attributes.status).toBe('FAILED');
    expect(doc.data.attributes.status).toBe('NOT_PUBLISHED');
  });

  describe('API 1.1: POST /artifacts hands out a presigned PUT, the sweep verifies the object', () => {
    /** `POST /artifacts` for a 1.1 release, as the admin (307 by default: Location is the upload URL). */
    const createArtifact = (on: TestApp, acct: TestAccount, releaseId: string, attributes: Record<string, unknown>, headers: Record<string, string> = {}) =>
      v11Client(on, bearer(acct.adminToken))
        .post(`/v1/accounts/${acct.id}/artifacts`, { data: { type: 'artifacts', attributes, relationships: { release: { data: { type: 'releases', id: releaseId } } } } })
        .set(headers)
        .redirects(0);
    /** The artifact as the admin sees it, once its status is no longer WAITING (the sweep runs every second or so). */
    const settled = async (on: TestApp, acct: TestAccount, id: string) => {
      let attributes: Record<string, unknown> = {};
      await eventually(async () => {
        const res = await v11Client(on, bearer(acct.adminToken)).get(`/v1/accounts/${acct.id}/artifacts/${id}`).set('Prefer', 'no-redirect');
        attributes = res.body.data.attributes;
        return attributes.status !== 'WAITING';
      }, 20_000);
      return attributes;
    };

    it('uploads through the presigned URL; the sweep makes the artifact UPLOADED; a license downloads it', async () => {
      const release = await createReleaseV11(t, account, product.id, '5.0.0');
      const bytes = randomFile(250_000);
      const created = await createArtifact(t, account, release.id, { filename: 'App-5.0.0.dmg', platform: 'darwin', arch: 'arm64', filesize: bytes.length, signature: 'ed-500' }, {
        'Content-Digest': `sha-512=:${Buffer.from(sha512(bytes), 'hex').toString('base64')}:`,
      });
      expect(created.status).toBe(307);
      const location = created.headers.location as string;
      expect(location.startsWith(`http://127.0.0.1:${port}/${BUCKET}/`)).toBe(true);
      expect(location).toMatch(/X-Amz-Signature=/);
      expect(created.body.data.links.redirect).toBe(location);
      expect(created.body.data.attributes.status).toBe('WAITING');
      const id = created.body.data.id as string;
      // nothing offered before the bytes are verified
      const upgrade = () => api(t, licenseAuth(licenseKey)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${product.id}&platform=darwin/arm64&version=4.0.0`).redirects(0);
      expect((await upgrade()).status).toBe(204);

      expect((await fetch(location, { method: 'PUT', body: bytes })).status).toBe(200);
      expect(await settled(t, account, id)).toMatchObject({ status: 'UPLOADED', filesize: bytes.length, sha256: sha256(bytes), sha512: sha512(bytes), signature: 'ed-500' });
      const release10 = await releaseAttributes(t, account, release.id);
      expect(release10).toMatchObject({ status: 'PUBLISHED', filename: 'App-5.0.0.dmg' });

      // the license's download: 303 to a signed URL, 302 to a presigned GET, the bytes
      const got = await v11Client(t, licenseAuth(licenseKey)).get(`/v1/accounts/${account.id}/artifacts/${id}`).redirects(0);
      expect(got.status).toBe(303);
      const file = await fetchBytes(await presignedBehind(got.headers.location));
      expect(file.status).toBe(200);
      expect(sha256(file.body)).toBe(sha256(bytes));
      expect(file.headers.get('content-disposition')).toBe('attachment; filename="App-5.0.0.dmg"');
      // and the update check offers it
      const check = await upgrade();
      expect(check.status).toBe(303);
      expect(check.body.data.id).toBe(id);
      expect(sha256((await fetchBytes(await presignedBehind(check.headers.location))).body)).toBe(sha256(bytes));
    });

    it('an object of another size, or another digest than declared, leaves the artifact FAILED and not offered', async () => {
      const release = await createReleaseV11(t, account, product.id, '5.1.0');
      const sized = await createArtifact(t, account, release.id, { filename: 'sized.tar.gz', platform: 'linux', arch: 'amd64', filesize: 5000 });
      expect(sized.status).toBe(307);
      expect((await fetch(sized.headers.location, { method: 'PUT', body: randomFile(10) })).status).toBe(200);
      const digested = await createArtifact(t, account, release.id, { filename: 'digested.tar.gz', platform: 'linux', arch: 'arm64' }, {
        'Content-Digest': `sha-256=:${Buffer.from(sha256(Buffer.from('other bytes')), 'hex').toString('base64')}:`,
      });
      expect((await fetch(digested.headers.location, { method: 'PUT', body: randomFile(10) })).status).toBe(200);
      expect((await settled(t, account, sized.body.data.id)).status).toBe('FAILED');
      expect((await settled(t, account, digested.body.data.id)).status).toBe('FAILED');
      for (const platform of ['linux/amd64', 'linux/arm64']) {
        const res = await api(t, licenseAuth(licenseKey)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${product.id}&platform=${platform}&version=5.0.0`).redirects(0);
        expect(res.status).toBe(204);
      }
    });

    it('an upload URL that expires unused leaves the artifact FAILED, and the release offers nothing', async () => {
      const short = await startApp({ ...s3Env(port), UPLOAD_URL_TTL_SECONDS: '1' });
      try {
        const acct = await createAccount(short);
        const prod = await createProduct(short, acct);
        const key = (await createLicense(short, acct, prod.id)).key;
        const release = await createReleaseV11(short, acct, prod.id, '1.0.0');
        const created = await createArtifact(short, acct, release.id, { filename: 'late.zip', platform: 'windows' }, { Prefer: 'no-redirect' });
        expect(created.status).toBe(201);
        expect(created.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/${BUCKET}/`));
        expect(await settled(short, acct, created.body.data.id)).toMatchObject({ status: 'FAILED', sha256: null });
        // S3 refuses the expired URL; nothing is offered, nothing downloads
        expect((await fetch(created.headers.location, { method: 'PUT', body: randomFile(10) })).status).toBe(403);
        const check = await api(short, licenseAuth(key)).get(`/v1/accounts/${acct.id}/releases/actions/upgrade?product=${prod.id}&platform=windows&version=0.1.0`).redirects(0);
        expect(check.status).toBe(204);
        expect((await v11Client(short, licenseAuth(key)).get(`/v1/accounts/${acct.id}/artifacts/${created.body.data.id}`)).status).toBe(404);
      } finally {
        await short.close();
      }
    });
  });

  it('reports the bucket in /health/ready, and 503 when it is missing', async () => {
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.storage).toBe('ok');
    const broken = await startApp(s3Env(port, 'no-such-bucket'));
    try {
      const res = await broken.http.get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.errors[0].code).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await broken.close();
    }
  });
});
