import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { startApp, TestApp } from '../support/app';
import { fetchBytes, onTestServer, releaseAttributes, sha256 } from '../support/artifact.factories';
import { parseByteranges } from '../support/byteranges';
import { createLicense, createProduct, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

const run = promisify(execFile);

const V3_KEYS = ['channel', 'checksum', 'createdAt', 'filename', 'filesize', 'id', 'name', 'notes', 'platform', 'productId', 'pub_date', 'published', 'sha256', 'signature', 'updatedAt', 'url', 'version'];

describe('v3 (Cryptlex-compatible)', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let otherProduct: TestProduct;
  let license: TestLicense;
  let otherProductLicense: TestLicense;
  let owner: { id: string; token: string };
  let stranger: { id: string; token: string };
  const r: Record<string, UpgradeRelease> = {};

  const win = (over: Record<string, unknown> = {}) => ({ attrs: { platform: 'windows', filetype: 'zip', filename: `win/MyApp-${Math.random().toString(36).slice(2, 8)}.zip`, ...over } });

  function get(url: string, authorization?: string) {
    const req = t.http.get(url).redirects(0);
    return authorization ? req.set('Authorization', authorization) : req;
  }
  const update = (params: Record<string, string | undefined>, authorization?: string) => {
    const qs = new URLSearchParams(Object.entries({ productId: product.id, platform: 'windows', ...params }).filter((e): e is [string, string] => e[1] !== undefined));
    return get(`/v3/releases/update?${qs}`, authorization);
  };
  const latest = (params: Record<string, string | undefined>, authorization?: string) => {
    const qs = new URLSearchParams(Object.entries({ productId: product.id, platform: 'windows', ...params }).filter((e): e is [string, string] => e[1] !== undefined));
    return get(`/v3/releases/latest?${qs}`, authorization);
  };
  const expectPlainError = (res: { status: number; body: unknown; headers: Record<string, string> }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ code, message: expect.any(String) });
  };

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account);
    otherProduct = await createProduct(t, account);
    owner = await createUser(t, account);
    stranger = await createUser(t, account);
    license = await createLicense(t, account, product.id, { userId: owner.id });
    otherProductLicense = await createLicense(t, account, otherProduct.id, { userId: stranger.id });
    r['1.0.0'] = await releaseWithFile(t, account, product.id, '1.0.0', win());
    r['2.0.0'] = await releaseWithFile(t, account, product.id, '2.0.0', win());
    r['2.1.0'] = await releaseWithFile(t, account, product.id, '2.1.0', win({ name: 'MyApp v2.1', description: 'Added feature X', checksum: 'ef4bbff62ed6e8a24890cb438d95c445' }));
    r['2.2.0-beta.1'] = await releaseWithFile(t, account, product.id, '2.2.0-beta.1', win());
    r.yanked = await releaseWithFile(t, account, product.id, '2.5.0', { ...win(), state: 'yanked' });
    r.unpublished = await releaseWithFile(t, account, product.id, '3.0.0', { ...win(), state: 'unpublished' });
    r.linux = await releaseWithFile(t, account, product.id, '4.0.0', { attrs: { platform: 'linux' } });
    await releaseWithFile(t, account, otherProduct.id, '9.0.0', win());
  });
  afterAll(() => t.close());

  describe('with a license key (?key=)', () => {
    it('answers an update as Cryptlex\'s release object', async () => {
      const res = await update({ version: '2.0.0', key: license.key });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const rel = r['2.1.0'];
      expect(Object.keys(res.body).sort()).toEqual([...V3_KEYS, 'changelog', 'critical'].sort());
      expect(res.body).toEqual({
        id: rel.id,
        name: 'MyApp v2.1',
        channel: 'stable',
        version: '2.1.0',
        platform: 'windows',
        filename: rel.filename,
        published: true,
        url: `${t.config.publicUrl}/v3/${rel.id}?key=${license.key}`,
        filesize: rel.bytes!.length,
        checksum: 'ef4bbff62ed6e8a24890cb438d95c445',
        sha256: sha256(rel.bytes!),
        signature: null,
        pub_date: res.body.createdAt,
        productId: product.id,
        notes: 'Added feature X',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        critical: false,
        changelog: [{ version: '2.1.0', notes: 'Added feature X', created: res.body.createdAt }],
      });
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      expect(new Date(res.body.updatedAt).toISOString()).toBe(res.body.updatedAt);
    });

    it('answers what the OpenAPI document says (its schema validates the update and latest answers)', async () => {
      const doc = (await t.http.get('/openapi.json')).body;
      const ajv = new Ajv({ allErrors: true, strict: false });
      addFormats(ajv);
      for (const [path, query] of [
        ['/v3/releases/update', { version: '1.0.0', key: license.key }],
        ['/v3/releases/latest', { key: license.key }],
      ] as const) {
        const schema = doc.paths[path].get.responses['200'].content['application/json'].schema;
        expect(schema.properties).toHaveProperty('version');
        const res = path.endsWith('update') ? await update(query) : await latest(query);
        expect(res.status).toBe(200);
        const valid = ajv.compile(schema);
        expect(valid(res.body) ? [] : valid.errors).toEqual([]);
      }
    });

    it('reads the current version loosely', async () => {
      for (const version of ['2.0', '2', 'v2.0.0', '1.9', '2.0.0']) {
        const res = await update({ version, key: license.key });
        expect([version, res.status, res.body.version]).toEqual([version, 200, '2.1.0']);
      }
      for (const version of ['2.1', '2.1.0', 'v2.1', '3']) {
        const res = await update({ version, key: license.key });
        expect([version, res.status, res.text]).toEqual([version, 204, '']);
      }
    });

    it('follows inclusive channels and the platform, never offering yanked or unpublished releases', async () => {
      expect((await update({ version: '2.1', channel: 'beta', key: license.key })).body.version).toBe('2.2.0-beta.1');
      expect((await update({ version: '2.1', channel: 'stable', key: license.key })).status).toBe(204);
      expect((await update({ version: '2.1', channel: 'dev', key: license.key })).status).toBe(204);
      expect((await update({ version: '2.2', channel: 'alpha', key: license.key })).status).toBe(204); // 2.5.0 yanked, 3.0.0 unpublished
      expect((await update({ version: '1', platform: 'linux', key: license.key })).body.version).toBe('4.0.0');
      expect((await update({ version: '1', platform: 'macos', key: license.key })).status).toBe(204);
    });

    it('answers the latest release, or 404 as a plain error', async () => {
      const res = await latest({ key: license.key });
      expect(res.status).toBe(200);
      expect(res.body.version).toBe('2.1.0');
      expect(res.body.url).toBe(`${t.config.publicUrl}/v3/${r['2.1.0'].id}?key=${license.key}`);
      expect((await latest({ channel: 'beta', key: license.key })).body.version).toBe('2.2.0-beta.1');
      expect((await latest({ platform: 'linux', key: license.key })).body.version).toBe('4.0.0');
      expectPlainError(await latest({ platform: 'macos', key: license.key }), 404, 'NOT_FOUND');
    });

    it('refuses a key of another product, another account, or no key at all', async () => {
      expectPlainError(await update({ version: '1.0', key: otherProductLicense.key }), 401, 'LICENSE_INVALID');
      expectPlainError(await latest({ key: otherProductLicense.key }), 401, 'LICENSE_INVALID');
      expectPlainError(await update({ version: '1.0', key: 'AAAAAA-BBBBBB-CCCCCC' }), 401, 'LICENSE_INVALID');
      const other = await createAccount(t);
      const foreign = await createLicense(t, other, (await createProduct(t, other)).id);
      expectPlainError(await update({ version: '1.0', key: foreign.key }), 401, 'LICENSE_INVALID');
      expectPlainError(await update({ version: '1.0' }), 401, 'TOKEN_MISSING');
      expectPlainError(await latest({}), 401, 'TOKEN_MISSING');
      // an unknown product answers as a bad credential would: nothing tells whether the id exists elsewhere
      expectPlainError(await update({ version: '1.0', key: license.key, productId: '00000000-0000-4000-8000-000000000000' }), 401, 'LICENSE_INVALID');
      expectPlainError(await update({ version: '1.0', productId: '00000000-0000-4000-8000-000000000000' }), 401, 'TOKEN_MISSING');
    });

    it('refuses a suspended license', async () => {
      const suspended = await createLicense(t, account, product.id);
      expect((await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses/${suspended.id}/actions/suspend`)).status).toBe(200);
      expectPlainError(await update({ version: '1.0', key: suspended.key }), 403, 'LICENSE_SUSPENDED');
    });
  });

  describe('with a user token (Authorization: Bearer)', () => {
    it('answers for a user owning a license of the product, with a url without the key', async () => {
      const res = await update({ version: '2.0' }, bearer(owner.token));
      expect(res.status).toBe(200);
      expect(res.body.version).toBe('2.1.0');
      expect(res.body.url).toBe(`${t.config.publicUrl}/v3/${r['2.1.0'].id}`);
      const l = await latest({}, bearer(owner.token));
      expect(l.status).toBe(200);
      expect(l.body.url).toBe(`${t.config.publicUrl}/v3/${r['2.1.0'].id}`);
      expect((await update({ version: '2.1' }, bearer(owner.token))).status).toBe(204);
    });

    it('refuses a user with no license of the product, and an invalid token', async () => {
      expectPlainError(await update({ version: '1.0' }, bearer(stranger.token)), 403, 'FORBIDDEN');
      expectPlainError(await latest({}, bearer(stranger.token)), 403, 'FORBIDDEN');
      expectPlainError(await update({ version: '1.0' }, bearer('not-a-real-token')), 401, 'TOKEN_INVALID');
      expectPlainError(await update({ version: '1.0' }, 'Weird scheme'), 401, 'TOKEN_INVALID');
    });

    it('accepts an admin token, still offering only published releases', async () => {
      const res = await update({ version: '2.2' }, bearer(account.adminToken));
      expect(res.status).toBe(204);
      expect((await latest({}, bearer(account.adminToken))).body.version).toBe('2.1.0');
    });
  });

  describe('parameters', () => {
    const cases: Array<[string, 'update' | 'latest', Record<string, string | undefined>, string]> = [
      ['missing productId', 'update', { productId: undefined, version: '1.0' }, 'productId'],
      ['productId not an id', 'update', { productId: 'my-app', version: '1.0' }, 'productId'],
      ['missing platform', 'update', { platform: undefined, version: '1.0' }, 'platform'],
      ['missing version', 'update', {}, 'version'],
      ['garbage version', 'update', { version: 'x.y' }, 'version'],
      ['unknown channel', 'update', { version: '1.0', channel: 'nightly' }, 'channel'],
      ['latest without productId', 'latest', { productId: undefined }, 'productId'],
      ['latest without platform', 'latest', { platform: '' }, 'platform'],
      ['latest with an unknown channel', 'latest', { channel: 'canary' }, 'channel'],
    ];

    it.each(cases)('%s is 400 with a plain error naming it', async (_name, route, params, parameter) => {
      const res = await (route === 'update' ? update : latest)({ key: license.key, ...params });
      expectPlainError(res, 400, 'PARAMETER_INVALID');
      expect(res.body.message).toContain(parameter);
    });
  });

  describe('counters', () => {
    it('counts an update answered to a license or user, not to an admin nor when there is none', async () => {
      const count = async () => (await releaseAttributes(t, account, r['2.1.0'].id)).upgrades as number;
      const before = await count();
      expect((await update({ version: '2.0', key: license.key })).status).toBe(200);
      expect(await count()).toBe(before + 1);
      expect((await update({ version: '2.0' }, bearer(owner.token))).status).toBe(200);
      expect(await count()).toBe(before + 2);
      expect((await update({ version: '2.0' }, bearer(account.adminToken))).status).toBe(200);
      expect((await update({ version: '2.1', key: license.key })).status).toBe(204);
      expect((await latest({ key: license.key })).status).toBe(200);
      expect(await count()).toBe(before + 2);
    });
  });

  describe('downloads (GET /v3/:releaseId)', () => {
    const downloads = async (id: string) => (await releaseAttributes(t, account, id)).downloads as number;
    const basename = (f: string) => f.split('/').pop()!;

    it('streams the file with its name to a license key, counting the download', async () => {
      const rel = r['2.1.0'];
      const before = await downloads(rel.id);
      const res = await get(`/v3/${rel.id}?key=${license.key}`).buffer(true).parse((response, cb) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect(res.status).toBe(200);
      expect((res.body as Buffer).equals(rel.bytes!)).toBe(true);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${basename(rel.filename)}"`);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-length']).toBe(String(rel.bytes!.length));
      expect(await downloads(rel.id)).toBe(before + 1);
    });

    it('answers a single range with 206 and several with 206 multipart/byteranges', async () => {
      const rel = r['2.1.0'];
      const one = await fetchBytes(`${t.baseUrl}/v3/${rel.id}?key=${license.key}`, { Range: 'bytes=10-19' });
      expect(one.status).toBe(206);
      expect(one.headers.get('content-range')).toBe(`bytes 10-19/${rel.bytes!.length}`);
      expect(one.body.equals(rel.bytes!.subarray(10, 20))).toBe(true);
      const several = await fetchBytes(`${t.baseUrl}/v3/${rel.id}?key=${license.key}`, { Range: 'bytes=0-9, 50-59' });
      expect(several.status).toBe(206);
      const parts = parseByteranges(several.body, several.headers.get('content-type'));
      expect(parts.map((p) => [p.start, p.end])).toEqual([
        [0, 9],
        [50, 59],
      ]);
      for (const p of parts) expect(p.body.equals(rel.bytes!.subarray(p.start, p.end + 1))).toBe(true);
    });

    it('answers HEAD with the headers only, without counting a download', async () => {
      const rel = r['2.1.0'];
      const before = await downloads(rel.id);
      const res = await t.http.head(`/v3/${rel.id}?key=${license.key}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${basename(rel.filename)}"`);
      expect(res.headers['content-length']).toBe(String(rel.bytes!.length));
      expect(await downloads(rel.id)).toBe(before);
    });

    it('streams to a user token and an admin token (the admin is not counted)', async () => {
      const rel = r['2.0.0'];
      const before = await downloads(rel.id);
      expect((await get(`/v3/${rel.id}`, bearer(owner.token))).status).toBe(200);
      expect(await downloads(rel.id)).toBe(before + 1);
      expect((await get(`/v3/${rel.id}`, bearer(account.adminToken))).status).toBe(200);
      expect(await downloads(rel.id)).toBe(before + 1);
    });

    it('is 404 for releases the caller cannot see or that have no file', async () => {
      for (const id of [r.yanked.id, r.unpublished.id]) {
        expectPlainError(await get(`/v3/${id}?key=${license.key}`), 404, 'NOT_FOUND');
        expectPlainError(await get(`/v3/${id}`, bearer(owner.token)), 404, 'NOT_FOUND');
      }
      expectPlainError(await get(`/v3/${r.unpublished.id}`, bearer(account.adminToken)), 404, 'NOT_FOUND');
      expect(await downloads(r.yanked.id)).toBe(0);
    });

    it('refuses missing, foreign and unrelated credentials', async () => {
      const id = r['2.1.0'].id;
      expectPlainError(await get(`/v3/${id}`), 401, 'TOKEN_MISSING');
      expectPlainError(await get(`/v3/${id}?key=${otherProductLicense.key}`), 401, 'LICENSE_INVALID');
      expectPlainError(await get(`/v3/${id}`, bearer(stranger.token)), 403, 'FORBIDDEN');
      const other = await createAccount(t);
      const foreign = await createLicense(t, other, (await createProduct(t, other)).id);
      expectPlainError(await get(`/v3/${id}?key=${foreign.key}`), 401, 'LICENSE_INVALID');
      expectPlainError(await get(`/v3/${id}`, bearer(other.adminToken)), 401, 'TOKEN_INVALID');
      for (const unknown of ['00000000-0000-4000-8000-000000000000', 'not-an-id']) {
        expectPlainError(await get(`/v3/${unknown}?key=${license.key}`), 401, 'LICENSE_INVALID');
        expectPlainError(await get(`/v3/${unknown}`), 401, 'TOKEN_MISSING');
      }
    });

    describe('with curl -O -J -L', () => {
      let dir: string;
      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-curl-'));
      });
      afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

      it('saves the file under its own name from the url of an update check (license key)', async () => {
        const check = await update({ version: '2.0', key: license.key });
        const url = onTestServer(t, check.body.url);
        await run('curl', ['-s', '-S', '-f', '-O', '-J', '-L', url], { cwd: dir });
        const rel = r['2.1.0'];
        expect(fs.readdirSync(dir)).toEqual([basename(rel.filename)]);
        expect(fs.readFileSync(path.join(dir, basename(rel.filename))).equals(rel.bytes!)).toBe(true);
      });

      it('saves the file under its own name with a bearer token', async () => {
        const rel = r['1.0.0'];
        await run('curl', ['-s', '-S', '-f', '-O', '-J', '-L', `${t.baseUrl}/v3/${rel.id}`, '-H', `Authorization: Bearer ${owner.token}`], { cwd: dir });
        expect(fs.readdirSync(dir)).toEqual([basename(rel.filename)]);
        expect(fs.readFileSync(path.join(dir, basename(rel.filename))).equals(rel.bytes!)).toBe(true);
      });

      it('fails (and saves nothing) for a key that may not download', async () => {
        await expect(run('curl', ['-s', '-S', '-f', '-O', '-J', '-L', `${t.baseUrl}/v3/${r['2.1.0'].id}?key=${otherProductLicense.key}`], { cwd: dir })).rejects.toThrow();
        expect(fs.readdirSync(dir)).toEqual([]);
      });
    });
  });
});

describe('v3 downloads with S3 storage', () => {
  let s3: { run(): Promise<{ port: number }>; close(): Promise<void> };
  let s3Dir: string;
  let t: TestApp;
  let account: TestAccount;
  let license: TestLicense;
  let release: UpgradeRelease;

  beforeAll(async () => {
    s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-s3rver-'));
    // s3rver (a local S3 implementation, a dev dependency) ships no type declarations
    const S3 = ((await import('s3rver' as string)) as { default: new (options: Record<string, unknown>) => typeof s3 }).default;
    s3 = new S3({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'v3-artifacts' }] });
    const { port } = await s3.run();
    t = await startApp({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'v3-artifacts',
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    });
    account = await createAccount(t);
    const product = await createProduct(t, account);
    license = await createLicense(t, account, product.id);
    release = await releaseWithFile(t, account, product.id, '1.0.0', { attrs: { platform: 'windows', filetype: 'zip', filename: 'win/MyApp-S3.zip' } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  });

  it('redirects (302) to a presigned URL that serves the file with its name, counting the download', async () => {
    const res = await t.http.get(`/v3/${release.id}?key=${license.key}`).redirects(0);
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3-artifacts\//);
    expect((await releaseAttributes(t, account, release.id)).downloads).toBe(1);
    const file = await fetch(res.headers.location);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(release.bytes!)).toBe(true);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="MyApp-S3.zip"');
  });

  it('serves several ranges itself, read from S3 range by range (S3 answers one range per request)', async () => {
    const res = await fetchBytes(`${t.baseUrl}/v3/${release.id}?key=${license.key}`, { Range: 'bytes=0-9,50-59' });
    expect(res.status).toBe(206);
    const parts = parseByteranges(res.body, res.headers.get('content-type'));
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 9],
      [50, 59],
    ]);
    for (const p of parts) expect(p.body.equals(release.bytes!.subarray(p.start, p.end + 1))).toBe(true);
    // one range: the presigned URL, as before
    expect((await fetchBytes(`${t.baseUrl}/v3/${release.id}?key=${license.key}`, { Range: 'bytes=0-9' })).status).toBe(302);
  });

  it('works with curl -O -J -L', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-curl-'));
    try {
      await run('curl', ['-s', '-S', '-f', '-O', '-J', '-L', `${t.baseUrl}/v3/${release.id}?key=${license.key}`], { cwd: dir });
      expect(fs.readdirSync(dir)).toEqual(['MyApp-S3.zip']);
      expect(fs.readFileSync(path.join(dir, 'MyApp-S3.zip')).equals(release.bytes!)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
