import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { CountersService } from '../../src/counters/counters.service';
import { startApp, TestApp } from '../support/app';
import { createLicense, createProduct } from '../support/catalogue.factories';
import type { TestLicense } from '../support/catalogue.factories';
import { bearer, createAccount, TestAccount } from '../support/factories';
import { createPackage, npmPack, publishPackageRelease, run, tempDir } from '../support/package.factories';
import { v11Client } from '../support/v11.factories';

/**
 * The npm engine with the real npm: a project whose `.npmrc` points the `@acme` scope (and the
 * default registry, so that npm's audit asks Shipgate too) at the engine, with a license key as
 * `_authToken`. npm install, npm view and a wrong key, each in its own cache.
 */
describe('npm engine: npm install of a scoped package through .npmrc', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let license: TestLicense;
  let work: string;
  let registry: string;
  const tarballs: Record<string, string> = {};
  let releases: Record<string, { id: string; artifacts: Record<string, string> }> = {};

  /** A fresh project dir with its own .npmrc and npm cache. */
  function project(key: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'project-'));
    const nerf = registry.replace(/^http:/, '');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    fs.writeFileSync(
      path.join(dir, '.npmrc'),
      [`@acme:registry=${registry}`, `registry=${registry}`, `${nerf}:_authToken=${key}`, `cache=${path.join(dir, '.cache')}`, 'update-notifier=false', 'fund=false', 'fetch-retries=0', 'fetch-timeout=20000', ''].join('\n'),
    );
    return dir;
  }
  const npm = (dir: string, args: string[]) => run('npm', args, { cwd: dir, timeout: 90_000, env: { PATH: process.env.PATH!, HOME: dir } });
  const installed = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', '@acme', 'cli', 'package.json'), 'utf8')).version;

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    registry = `http://127.0.0.1:${port}/v1/accounts/${account.slug}/engines/npm/`;
    productId = (await createProduct(t, account, { code: 'acme-cli-product' })).id;
    license = await createLicense(t, account, productId);
    const pkg = await createPackage(t, account, productId, { key: '@acme/cli', engine: 'npm' });
    work = tempDir('npm');
    for (const v of ['1.0.0', '1.1.0', '2.0.0-beta.1']) tarballs[v] = await npmPack(work, '@acme/cli', v);
    releases = {};
    for (const v of ['1.0.0', '1.1.0', '2.0.0-beta.1']) releases[v] = await publishPackageRelease(t, account, productId, pkg.id, v, [{ file: tarballs[v] }]);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('npm install @acme/cli installs the latest stable version; its audit call is answered and install completes', async () => {
    const dir = project(license.key);
    const { stderr } = await npm(dir, ['install', '@acme/cli']);
    expect(installed(dir)).toBe('1.1.0');
    expect(stderr).not.toMatch(/ERR!/);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/@acme/cli'].integrity).toMatch(/^sha512-/);
    const { stdout } = await run('node', ['-e', "console.log(require('@acme/cli'))"], { cwd: dir });
    expect(stdout.trim()).toBe('1.1.0');
    // npm's audit asked this registry and was answered 404 (npm's own debug log of the run)
    const logs = path.join(dir, '.cache', '_logs');
    const log = fs.readdirSync(logs).map((f) => fs.readFileSync(path.join(logs, f), 'utf8')).join('\n');
    expect(log).toMatch(/POST 404 http:\/\/127\.0\.0\.1:\d+\/v1\/accounts\/[^/]+\/engines\/npm\/-\/npm\/v1\/security\/(advisories\/bulk|audits\/quick)/);
  }, 120_000);

  it('npm install @acme/cli@beta installs the beta channel\'s version', async () => {
    const dir = project(license.key);
    await npm(dir, ['install', '@acme/cli@beta']);
    expect(installed(dir)).toBe('2.0.0-beta.1');
  }, 120_000);

  it('npm view @acme/cli dist-tags shows latest and beta', async () => {
    const dir = project(license.key);
    const { stdout } = await npm(dir, ['view', '@acme/cli', 'dist-tags', '--json']);
    expect(JSON.parse(stdout)).toEqual({ latest: '1.1.0', beta: '2.0.0-beta.1' });
  }, 60_000);

  it('a wrong key fails with 401, at once', async () => {
    const dir = project('WRONG-0000-0000-0000');
    const started = Date.now();
    const error = await npm(dir, ['install', '@acme/cli']).then(() => null, (e: { stderr: string }) => e);
    expect(error).not.toBeNull();
    expect(error!.stderr).toMatch(/E401|401/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error!.stderr).not.toContain('WRONG-0000-0000-0000');
  }, 60_000);

  it('the packument: dist.integrity sha512 and shasum from the tarball, scoped names as @scope%2fname too; the security routes are 404', async () => {
    const viaEncoded = await t.http.get(`/v1/accounts/${account.slug}/engines/npm/@acme%2fcli`).set('Authorization', `Bearer ${license.key}`);
    expect(viaEncoded.status).toBe(200);
    const doc = viaEncoded.body;
    expect(doc.name).toBe('@acme/cli');
    expect(Object.keys(doc.versions).sort()).toEqual(['1.0.0', '1.1.0', '2.0.0-beta.1']);
    const { createHash } = await import('node:crypto');
    const bytes = fs.readFileSync(tarballs['1.1.0']);
    expect(doc.versions['1.1.0'].dist.integrity).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);
    expect(doc.versions['1.1.0'].dist.shasum).toBe(createHash('sha1').update(bytes).digest('hex'));
    expect(doc.versions['1.1.0'].description).toBe('@acme/cli for tests');
    const audit = await t.http.post(`/v1/accounts/${account.slug}/engines/npm/-/npm/v1/security/advisories/bulk`).set('Authorization', `Bearer ${license.key}`).send({});
    expect(audit.status).toBe(404);
    // no key: 401 for a package of a licensed product
    expect((await t.http.get(`/v1/accounts/${account.slug}/engines/npm/@acme/cli`)).status).toBe(401);
  });

  it('the catalogue switched off (every answer from a fresh snapshot) answers the same packument', async () => {
    const sql = await startApp({ CATALOGUE: 'false', PUBLIC_URL: t.config.publicUrl });
    try {
      const get = (app: TestApp) => app.http.get(`/v1/accounts/${account.slug}/engines/npm/@acme%2fcli`).set('Authorization', `Bearer ${license.key}`);
      const [a, b] = [await get(t), await get(sql)];
      expect(a.status).toBe(200);
      expect(b.body).toEqual(a.body);
    } finally {
      await sql.close();
    }
  });

  it('a yanked release leaves the packument; tarball downloads are counted per artifact', async () => {
    const admin = v11Client(t, bearer(account.adminToken));
    expect((await admin.post(`/v1/accounts/${account.id}/releases/${releases['1.1.0'].id}/actions/yank`)).status).toBe(200);
    const doc = (await t.http.get(`/v1/accounts/${account.slug}/engines/npm/@acme/cli`).set('Authorization', `Bearer ${license.key}`)).body;
    expect(doc['dist-tags'].latest).toBe('1.0.0');
    expect(doc.versions['1.1.0']).toBeUndefined();
    await t.app.get(CountersService).flush();
    const artifact = await admin.get(`/v1/accounts/${account.id}/artifacts/${releases['1.1.0'].artifacts[path.basename(tarballs['1.1.0'])]}`).set('Prefer', 'no-redirect');
    expect(artifact.body.data.attributes.downloads).toBeGreaterThanOrEqual(1);
  });
});
