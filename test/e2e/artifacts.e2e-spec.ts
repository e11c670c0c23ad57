import * as fs from 'node:fs';
import * as http from 'node:http';
import { DownloadSigner } from '../../src/artifacts/download-signer';
import { MAX_RANGES } from '../../src/artifacts/http-range';
import { startApp, TestApp } from '../support/app';
import {
  artifactPath,
  eventually,
  fetchBytes,
  getArtifact,
  interruptedUpload,
  onTestServer,
  putArtifact,
  randomFile,
  releaseAttributes,
  sha256,
  slowUpload,
  sha512,
  storedFiles,
  uploadArtifact,
} from '../support/artifact.factories';
import { parseByteranges } from '../support/byteranges';
import { createLicense, createProduct, createProductToken, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

describe('artifacts', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let otherProduct: TestProduct;
  let openProduct: TestProduct;
  let productToken: string;
  let licenseKey: string;
  let userToken: string;

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    otherProduct = await createProduct(t, account);
    openProduct = await createProduct(t, account, { distributionStrategy: 'OPEN' });
    productToken = (await createProductToken(t, account, product.id)).token;
    licenseKey = (await createLicense(t, account, product.id)).key;
    const user = await createUser(t, account);
    await createLicense(t, account, product.id, { userId: user.id });
    userToken = user.token;
  });
  afterAll(() => t.close());

  const admin = () => bearer(account.adminToken);
  const newRelease = (attrs: Record<string, unknown> = {}, productId = product.id) => createRelease(t, account, productId, attrs);

  /** Follows a GET /artifact 303 with a plain client and returns the bytes. */
  async function download(releaseId: string, authorization = admin()): Promise<Buffer> {
    const res = await getArtifact(t, account, releaseId, authorization);
    expect(res.status).toBe(303);
    const file = await fetchBytes(onTestServer(t, res.headers.location));
    expect(file.status).toBe(200);
    return file.body;
  }

  describe('admin', () => {
    it('uploads bytes and downloads them back byte for byte', async () => {
      const release = await newRelease();
      const bytes = randomFile(3 * 1024 * 1024 + 17);
      const res = await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Type': 'application/gzip' });
      expect(res.status).toBe(200);
      expect(res.body.data.type).toBe('artifacts');
      expect(res.body.data.attributes).toMatchObject({
        filename: release.filename,
        filetype: release.filetype,
        filesize: bytes.length,
        contentType: 'application/gzip',
        sha256: sha256(bytes),
        sha512: sha512(bytes),
        status: 'UPLOADED',
      });
      expect(res.body.data.relationships.release.data).toEqual({ type: 'releases', id: release.id });
      expect(res.body.data.attributes).not.toHaveProperty('storageKey');

      const after = await releaseAttributes(t, account, release.id);
      expect(after.status).toBe('PUBLISHED');
      expect(after.filesize).toBe(bytes.length);

      const got = await getArtifact(t, account, release.id, admin());
      expect(got.status).toBe(303);
      expect(got.headers.location.startsWith(`${t.config.publicUrl}/v1/accounts/${account.id}/artifacts/${res.body.data.id}/`)).toBe(true);
      expect(got.body.data.links.redirect).toBe(got.headers.location);
      expect(got.body.data.attributes.sha256).toBe(sha256(bytes));

      const file = await fetchBytes(onTestServer(t, got.headers.location));
      expect(file.status).toBe(200);
      expect(file.body.length).toBe(bytes.length);
      expect(sha256(file.body)).toBe(sha256(bytes));
      expect(file.headers.get('content-type')).toBe('application/gzip');
      expect(file.headers.get('content-length')).toBe(String(bytes.length));
      expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${release.filename}"`);
      expect(file.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
      expect(file.headers.get('accept-ranges')).toBe('bytes');
    });

    it('answers 200 with the same body for Prefer: no-redirect', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(100));
      const res = await getArtifact(t, account, release.id, admin()).set('Prefer', 'no-redirect');
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.body.data.links.redirect).toMatch(/signature=/);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('stores an empty file', async () => {
      const release = await newRelease();
      // an empty body asks for an upload URL (Keygen's flow); the empty file goes there
      const redirect = await putArtifact(t, account, release.id, Buffer.alloc(0)).redirects(0);
      expect(redirect.status).toBe(307);
      const res = await t.http.put(new URL(onTestServer(t, redirect.headers.location)).pathname + new URL(redirect.headers.location).search).send(Buffer.alloc(0));
      expect(res.status).toBe(200);
      expect(res.body.data.attributes.filesize).toBe(0);
      expect(res.body.data.attributes.sha256).toBe(sha256(Buffer.alloc(0)));
      expect((await download(release.id)).length).toBe(0);
    });

    it('takes any Content-Type, and application/octet-stream without one', async () => {
      const release = await newRelease();
      const res = await t.http
        .put(artifactPath(account, release.id))
        .set('Authorization', admin())
        .set('Content-Type', '')
        .send(Buffer.from('abc'));
      expect(res.status).toBe(200);
      expect(res.body.data.attributes.contentType).toBe('application/octet-stream');
      // a re-upload must keep the size the first one gave the release
      const res2 = await putArtifact(t, account, release.id, Buffer.from('abd'), admin(), { 'Content-Type': 'text/plain; charset=utf-8' });
      expect(res2.status).toBe(200);
      expect(res2.body.data.attributes.contentType).toBe('text/plain; charset=utf-8');
    });

    it('honours ?ttl= and refuses one out of range', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      const res = await getArtifact(t, account, release.id, admin(), '?ttl=600');
      const expires = Number(new URL(res.headers.location).searchParams.get('expires'));
      expect(Math.abs(expires - (Date.now() / 1000 + 600))).toBeLessThan(10);
      for (const ttl of ['59', '604801', 'abc']) {
        const bad = await getArtifact(t, account, release.id, admin(), `?ttl=${ttl}`);
        expect(bad.status).toBe(400);
        expect(bad.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'ttl' } });
      }
    });

    it('does not count its downloads', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      await download(release.id);
      await download(release.id, bearer(productToken));
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(0);
    });

    it('404s for a release without an artifact and for unknown ids', async () => {
      const release = await newRelease();
      expect((await getArtifact(t, account, release.id, admin())).status).toBe(404);
      expect((await getArtifact(t, account, 'not-a-uuid', admin())).status).toBe(404);
      expect((await putArtifact(t, account, '00000000-0000-4000-8000-000000000000', Buffer.from('x'))).status).toBe(404);
    });

    it('verifies a Content-Digest (sha-256 or sha-512)', async () => {
      const release = await newRelease();
      const bytes = randomFile(5000);
      const ok = await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Digest': `sha-512=:${b64(sha512(bytes))}:` });
      expect(ok.status).toBe(200);
      const ok2 = await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Digest': `sha-256=:${b64(sha256(bytes))}:` });
      expect(ok2.status).toBe(200);
    });

    it('refuses a digest mismatch with 422 CHECKSUM_MISMATCH and changes nothing', async () => {
      const release = await newRelease();
      const bytes = randomFile(5000);
      const res = await putArtifact(t, account, release.id, bytes, admin(), { 'Content-Digest': `sha-256=:${b64(sha256(Buffer.from('other')))}:` });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'CHECKSUM_MISMATCH', source: { header: 'Content-Digest' } });
      const after = await releaseAttributes(t, account, release.id);
      expect(after.status).toBe('NOT_PUBLISHED');
      expect(after.filesize).toBeNull();
      expect((await getArtifact(t, account, release.id, admin())).status).toBe(404);
      expect(storedFiles(t).filter((f) => f.startsWith('.tmp/'))).toEqual([]);
    });

    it('keeps the previous artifact when a re-upload fails its digest', async () => {
      const release = await newRelease();
      const first = randomFile(2000);
      await uploadArtifact(t, account, release.id, first);
      const filesBefore = storedFiles(t);
      const res = await putArtifact(t, account, release.id, randomFile(2000), admin(), { 'Content-Digest': `sha-512=:${b64(sha512(first))}:` });
      expect(res.status).toBe(422);
      expect(sha256(await download(release.id))).toBe(sha256(first));
      expect(storedFiles(t)).toEqual(filesBefore);
    });

    it('refuses a malformed Content-Digest with 400 before storing anything', async () => {
      const release = await newRelease();
      for (const header of ['sha-256=abc', 'md5=:XrY7u+Ae7tCTyyK7j1rNww==:', 'sha-256=:AAAA:']) {
        const res = await putArtifact(t, account, release.id, Buffer.from('x'), admin(), { 'Content-Digest': header });
        expect(res.status).toBe(400);
        expect(res.body.errors[0].source).toEqual({ header: 'Content-Digest' });
      }
      expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
    });

    it('refuses an upload of another size than the release filesize (422 FILESIZE_MISMATCH)', async () => {
      const release = await newRelease({ filesize: 10 });
      const res = await putArtifact(t, account, release.id, randomFile(11));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('FILESIZE_MISMATCH');
      // without Content-Length the size is only known at the end
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${t.baseUrl}${artifactPath(account, release.id)}`);
        const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { Authorization: admin() } }, (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        });
        req.on('error', reject);
        req.write(randomFile(6));
        req.end(randomFile(6));
      });
      expect(chunked.status).toBe(422);
      expect(JSON.parse(chunked.body).errors[0].code).toBe('FILESIZE_MISMATCH');
      expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
      expect((await putArtifact(t, account, release.id, randomFile(10))).status).toBe(200);
    });

    it('leaves no trace of an upload cut off half-way', async () => {
      const release = await newRelease();
      const before = storedFiles(t);
      await interruptedUpload(t, account, release.id, 4 * 1024 * 1024, 2 * 1024 * 1024);
      await eventually(() => storedFiles(t).every((f) => !f.startsWith('.tmp/')));
      const after = await releaseAttributes(t, account, release.id);
      expect(after.status).toBe('NOT_PUBLISHED');
      expect(after.filesize).toBeNull();
      expect(storedFiles(t)).toEqual(before);
      expect((await getArtifact(t, account, release.id, admin())).status).toBe(404);
    });

    it('keeps the previous bytes when a re-upload is cut off', async () => {
      const release = await newRelease();
      const first = randomFile(1000);
      await uploadArtifact(t, account, release.id, first);
      const before = storedFiles(t);
      await interruptedUpload(t, account, release.id, 1000, 500);
      await eventually(() => storedFiles(t).every((f) => !f.startsWith('.tmp/')));
      expect(storedFiles(t)).toEqual(before);
      expect(sha256(await download(release.id))).toBe(sha256(first));
      expect((await releaseAttributes(t, account, release.id)).status).toBe('PUBLISHED');
    });

    it('replaces the bytes on re-upload and removes the old file', async () => {
      const release = await newRelease();
      const first = await uploadArtifact(t, account, release.id, randomFile(1000));
      const oldUrl = (await getArtifact(t, account, release.id, admin())).headers.location;
      const filesWithFirst = storedFiles(t);
      const second = randomFile(1000);
      const res = await putArtifact(t, account, release.id, second);
      expect(res.status).toBe(200);
      expect(res.body.data.id).toBe(first.id); // one artifact per release, same id
      expect(res.body.data.attributes.sha256).toBe(sha256(second));
      expect(sha256(await download(release.id))).toBe(sha256(second));
      // a URL issued before the replacement stops working
      expect((await fetchBytes(onTestServer(t, oldUrl))).status).toBe(404);
      expect(storedFiles(t).length).toBe(filesWithFirst.length);
    });

    it('settles concurrent re-uploads on one of them, with one file left', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(300_000));
      const files = [randomFile(300_000), randomFile(300_000), randomFile(300_000)];
      const before = storedFiles(t).length;
      // each upload passes the auth guard alone (staggered), then all three bodies finish together
      const uploads = [];
      for (const f of files) {
        uploads.push(slowUpload(t, account, release.id, f));
        await new Promise((r) => setTimeout(r, 150));
      }
      const results = await Promise.all(uploads.map((u) => u.finish()));
      expect(results).toEqual([200, 200, 200]);
      const got = sha256(await download(release.id));
      expect(files.map(sha256)).toContain(got);
      expect(storedFiles(t).length).toBe(before);
    });

    it('deletes the artifact: 204, release unpublished, file gone', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(100));
      const url = (await getArtifact(t, account, release.id, admin())).headers.location;
      const before = storedFiles(t).length;
      const res = await api(t, admin()).delete(artifactPath(account, release.id));
      expect(res.status).toBe(204);
      expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
      expect((await getArtifact(t, account, release.id, admin())).status).toBe(404);
      expect(storedFiles(t).length).toBe(before - 1);
      expect((await fetchBytes(onTestServer(t, url))).status).toBe(404);
      expect((await api(t, admin()).delete(artifactPath(account, release.id))).status).toBe(404);
    });

    it('keeps a yanked release yanked when its artifact is uploaded', async () => {
      const release = await newRelease();
      await api(t, admin()).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/yank`);
      expect((await putArtifact(t, account, release.id, randomFile(10))).status).toBe(200);
      expect((await releaseAttributes(t, account, release.id)).status).toBe('YANKED');
    });

    it('removes the file when the release is deleted', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(100));
      const before = storedFiles(t).length;
      expect((await api(t, admin()).delete(`/v1/accounts/${account.id}/releases/${release.id}`)).status).toBe(204);
      expect(storedFiles(t).length).toBe(before - 1);
    });

    it('reports the storage in /health/ready', async () => {
      const res = await t.http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.storage).toBe('ok');
    });
  });

  describe('signed download URL', () => {
    let release: Awaited<ReturnType<typeof newRelease>>;
    let bytes: Buffer;
    let artifactId: string;
    let url: string;

    beforeAll(async () => {
      release = await newRelease({ filename: `prod-1/linux-${Date.now()}.tar.gz`, filetype: 'tar.gz' });
      bytes = randomFile(10_000);
      artifactId = (await uploadArtifact(t, account, release.id, bytes)).id;
      url = onTestServer(t, (await getArtifact(t, account, release.id, admin())).headers.location);
    });

    const part = (start: number, end: number) => bytes.subarray(start, end + 1);

    it('serves a filename with a prefix under its basename', async () => {
      expect(url).toContain(`/artifacts/${artifactId}/prod-1/linux-`);
      const res = await fetchBytes(url);
      expect(res.status).toBe(200);
      expect(res.body.equals(bytes)).toBe(true);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${release.filename.split('/')[1]}"`);
    });

    it('serves any Accept (not a JSON:API route)', async () => {
      const res = await fetchBytes(url, { Accept: 'application/octet-stream' });
      expect(res.status).toBe(200);
    });

    it('serves single byte ranges with 206', async () => {
      const cases: Array<[string, number, number]> = [
        ['bytes=0-99', 0, 99],
        ['bytes=9990-', 9990, 9999],
        ['bytes=-10', 9990, 9999],
        ['bytes=5000-20000', 5000, 9999],
      ];
      for (const [range, start, end] of cases) {
        const res = await fetchBytes(url, { Range: range });
        expect(res.status).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${bytes.length}`);
        expect(res.headers.get('content-length')).toBe(String(end - start + 1));
        expect(res.body.equals(part(start, end))).toBe(true);
      }
    });

    it('answers 416 with Content-Range for a range outside the file', async () => {
      const res = await fetchBytes(url, { Range: 'bytes=10000-' });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    });

    it('answers several ranges with 206 multipart/byteranges, each part with its type and Content-Range', async () => {
      const res = await fetchBytes(url, { Range: 'bytes=0-99,500-599, 9990-' });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
      expect(res.headers.get('content-length')).toBe(String(res.body.length));
      expect(res.headers.get('content-range')).toBeNull();
      expect(res.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
      const parts = parseByteranges(res.body, res.headers.get('content-type'));
      expect(parts.map((p) => [p.start, p.end, p.size, p.contentType])).toEqual([
        [0, 99, bytes.length, 'application/octet-stream'],
        [500, 599, bytes.length, 'application/octet-stream'],
        [9990, 9999, bytes.length, 'application/octet-stream'],
      ]);
      for (const p of parts) expect(p.body.equals(part(p.start, p.end))).toBe(true);
    });

    it('merges ranges that overlap, drops those past the end, and answers one remaining range with a plain 206', async () => {
      const merged = await fetchBytes(url, { Range: 'bytes=100-199,0-149,5000-5009' });
      const parts = parseByteranges(merged.body, merged.headers.get('content-type'));
      expect(parts.map((p) => [p.start, p.end])).toEqual([
        [0, 199],
        [5000, 5009],
      ]);
      const single = await fetchBytes(url, { Range: 'bytes=10-19,20000-30000' });
      expect(single.status).toBe(206);
      expect(single.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
      expect(single.body.equals(part(10, 19))).toBe(true);
    });

    it('answers 416 when no range of the set is in the file', async () => {
      const res = await fetchBytes(url, { Range: 'bytes=10000-10010, 20000-' });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    });

    it(`serves 500 ranges in one answer (electron-updater's largest), and the whole file for more than ${MAX_RANGES}`, async () => {
      const ranges = Array.from({ length: 500 }, (_, i) => [i * 20, i * 20 + 9] as const);
      const res = await fetchBytes(url, { Range: `bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(', ')}` });
      expect(res.status).toBe(206);
      const parts = parseByteranges(res.body, res.headers.get('content-type'));
      expect(parts.map((p) => [p.start, p.end])).toEqual(ranges);
      expect(parts.every((p) => p.body.equals(part(p.start, p.end)))).toBe(true);
      const tooMany = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i}-${i}`).join(',');
      const whole = await fetchBytes(url, { Range: `bytes=${tooMany}` });
      expect(whole.status).toBe(200);
      expect(whole.body.equals(bytes)).toBe(true);
    });

    it('ignores a Range with a malformed or reversed range (the whole file)', async () => {
      for (const range of ['bytes=0-1,5-1', 'bytes=0-1,x-']) {
        const res = await fetchBytes(url, { Range: range });
        expect(res.status).toBe(200);
        expect(res.body.equals(bytes)).toBe(true);
      }
    });

    it('streams large parts, and a client that leaves mid-answer leaves no file open', async () => {
      const big = await newRelease();
      const content = randomFile(6 * 1024 * 1024);
      await uploadArtifact(t, account, big.id, content);
      const bigUrl = onTestServer(t, (await getArtifact(t, account, big.id, admin())).headers.location);
      const range = 'bytes=0-2999999, 3000001-'; // two parts of about 3 MB, each read in many chunks
      const whole = await fetchBytes(bigUrl, { Range: range });
      const parts = parseByteranges(whole.body, whole.headers.get('content-type'));
      expect(Buffer.concat(parts.map((p) => p.body)).equals(Buffer.concat([content.subarray(0, 3_000_000), content.subarray(3_000_001)]))).toBe(true);

      // the server runs in this process: its open files are ours to count
      const openFiles = () => fs.readdirSync('/proc/self/fd').length;
      const before = openFiles();
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = http.get(bigUrl, { headers: { Range: range }, agent: false }, (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          });
          req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
        });
      }
      await eventually(() => openFiles() <= before, 10_000);
      expect((await fetchBytes(bigUrl, { Range: 'bytes=0-9,20-29' })).status).toBe(206);
    });

    it('answers HEAD of several ranges with the same headers and no body', async () => {
      const range = { Range: 'bytes=0-99,500-599' };
      const get = await fetchBytes(url, range);
      const head = await fetchBytes(url, range, 'HEAD');
      expect(head.status).toBe(206);
      expect(head.body.length).toBe(0);
      expect(head.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{32}$/);
      expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    });

    it('ignores Range when If-Range names another version', async () => {
      const res = await fetchBytes(url, { Range: 'bytes=0-9', 'If-Range': '"stale"' });
      expect(res.status).toBe(200);
      const same = await fetchBytes(url, { Range: 'bytes=0-9', 'If-Range': `"${sha256(bytes)}"` });
      expect(same.status).toBe(206);
      const several = await fetchBytes(url, { Range: 'bytes=0-9,20-29', 'If-Range': '"stale"' });
      expect(several.status).toBe(200);
      expect(several.body.equals(bytes)).toBe(true);
      const current = await fetchBytes(url, { Range: 'bytes=0-9,20-29', 'If-Range': `"${sha256(bytes)}"` });
      expect(current.status).toBe(206);
      expect(parseByteranges(current.body, current.headers.get('content-type'))).toHaveLength(2);
    });

    it('answers HEAD with the headers and no body', async () => {
      const res = await fetchBytes(url, {}, 'HEAD');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(bytes.length));
      expect(res.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
      expect(res.body.length).toBe(0);
      const ranged = await fetchBytes(url, { Range: 'bytes=0-9' }, 'HEAD');
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-length')).toBe('10');
    });

    it('answers If-None-Match with 304', async () => {
      const res = await fetchBytes(url, { 'If-None-Match': `"${sha256(bytes)}"` });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect((await fetchBytes(url, { 'If-None-Match': '"other"' })).status).toBe(200);
    });

    async function expectRefused(target: string, code: string) {
      const res = await fetchBytes(target);
      expect(res.status).toBe(403);
      const body = JSON.parse(res.body.toString());
      expect(body.errors[0].code).toBe(code);
      const signature = new URL(target).searchParams.get('signature');
      if (signature) expect(res.body.toString()).not.toContain(signature);
    }

    it('refuses a forged signature', async () => {
      const u = new URL(url);
      const sig = u.searchParams.get('signature')!;
      u.searchParams.set('signature', sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
      await expectRefused(u.toString(), 'SIGNATURE_INVALID');
      u.searchParams.delete('signature');
      await expectRefused(u.toString(), 'SIGNATURE_INVALID');
    });

    it('refuses a changed artifact id', async () => {
      const other = await newRelease();
      const otherId = (await uploadArtifact(t, account, other.id, randomFile(10))).id;
      await expectRefused(url.replace(artifactId, otherId), 'SIGNATURE_INVALID');
    });

    it('refuses a changed filename or expiry', async () => {
      await expectRefused(url.replace('/prod-1/', '/prod-2/'), 'SIGNATURE_INVALID');
      const u = new URL(url);
      u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600));
      await expectRefused(u.toString(), 'SIGNATURE_INVALID');
    });

    it('refuses an expired URL', async () => {
      const signer = t.app.get(DownloadSigner);
      const expires = Math.floor(Date.now() / 1000) - 5;
      const u = new URL(url);
      const generation = u.searchParams.get('g')!;
      const signature = signer.sign({ accountId: account.id, artifactId, filename: release.filename, expires, generation });
      u.searchParams.set('expires', String(expires));
      u.searchParams.set('signature', signature);
      await expectRefused(u.toString(), 'SIGNATURE_EXPIRED');
    });

    it('accepts the signature in base64url too', async () => {
      const u = new URL(url);
      u.searchParams.set('signature', Buffer.from(u.searchParams.get('signature')!, 'hex').toString('base64url'));
      expect((await fetchBytes(u.toString())).status).toBe(200);
    });

    it('404s for an unknown account', async () => {
      const res = await fetchBytes(url.replace(account.id, '00000000-0000-4000-8000-000000000000'));
      expect(res.status).toBe(404);
    });
  });

  describe('product token', () => {
    it('uploads to its product and honours ?ttl=', async () => {
      const release = await newRelease();
      const bytes = randomFile(100);
      expect((await putArtifact(t, account, release.id, bytes, bearer(productToken))).status).toBe(200);
      const res = await getArtifact(t, account, release.id, bearer(productToken), '?ttl=120');
      expect(res.status).toBe(303);
      const expires = Number(new URL(res.headers.location).searchParams.get('expires'));
      expect(Math.abs(expires - (Date.now() / 1000 + 120))).toBeLessThan(10);
      expect((await api(t, bearer(productToken)).delete(artifactPath(account, release.id))).status).toBe(204);
    });

    it("cannot see another product's release (404)", async () => {
      const release = await newRelease({}, otherProduct.id);
      expect((await putArtifact(t, account, release.id, randomFile(10), bearer(productToken))).status).toBe(404);
      expect((await getArtifact(t, account, release.id, bearer(productToken))).status).toBe(404);
      expect((await releaseAttributes(t, account, release.id)).status).toBe('NOT_PUBLISHED');
    });
  });

  describe('license key', () => {
    it('downloads a published release, counted once per URL, ttl ignored', async () => {
      const release = await newRelease();
      const bytes = randomFile(4096);
      await uploadArtifact(t, account, release.id, bytes);
      const res = await getArtifact(t, account, release.id, licenseAuth(licenseKey), '?ttl=604800');
      expect(res.status).toBe(303);
      const expires = Number(new URL(res.headers.location).searchParams.get('expires'));
      expect(Math.abs(expires - (Date.now() / 1000 + 3600))).toBeLessThan(10);
      expect(sha256((await fetchBytes(onTestServer(t, res.headers.location))).body)).toBe(sha256(bytes));
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(1);
    });

    it('counts concurrent downloads exactly', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      const results = await Promise.all(Array.from({ length: 20 }, () => getArtifact(t, account, release.id, licenseAuth(licenseKey))));
      expect(results.every((r) => r.status === 303)).toBe(true);
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(20);
    });

    it('may not upload or delete (403 on a visible release, 404 on a hidden one)', async () => {
      const published = await newRelease();
      const bytes = randomFile(10);
      await uploadArtifact(t, account, published.id, bytes);
      const put = await putArtifact(t, account, published.id, randomFile(10), licenseAuth(licenseKey));
      expect(put.status).toBe(403);
      expect((await api(t, licenseAuth(licenseKey)).delete(artifactPath(account, published.id))).status).toBe(403);
      expect(sha256(await download(published.id))).toBe(sha256(bytes));

      const hidden = await newRelease();
      expect((await putArtifact(t, account, hidden.id, randomFile(10), licenseAuth(licenseKey))).status).toBe(404);
      expect((await getArtifact(t, account, hidden.id, licenseAuth(licenseKey))).status).toBe(404);
    });

    it('does not see a yanked release', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      await api(t, admin()).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/yank`);
      expect((await getArtifact(t, account, release.id, licenseAuth(licenseKey))).status).toBe(404);
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(0);
    });
  });

  describe('user token', () => {
    it('downloads through its license and is counted', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      expect((await getArtifact(t, account, release.id, bearer(userToken))).status).toBe(303);
      expect((await putArtifact(t, account, release.id, randomFile(10), bearer(userToken))).status).toBe(403);
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(1);
    });
  });

  describe('anonymous', () => {
    it('downloads published releases of OPEN products, counted', async () => {
      const release = await newRelease({}, openProduct.id);
      const bytes = randomFile(10);
      await uploadArtifact(t, account, release.id, bytes);
      const res = await getArtifact(t, account, release.id);
      expect(res.status).toBe(303);
      expect(sha256((await fetchBytes(onTestServer(t, res.headers.location))).body)).toBe(sha256(bytes));
      expect((await releaseAttributes(t, account, release.id)).downloads).toBe(1);
    });

    it('does not see LICENSED releases and cannot write (401)', async () => {
      const release = await newRelease();
      await uploadArtifact(t, account, release.id, randomFile(10));
      expect((await getArtifact(t, account, release.id)).status).toBe(404);
      const put = await putArtifact(t, account, release.id, randomFile(10), '');
      expect(put.status).toBe(401);
      expect(put.body.errors[0].code).toBe('TOKEN_MISSING');
      expect((await api(t).delete(artifactPath(account, release.id))).status).toBe(401);
    });
  });

  describe('other account', () => {
    it("sees nothing of this account's artifacts", async () => {
      const other = await createAccount(t);
      const release = await newRelease();
      const bytes = randomFile(10);
      await uploadArtifact(t, account, release.id, bytes);
      // the other account's admin, addressing its own account with this release id: 404
      expect((await getArtifact(t, other, release.id, bearer(other.adminToken))).status).toBe(404);
      expect((await putArtifact(t, other, release.id, randomFile(10), bearer(other.adminToken))).status).toBe(404);
      expect((await api(t, bearer(other.adminToken)).delete(artifactPath(other, release.id))).status).toBe(404);
      // its token on this account: 401
      expect((await putArtifact(t, account, release.id, randomFile(10), bearer(other.adminToken))).status).toBe(401);
      expect(sha256(await download(release.id))).toBe(sha256(bytes));
    });
  });
});
