import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { createLicense, createProduct } from '../support/catalogue.factories';
import type { TestLicense } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { DatabaseProxy } from '../support/db-proxy';
import { buildWheel, createPackage, npmPack, publishPackageRelease, tempDir } from '../support/package.factories';

/**
 * Every engine route answers from the catalogue when warm: once a route has been asked, the same
 * requests are answered with the database frozen (no byte moves between the app and PostgreSQL,
 * so any query would hang until the statement timeout and answer 503).
 */
describe('engine routes answer from memory when warm', () => {
  let t: TestApp;
  let proxy: DatabaseProxy;
  let account: TestAccount;
  let license: TestLicense;
  let work: string;
  const routes: Record<string, { path: string; status: number }> = {};

  beforeAll(async () => {
    const target = new URL(process.env.DATABASE_URL!);
    proxy = new DatabaseProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const port = await freeLoopbackPort();
    t = await startApp({ DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!), STATEMENT_TIMEOUT_MS: '1500', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    const productId = (await createProduct(t, account, { code: 'mem-app' })).id;
    license = await createLicense(t, account, productId);
    work = tempDir('engines-memory');
    const sdk = await createPackage(t, account, productId, { key: 'mem-sdk', engine: 'pypi' });
    const cli = await createPackage(t, account, productId, { key: '@mem/cli', engine: 'npm' });
    const tools = await createPackage(t, account, productId, { key: 'mem-tools', engine: 'raw' });
    const wheel = await buildWheel(work, 'mem-sdk', '1.0.0');
    const tarball = await npmPack(work, '@mem/cli', '1.0.0');
    fs.writeFileSync(path.join(work, 'tools.tar.gz'), 'tools 1.0.0\n');
    const w = await publishPackageRelease(t, account, productId, sdk.id, '1.0.0', [{ file: wheel }]);
    const n = await publishPackageRelease(t, account, productId, cli.id, '1.0.0', [{ file: tarball }]);
    await publishPackageRelease(t, account, productId, tools.id, '1.0.0', [{ file: path.join(work, 'tools.tar.gz') }]);
    const wheelName = path.basename(wheel);
    const a = `/v1/accounts/${account.slug}/engines`;
    routes.index = { path: `${a}/pypi/simple/`, status: 200 };
    routes.project = { path: `${a}/pypi/simple/mem-sdk/`, status: 200 };
    routes.wheel = { path: `/v1/accounts/${account.id}/engines/pypi/files/mem-sdk/${w.artifacts[wheelName]}/${wheelName}`, status: 303 };
    routes.packument = { path: `${a}/npm/@mem%2fcli`, status: 200 };
    routes.tarball = { path: `/v1/accounts/${account.id}/engines/npm/@mem/cli/-/${n.artifacts[path.basename(tarball)]}/${path.basename(tarball)}`, status: 200 };
    routes.raw = { path: `${a}/raw/mem-app/@mem-tools/latest/tools.tar.gz`, status: 303 };
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await t?.close().catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const get = (p: string) => t.http.get(p).set('Authorization', `License ${license.key}`).redirects(0);

  it('the PyPI index and page, a wheel, the packument, a tarball and a raw file, with the database frozen', async () => {
    // warm: the first requests load what memory lacks
    for (const r of Object.values(routes)) {
      expect((await get(r.path)).status).toBe(r.status);
      expect((await get(r.path)).status).toBe(r.status);
    }
    // from here on no query can answer (the proxy is closed after the test)
    proxy.freeze();
    for (const [name, r] of Object.entries(routes)) {
      const started = Date.now();
      const res = await get(r.path);
      expect({ name, status: res.status }).toEqual({ name, status: r.status });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    // the freeze holds: a route that reads the database (the packages list is SQL) cannot answer
    expect((await get(`/v1/accounts/${account.id}/packages`)).status).toBe(503);
  }, 60_000);
});
