import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { CountersService } from '../../src/counters/counters.service';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct } from '../support/catalogue.factories';
import type { TestLicense } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { buildSdist, buildWheel, createPackage, publishPackageRelease, PYTHON, run, tempDir } from '../support/package.factories';
import { inCohort, insertLicenses } from '../support/policy.factories';
import { v11Client } from '../support/v11.factories';
import { bearer } from '../support/factories';
import { constrainRelease } from '../support/release.factories';

/**
 * The PyPI engine with the real pip, PyPI itself unreachable: pip downloads and installs from
 * Shipgate's simple index alone, with a license key in the index URL. Each license sees only what
 * the API lets it see: entitlements, yanks (PEP 592), a staged rollout, Requires-Python.
 */
describe('PyPI engine: pip against the simple index', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let work: string;
  let venv: string;
  /** With the SDK entitlement, and without it. */
  let pro: TestLicense;
  let basic: TestLicense;
  let releases: Record<string, { id: string; artifacts: Record<string, string> }> = {};
  const wheels: Record<string, string> = {};

  const indexUrl = (key?: string) => `http://${key ? `license:${key}@` : ''}127.0.0.1:${new URL(t.baseUrl).port}/v1/accounts/${account.slug}/engines/pypi/simple/`;
  const pip = (args: string[], key?: string) =>
    run(path.join(venv, 'bin', 'pip'), [...args, '--no-cache-dir', '--no-input', '--disable-pip-version-check', '--timeout', '10', '--retries', '0', '--index-url', indexUrl(key)], {
      env: { PATH: process.env.PATH!, HOME: work, PIP_CONFIG_FILE: '/dev/null' },
      timeout: 60_000,
    });
  /** `pip download --no-deps` of `spec`: the downloaded file's name, or null when pip found none. */
  async function pipDownload(spec: string, key?: string): Promise<string | null> {
    const dest = fs.mkdtempSync(path.join(work, 'dl-'));
    try {
      await pip(['download', '--no-deps', '-d', dest, spec], key);
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? '');
      if (/No matching distribution|Could not find a version|401|403/.test(stderr)) return null;
      throw error;
    }
    const files = fs.readdirSync(dest);
    expect(files).toHaveLength(1);
    return files[0];
  }

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    productId = (await createProduct(t, account, { code: 'acme-sdk-product' })).id;
    const sdk = (await createEntitlement(t, account, { code: 'SDK' })).id;
    pro = await createLicense(t, account, productId, { entitlementIds: [sdk] });
    basic = await createLicense(t, account, productId);
    const pkg = await createPackage(t, account, productId, { key: 'acme-sdk', engine: 'pypi' });

    work = tempDir('pypi');
    venv = path.join(work, 'venv');
    await run(PYTHON, ['-m', 'venv', venv], { timeout: 120_000 });
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']) wheels[v] = await buildWheel(work, 'acme-sdk', v);
    wheels['2.0.0'] = await buildWheel(work, 'acme-sdk', '2.0.0', '>=4.0');
    const sdist = await buildSdist(work, 'acme-sdk', '1.2.0');
    const publish = (v: string, files: Array<{ file: string; metadata?: Record<string, unknown> }>, attrs: Record<string, unknown> = {}) =>
      publishPackageRelease(t, account, productId, pkg.id, v, files, attrs);
    releases = {
      '1.0.0': await publish('1.0.0', [{ file: wheels['1.0.0'] }]),
      '1.1.0': await publish('1.1.0', [{ file: wheels['1.1.0'] }]),
      '1.2.0': await publish('1.2.0', [{ file: wheels['1.2.0'], metadata: { requiresPython: '>=3.8' } }, { file: sdist }]),
      '1.3.0': await publish('1.3.0', [{ file: wheels['1.3.0'] }]),
      '1.4.0': await publish('1.4.0', [{ file: wheels['1.4.0'] }], { rolloutPercentage: 30 }),
      '2.0.0': await publish('2.0.0', [{ file: wheels['2.0.0'], metadata: { requiresPython: '>=4.0' } }]),
    };
    // the whole package needs the SDK entitlement
    for (const r of Object.values(releases)) await constrainRelease(t, account, r.id, [sdk]);
    const yank = await v11Client(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases/${releases['1.3.0'].id}/actions/yank`);
    expect(yank.status).toBe(200);
    // the pro license must be outside 1.4.0's cohort for the "newest is 1.2.0" answers below
    if (inCohort(releases['1.4.0'].id, 30, pro.id)) {
      const [outside] = (await insertLicenses(t, account, productId, 40)).filter((l) => !inCohort(releases['1.4.0'].id, 30, l.id));
      await t.app.get(DataSource).query('INSERT INTO license_entitlements (account_id, license_id, entitlement_id) VALUES ($1, $2, $3)', [account.id, outside.id, sdk]);
      pro = outside;
    }
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('pip download fetches the pinned wheel and verifies its #sha256; pip install installs it into a fresh venv', async () => {
    expect(await pipDownload('acme-sdk==1.2.0', pro.key)).toBe(path.basename(wheels['1.2.0']));
    await pip(['install', 'acme-sdk==1.2.0'], pro.key);
    const { stdout } = await run(path.join(venv, 'bin', 'python'), ['-c', 'import acme_sdk; print(acme_sdk.__version__)']);
    expect(stdout.trim()).toBe('1.2.0');
    await run(path.join(venv, 'bin', 'pip'), ['uninstall', '-y', 'acme-sdk']);
  }, 120_000);

  it('an unpinned install takes the newest release it may have: not the yanked 1.3.0, not 2.0.0 (Requires-Python), not 1.4.0 outside its rollout', async () => {
    expect(await pipDownload('acme-sdk', pro.key)).toBe(path.basename(wheels['1.2.0']));
  }, 60_000);

  it('names are normalised (PEP 503): Acme_SDK is acme-sdk', async () => {
    expect(await pipDownload('Acme_SDK==1.1.0', pro.key)).toBe(path.basename(wheels['1.1.0']));
    const res = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/ACME.sdk/`).auth('license', pro.key);
    expect(res.status).toBe(200);
  }, 60_000);

  it("a license's versionPin limits what pip may install; clearing it gives the newest again", async () => {
    const admin = v11Client(t, bearer(account.adminToken));
    const pinTo = (versionPin: string | null) => admin.patch(`/v1/accounts/${account.id}/licenses/${pro.id}`, { data: { type: 'licenses', id: pro.id, attributes: { versionPin } } });
    expect((await pinTo('<1.2')).status).toBe(200);
    try {
      expect(await pipDownload('acme-sdk', pro.key)).toBe(path.basename(wheels['1.1.0']));
      expect(await pipDownload('acme-sdk==1.2.0', pro.key)).toBeNull();
    } finally {
      expect((await pinTo(null)).status).toBe(200);
    }
    expect(await pipDownload('acme-sdk', pro.key)).toBe(path.basename(wheels['1.2.0']));
  }, 120_000);

  it('a license without the entitlement gets no file', async () => {
    expect(await pipDownload('acme-sdk', basic.key)).toBeNull();
    const res = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`).auth('license', basic.key);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('.whl');
    // nor by the file URL of another license's page
    const file = await t.http.get(`/v1/accounts/${account.id}/engines/pypi/files/acme-sdk/${releases['1.2.0'].artifacts[path.basename(wheels['1.2.0'])]}/${path.basename(wheels['1.2.0'])}`).auth('license', basic.key);
    expect(file.status).toBe(404);
  }, 60_000);

  it('without a credential: 401 with WWW-Authenticate: Basic (pip asks); with a wrong key 401 too', async () => {
    const res = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
    expect(await pipDownload('acme-sdk')).toBeNull();
    const wrong = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`).auth('license', 'WRONG-KEY-123456');
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain('WRONG-KEY-123456');
  }, 60_000);

  it('the page: #sha256 on every link, data-requires-python, data-yanked; the JSON form (PEP 691) when Accept asks', async () => {
    const html = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`).auth('license', pro.key);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const links = [...html.text.matchAll(/<a href="([^"]+)"([^>]*)>([^<]+)<\/a>/g)];
    expect(links.map((l) => l[3]).sort()).toEqual(['acme_sdk-1.0.0-py3-none-any.whl', 'acme_sdk-1.1.0-py3-none-any.whl', 'acme_sdk-1.2.0-py3-none-any.whl', 'acme_sdk-1.2.0.tar.gz', 'acme_sdk-1.3.0-py3-none-any.whl', 'acme_sdk-2.0.0-py3-none-any.whl']);
    for (const [, href, , name] of links) {
      const local = path.join(work, name);
      const bytes = fs.existsSync(local) ? fs.readFileSync(local) : null;
      expect(href).toMatch(/#sha256=[0-9a-f]{64}$/);
      if (bytes) expect(href.split('#sha256=')[1]).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const attrs = (name: string) => links.find((l) => l[3] === name)![2];
    expect(attrs('acme_sdk-1.2.0-py3-none-any.whl')).toContain('data-requires-python="&gt;=3.8"');
    expect(attrs('acme_sdk-1.3.0-py3-none-any.whl')).toContain('data-yanked=""');
    expect(attrs('acme_sdk-1.2.0-py3-none-any.whl')).not.toContain('data-yanked');

    const json = await t.http
      .get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`)
      .auth('license', pro.key)
      .set('Accept', 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01')
      .buffer(true)
      .parse((res, cb) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => cb(null, s));
      });
    expect(json.headers['content-type']).toMatch(/^application\/vnd\.pypi\.simple\.v1\+json/);
    const doc = JSON.parse(json.body as string);
    expect(doc.meta['api-version']).toBe('1.0');
    expect(doc.name).toBe('acme-sdk');
    const yanked = doc.files.find((f: { filename: string }) => f.filename === 'acme_sdk-1.3.0-py3-none-any.whl');
    expect(yanked.yanked).toBe(true);
    expect(doc.files.find((f: { filename: string }) => f.filename === 'acme_sdk-2.0.0-py3-none-any.whl')['requires-python']).toBe('>=4.0');

    const index = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/`).auth('license', pro.key);
    expect(index.status).toBe(200);
    expect(index.text).toContain('href="acme-sdk/"');
  });

  it('a release in a 30 % rollout reaches exactly the licenses in its cohort', async () => {
    const id = releases['1.4.0'].id;
    const sdk = (await v11Client(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/entitlements?limit=100`)).body.data.find((e: { attributes: { code: string } }) => e.attributes.code === 'SDK').id;
    const licenses = [];
    for (let i = 0; i < 12; i++) licenses.push(await createLicense(t, account, productId, { entitlementIds: [sdk] }));
    const inside = licenses.filter((l) => inCohort(id, 30, l.id));
    const outside = licenses.filter((l) => !inCohort(id, 30, l.id));
    for (const l of licenses) {
      const page = await t.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`).auth('license', l.key);
      expect({ license: l.id, offered: page.text.includes('acme_sdk-1.4.0') }).toEqual({ license: l.id, offered: inCohort(id, 30, l.id) });
    }
    // and through pip, one of each when there is one
    if (inside.length) expect(await pipDownload('acme-sdk', inside[0].key)).toBe(path.basename(wheels['1.4.0']));
    if (outside.length) expect(await pipDownload('acme-sdk', outside[0].key)).toBe(path.basename(wheels['1.2.0']));
    expect(inside.length + outside.length).toBe(12);
  }, 120_000);

  it('the catalogue switched off (every answer from a fresh snapshot) answers the same pages', async () => {
    const sql = await startApp({ CATALOGUE: 'false', PUBLIC_URL: t.config.publicUrl });
    try {
      for (const key of [pro.key, basic.key]) {
        for (const accept of ['text/html', 'application/vnd.pypi.simple.v1+json']) {
          const page = (app: TestApp) => app.http.get(`/v1/accounts/${account.slug}/engines/pypi/simple/acme-sdk/`).auth('license', key).set('Accept', accept).buffer(true).parse((res, cb) => {
            let s = '';
            res.on('data', (c: Buffer) => (s += c.toString()));
            res.on('end', () => cb(null, s));
          });
          const [a, b] = [await page(t), await page(sql)];
          expect({ status: b.status, body: b.body }).toEqual({ status: a.status, body: a.body });
        }
      }
    } finally {
      await sql.close();
    }
  }, 60_000);

  it('downloads through the index are counted per artifact', async () => {
    await t.app.get(CountersService).flush();
    const res = await v11Client(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/artifacts/${releases['1.2.0'].artifacts[path.basename(wheels['1.2.0'])]}`).set('Prefer', 'no-redirect');
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.downloads).toBeGreaterThanOrEqual(1);
  });
});
