import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { CountersService } from '../../src/counters/counters.service';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, createProductToken } from '../support/catalogue.factories';
import type { TestLicense } from '../support/catalogue.factories';
import { bearer, createAccount, TestAccount } from '../support/factories';
import { buildWheel, createPackage, npmPack, publishPackageRelease, run, tempDir } from '../support/package.factories';
import { constrainRelease } from '../support/release.factories';
import { v11Client } from '../support/v11.factories';

const CLI = path.resolve('dist/src/cli/main.js');

/**
 * The packages resource (who reads and writes it, releases in a package, `?package=`), the raw
 * engine's vanity URLs with the real curl, and `shipgate publish --package`.
 */
describe('packages and the raw engine', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let otherProductId: string;
  let productToken: string;
  let license: TestLicense;
  let otherLicense: TestLicense;
  let work: string;
  const admin = () => v11Client(t, bearer(account.adminToken));
  const root = () => `/v1/accounts/${account.id}`;

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    productId = (await createProduct(t, account, { code: 'acme-app' })).id;
    otherProductId = (await createProduct(t, account, { code: 'other-app' })).id;
    productToken = (await createProductToken(t, account, productId)).token;
    license = await createLicense(t, account, productId);
    otherLicense = await createLicense(t, account, otherProductId);
    work = tempDir('packages');
  });
  afterAll(async () => {
    await t?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  describe('the packages resource', () => {
    let pkgId: string;

    it('an admin creates one (201, Location); the key is unique per account (422 KEY_TAKEN) and must be a package name (422 KEY_INVALID)', async () => {
      const res = await admin().post(`${root()}/packages`, {
        data: { type: 'packages', attributes: { name: 'Acme SDK', key: 'acme-sdk', engine: 'pypi' }, relationships: { product: { data: { type: 'products', id: 'acme-app' } } } },
      });
      expect(res.status).toBe(201);
      expect(res.headers.location).toContain(`/packages/${res.body.data.id}`);
      expect(res.body.data.attributes).toMatchObject({ name: 'Acme SDK', key: 'acme-sdk', engine: 'pypi', metadata: {} });
      expect(res.body.data.relationships.product.data).toEqual({ type: 'products', id: productId });
      pkgId = res.body.data.id;
      const taken = await admin().post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: 'acme-sdk' }, relationships: { product: { data: { type: 'products', id: productId } } } } });
      expect(taken.status).toBe(422);
      expect(taken.body.errors[0]).toMatchObject({ code: 'KEY_TAKEN', source: { pointer: '/data/attributes/key' } });
      // compared as pip compares names
      const normal = await admin().post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: 'Acme_SDK' }, relationships: { product: { data: { type: 'products', id: productId } } } } });
      expect(normal.status).toBe(422);
      expect(normal.body.errors[0].code).toBe('KEY_TAKEN');
      const bad = await admin().post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: '../etc' }, relationships: { product: { data: { type: 'products', id: productId } } } } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]).toMatchObject({ code: 'KEY_INVALID', source: { pointer: '/data/attributes/key' } });
      const engine = await admin().post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: 'x', engine: 'maven' }, relationships: { product: { data: { type: 'products', id: productId } } } } });
      expect(engine.status).toBe(422);
      expect(engine.body.errors[0].source.pointer).toBe('/data/attributes/engine');
    });

    it("the product's token writes its product's packages only; licenses read their product's, not another's; anonymous callers 401 on writes", async () => {
      const token = v11Client(t, bearer(productToken));
      const own = await token.post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'CLI', key: '@acme/cli', engine: 'npm' }, relationships: { product: { data: { type: 'products', id: productId } } } } });
      expect(own.status).toBe(201);
      const other = await token.post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'Nope', key: 'nope' }, relationships: { product: { data: { type: 'products', id: otherProductId } } } } });
      expect(other.status).toBe(403);
      const mine = await v11Client(t, `License ${license.key}`).get(`${root()}/packages?sort=key`);
      expect(mine.status).toBe(200);
      expect(mine.body.data.map((p: { attributes: { key: string } }) => p.attributes.key)).toEqual(['@acme/cli', 'acme-sdk']);
      const theirs = await v11Client(t, `License ${otherLicense.key}`).get(`${root()}/packages`);
      expect(theirs.body.data).toEqual([]);
      expect((await v11Client(t, `License ${otherLicense.key}`).get(`${root()}/packages/acme-sdk`)).status).toBe(404);
      expect((await v11Client(t, `License ${license.key}`).post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: 'y' }, relationships: { product: { data: { type: 'products', id: productId } } } } })).status).toBe(403);
      expect((await v11Client(t).post(`${root()}/packages`, { data: { type: 'packages', attributes: { name: 'x', key: 'y' } } })).status).toBe(401);
      const filtered = await admin().get(`${root()}/packages?engine=npm`);
      expect(filtered.body.data.map((p: { attributes: { key: string } }) => p.attributes.key)).toEqual(['@acme/cli']);
      expect((await admin().get(`${root()}/packages?engine=maven`)).status).toBe(400);
    });

    it('by id or key; PATCH; releases belong to a package (one version per package), GET /releases?package= by id or key', async () => {
      expect((await admin().get(`${root()}/packages/acme-sdk`)).body.data.id).toBe(pkgId);
      const patched = await admin().patch(`${root()}/packages/${pkgId}`, { data: { type: 'packages', id: pkgId, attributes: { name: 'Acme SDK for Python', metadata: { lang: 'python' } } } });
      expect(patched.status).toBe(200);
      expect(patched.body.data.attributes).toMatchObject({ name: 'Acme SDK for Python', metadata: { lang: 'python' } });
      const cli = (await admin().get(`${root()}/packages/@acme%2Fcli`)).body.data.id;
      const make = (pkg: string | null, version: string) =>
        admin().post(`${root()}/releases`, {
          data: {
            type: 'releases',
            attributes: { version, channel: 'stable' },
            relationships: { product: { data: { type: 'products', id: productId } }, ...(pkg ? { package: { data: { type: 'packages', id: pkg } } } : {}) },
          },
        });
      const a = await make(pkgId, '3.0.0');
      expect(a.status).toBe(201);
      expect(a.body.data.relationships.package.data).toEqual({ type: 'packages', id: pkgId });
      // the same version in another package of the product, and in none
      expect((await make(cli, '3.0.0')).status).toBe(201);
      expect((await make(null, '3.0.0')).status).toBe(201);
      const again = await make('acme-sdk', '3.0.0');
      expect(again.status).toBe(422);
      expect(again.body.errors[0].code).toBe('VERSION_TAKEN');
      const foreign = await createPackage(t, account, otherProductId, { key: 'other-sdk', engine: 'pypi' });
      const wrong = await make(foreign.id, '3.0.1');
      expect(wrong.status).toBe(422);
      expect(wrong.body.errors[0]).toMatchObject({ code: 'PACKAGE_NOT_FOUND', source: { pointer: '/data/relationships/package' } });
      for (const ref of [pkgId, 'acme-sdk']) {
        const list = await admin().get(`${root()}/releases?package=${encodeURIComponent(ref)}`);
        expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([a.body.data.id]);
      }
      expect((await admin().get(`${root()}/releases?package=unknown-key`)).body.data).toEqual([]);
      // 1.0 lists take the filter too (from memory and SQL alike)
      const v10 = await t.http.get(`${root()}/releases?package=${pkgId}`).set('Authorization', bearer(account.adminToken));
      expect(v10.body.data.map((r: { id: string }) => r.id)).toEqual([a.body.data.id]);
      // moved out of the package by PATCH: not while the product has that version in no package
      const clash = await admin().patch(`${root()}/releases/${a.body.data.id}`, { data: { type: 'releases', id: a.body.data.id, relationships: { package: { data: null } } } });
      expect(clash.status).toBe(422);
      expect(clash.body.errors[0].code).toBe('VERSION_TAKEN');
      const b = (await make(pkgId, '3.1.0')).body.data.id;
      await admin().delete(`${root()}/releases/${a.body.data.id}`);
      const out = await admin().patch(`${root()}/releases/${b}`, { data: { type: 'releases', id: b, relationships: { package: { data: null } } } });
      expect(out.status).toBe(200);
      expect(out.body.data.relationships.package.data).toBeNull();
      expect((await admin().get(`${root()}/releases?package=acme-sdk`)).body.data).toEqual([]);
    });

    it('deleting a package whose version the product also has outside any package is 422, not a clash', async () => {
      const pkg = await createPackage(t, account, productId, { key: 'clashing' });
      await publishPackageRelease(t, account, productId, pkg.id, '8.8.8', []);
      const outside = await admin().post(`${root()}/releases`, {
        data: { type: 'releases', attributes: { version: '8.8.8', channel: 'stable' }, relationships: { product: { data: { type: 'products', id: productId } } } },
      });
      expect(outside.status).toBe(201);
      const res = await admin().delete(`${root()}/packages/${pkg.id}`);
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('PACKAGE_HAS_RELEASES');
      expect((await admin().get(`${root()}/packages/clashing`)).status).toBe(200);
    });

    it('deleting a package keeps its releases (in no package); created, changed and deleted are events', async () => {
      const pkg = await createPackage(t, account, productId, { key: 'short-lived' });
      const r = await publishPackageRelease(t, account, productId, pkg.id, '9.9.9', []);
      expect((await admin().patch(`${root()}/packages/${pkg.id}`, { data: { type: 'packages', id: pkg.id, attributes: { name: 'Short-lived' } } })).status).toBe(200);
      expect((await admin().delete(`${root()}/packages/${pkg.id}`)).status).toBe(204);
      const events = (await admin().get(`${root()}/events?resource=${pkg.id}`)).body.data.map((e: { attributes: { event: string } }) => e.attributes.event);
      expect(events.sort()).toEqual(['package.created', 'package.deleted', 'package.updated']);
      const release = await admin().get(`${root()}/releases/${r.id}`);
      expect(release.status).toBe(200);
      expect(release.body.data.relationships.package.data).toBeNull();
    });
  });

  describe('raw engine with curl -L', () => {
    const files: Record<string, Buffer> = {};
    let entitlementId: string;

    beforeAll(async () => {
      const pkg = await createPackage(t, account, productId, { key: 'acme-tools', engine: 'raw' });
      entitlementId = (await createEntitlement(t, account, { code: 'TOOLS' })).id;
      for (const v of ['1.0.0', '1.1.0', '1.2.0-beta.1']) {
        files[v] = Buffer.from(`acme tools ${v}\n`);
        fs.writeFileSync(path.join(work, `acme-${v}.tar.gz`), files[v]);
      }
      // the same file name in every version, as vanity URLs expect
      const publish = async (v: string, attrs: Record<string, unknown> = {}) => {
        const dir = fs.mkdtempSync(path.join(work, 'raw-'));
        fs.writeFileSync(path.join(dir, 'acme.tar.gz'), files[v]);
        return publishPackageRelease(t, account, productId, pkg.id, v, [{ file: path.join(dir, 'acme.tar.gz') }], attrs);
      };
      await publish('1.0.0', { tag: 'lts' });
      await publish('1.1.0');
      await publish('1.2.0-beta.1');
    });

    const curl = (url: string, key: string) =>
      run('curl', ['-sS', '-fL', '-u', `license:${key}`, '--max-time', '20', url], { encoding: 'buffer' } as never).then(
        (r) => ({ ok: true, body: (r as unknown as { stdout: Buffer }).stdout }),
        (e: { stderr: Buffer }) => ({ ok: false, body: Buffer.from(e.stderr ?? '') }),
      );
    const url = (release: string) => `${t.baseUrl}/v1/accounts/${account.slug}/engines/raw/acme-app/@acme-tools/${release}/acme.tar.gz`;

    it('latest is the newest stable file; a version and a tag name theirs', async () => {
      expect((await curl(url('latest'), license.key)).body.toString()).toBe(files['1.1.0'].toString());
      expect((await curl(url('1.2.0-beta.1'), license.key)).body.toString()).toBe(files['1.2.0-beta.1'].toString());
      expect((await curl(url('lts'), license.key)).body.toString()).toBe(files['1.0.0'].toString());
    }, 60_000);

    it("another product's license gets nothing; a missing file or version is 404; no credential is 401", async () => {
      expect((await curl(url('latest'), otherLicense.key)).ok).toBe(false);
      const missing = await t.http.get(`/v1/accounts/${account.slug}/engines/raw/acme-app/@acme-tools/latest/nope.tar.gz`).auth('license', license.key);
      expect(missing.status).toBe(404);
      expect(missing.body.errors[0].code).toBe('NOT_FOUND');
      expect((await t.http.get(`/v1/accounts/${account.slug}/engines/raw/acme-app/@acme-tools/7.7.7/acme.tar.gz`).auth('license', license.key)).status).toBe(404);
      const anonymous = await t.http.get(`/v1/accounts/${account.slug}/engines/raw/acme-app/@acme-tools/latest/acme.tar.gz`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
    }, 60_000);

    it('a constraint the license lacks moves latest back to the newest release it may have', async () => {
      const list = (await admin().get(`${root()}/releases?package=acme-tools&version=1.1.0`)).body.data;
      await constrainRelease(t, account, list[0].id, [entitlementId]);
      expect((await curl(url('latest'), license.key)).body.toString()).toBe(files['1.0.0'].toString());
      expect((await t.http.get(`/v1/accounts/${account.slug}/engines/raw/acme-app/@acme-tools/1.1.0/acme.tar.gz`).auth('license', license.key)).status).toBe(404);
    }, 60_000);
  });

  it('an OPEN product\'s package needs no credential; a licensed one asks for it', async () => {
    const openProduct = (await createProduct(t, account, { code: 'open-app', distributionStrategy: 'OPEN' })).id;
    const pkg = await createPackage(t, account, openProduct, { key: 'open-sdk', engine: 'pypi' });
    const file = path.join(fs.mkdtempSync(path.join(work, 'open-')), 'open_sdk-1.0.0-py3-none-any.whl');
    fs.writeFileSync(file, 'not really a wheel');
    await publishPackageRelease(t, account, openProduct, pkg.id, '1.0.0', [{ file }]);
    const page = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/open-sdk/`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('open_sdk-1.0.0-py3-none-any.whl');
    const index = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/`);
    expect(index.text).toContain('href="open-sdk/"');
    expect(index.text).not.toContain('acme-sdk');
    const href = /href="([^"#]+)#sha256=/.exec(page.text)![1];
    expect((await t.http.get(href).redirects(0)).status).toBe(303);
  });

  it('engine routes answer odd names and ids with 4xx, never 500', async () => {
    const a = `/v1/accounts/${account.slug}/engines`;
    const odd = ['x'.repeat(2000), '%E2%82%AC', '..%2F..%2Fetc', '%40', '@', '-', 'null', '%20', 'ACME_sdk', '00000000-0000-0000-0000-000000000000'];
    for (const name of odd) {
      for (const path of [
        `${a}/pypi/simple/${name}/`,
        `/v1/accounts/${account.id}/engines/pypi/files/acme-sdk/${name}/${name}`,
        `${a}/npm/${name}`,
        `${a}/npm/@acme/${name}`,
        `${a}/npm/${name}/-/${name}/${name}`,
        `${a}/raw/${name}/latest/${name}`,
        `${a}/raw/acme-app/@${name}/${name}/x.tar.gz`,
      ]) {
        for (const auth of [undefined, `License ${license.key}`, `Bearer ${account.adminToken}`]) {
          const req = t.http.get(path);
          if (auth) req.set('Authorization', auth);
          const res = await req;
          expect({ path: path.slice(0, 120), status: res.status < 500 }).toEqual({ path: path.slice(0, 120), status: true });
        }
      }
    }
  }, 60_000);

  describe('analytics per package', () => {
    it("downloads per version and per file, for admins and the product's token; customers 403", async () => {
      await t.app.get(CountersService).flush();
      const res = await admin().get(`${root()}/packages/acme-tools/analytics/downloads`);
      expect(res.status).toBe(200);
      expect(res.body.meta.package).toBe('acme-tools');
      const byVersion = Object.fromEntries(res.body.data.map((v: { version: string; downloads: number; files: unknown[] }) => [v.version, v]));
      expect(Object.keys(byVersion)).toEqual(['1.2.0-beta.1', '1.1.0', '1.0.0']);
      // latest (1.1.0), the beta and lts (1.0.0); after 1.1.0's constraint, latest is 1.0.0 again
      expect(byVersion['1.1.0'].downloads).toBe(1);
      expect(byVersion['1.0.0'].downloads).toBe(2);
      expect(byVersion['1.0.0'].files).toEqual([{ filename: 'acme.tar.gz', downloads: 2 }]);
      expect(res.body.meta.downloads).toBe(4);
      expect((await v11Client(t, bearer(productToken)).get(`${root()}/packages/acme-tools/analytics/downloads`)).status).toBe(200);
      expect((await v11Client(t, `License ${license.key}`).get(`${root()}/packages/acme-tools/analytics/downloads`)).status).toBe(403);
    });
  });

  describe('shipgate publish --package', () => {
    it('publishes a directory of wheels as a version of the package, with each wheel\'s Requires-Python', async () => {
      const dist = fs.mkdtempSync(path.join(work, 'dist-'));
      const wheel = await buildWheel(dist, 'acme-sdk', '4.0.0', '>=3.9');
      // a second wheel of the version (another tag), without Requires-Python
      const other = await buildWheel(fs.mkdtempSync(path.join(work, 'other-')), 'acme-sdk', '4.0.0');
      const renamed = path.join(dist, 'acme_sdk-4.0.0-py2.py3-none-any.whl');
      fs.renameSync(other, renamed);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [CLI, 'publish', wheel, renamed, '--package', 'acme-sdk', '--version', '4.0.0'],
          { env: { PATH: process.env.PATH ?? '', HOME: work, SHIPGATE_URL: t.baseUrl, SHIPGATE_ACCOUNT: account.slug, SHIPGATE_TOKEN: productToken } },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(result).toMatchObject({ code: 0 });
      expect(result.stderr).toContain('created release');
      const releases = (await admin().get(`${root()}/releases?package=acme-sdk&version=4.0.0`)).body.data;
      expect(releases).toHaveLength(1);
      const artifacts = (await admin().get(`${root()}/releases/${releases[0].id}/artifacts`)).body.data;
      const byName = Object.fromEntries(artifacts.map((a: { attributes: Record<string, unknown> }) => [a.attributes.filename, a.attributes]));
      expect(byName[path.basename(wheel)]).toMatchObject({ status: 'UPLOADED', sha256: createHash('sha256').update(fs.readFileSync(wheel)).digest('hex'), metadata: { requiresPython: '>=3.9' } });
      expect(byName[path.basename(renamed)].metadata).toEqual({});
      // a re-run uploads nothing again
      const again = await new Promise<number>((resolve) =>
        execFile(
          process.execPath,
          [CLI, 'publish', wheel, renamed, '--package', 'acme-sdk', '--version', '4.0.0'],
          { env: { PATH: process.env.PATH ?? '', HOME: work, SHIPGATE_URL: t.baseUrl, SHIPGATE_ACCOUNT: account.slug, SHIPGATE_TOKEN: productToken } },
          (error) => resolve(error ? 1 : 0),
        ),
      );
      expect(again).toBe(0);
    }, 60_000);

    it('publishes an npm tarball to a scoped package: its package.json is read at upload and the packument lists it', async () => {
      const tarball = await npmPack(fs.mkdtempSync(path.join(work, 'npm-')), '@acme/cli', '5.0.0');
      const result = await new Promise<number>((resolve) =>
        execFile(
          process.execPath,
          [CLI, 'publish', tarball, '--package', '@acme/cli', '--version', '5.0.0'],
          { env: { PATH: process.env.PATH ?? '', HOME: work, SHIPGATE_URL: t.baseUrl, SHIPGATE_ACCOUNT: account.slug, SHIPGATE_TOKEN: productToken } },
          (error) => resolve(error ? 1 : 0),
        ),
      );
      expect(result).toBe(0);
      const doc = (await t.http.get(`/v1/accounts/${account.slug}/engines/npm/@acme/cli`).set('Authorization', `Bearer ${license.key}`)).body;
      expect(doc['dist-tags'].latest).toBe('5.0.0');
      expect(doc.versions['5.0.0']).toMatchObject({ name: '@acme/cli', version: '5.0.0', main: 'index.js', description: '@acme/cli for tests' });
      expect(doc.versions['5.0.0'].dist.integrity).toBe(`sha512-${createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`);
    }, 60_000);
  });
});
