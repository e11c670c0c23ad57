import { DataSource } from 'typeorm';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { CatalogueService, licenseCacheKey } from '../../src/catalogue/catalogue.service';
import { License } from '../../src/licenses/license.entity';
import { startApp, TestApp } from '../support/app';
import { eventually, randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/**
 * The catalogue after a product's load or a license's entry was replaced by a newer one (the
 * TTL's background reload): changes that name only ids (a constraint, an artifact, a license)
 * still reach the entry in memory; and a load that read a row before its change is not kept.
 */
describe('catalogue coherence across reloads', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let license: { id: string; key: string };
  let db: DataSource;

  beforeAll(async () => {
    // a three-second safety net: the product's load is replaced by a background reload during the test
    t = await startApp({ CATALOGUE_TTL_SECONDS: '3' });
    db = t.app.get(DataSource);
    account = await createAccount(t);
    productId = (await createProduct(t, account)).id;
    license = await createLicense(t, account, productId);
    for (const version of ['1.0.0', '1.1.0']) {
      const r = await createRelease(t, account, productId, { version, platform: 'linux' });
      await uploadArtifact(t, account, r.id, randomFile(16));
    }
  });
  afterAll(() => t.close());

  const offered = async () => {
    const res = await api(t, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux&version=0.1.0`);
    return res.status === 303 ? res.body.meta.next : res.status;
  };

  it('a constraint added in SQL after the product was reloaded hides the release at once', async () => {
    expect(await offered()).toBe('1.1.0');
    const catalogue = t.app.get(CatalogueService);
    const first = catalogue.held!.releases.peek(productId);
    expect(first).toBeDefined();
    // past the TTL, a request answers from the old load and reloads the product in the background
    await new Promise((r) => setTimeout(r, 3200));
    await offered();
    await eventually(async () => catalogue.held!.releases.peek(productId) !== first && catalogue.held!.releases.peek(productId) !== undefined);
    const entitlement = await createEntitlement(t, account);
    const [newest] = await db.query(`SELECT id FROM releases WHERE product_id = $1 AND version = '1.1.0'`, [productId]);
    await db.query('INSERT INTO release_constraints (account_id, release_id, entitlement_id) VALUES ($1, $2, $3)', [account.id, newest.id, entitlement.id]);
    // the license lacks the entitlement: 1.1.0 is no longer offered, well before the next reload
    await eventually(async () => (await offered()) === '1.0.0', 1500);
  });

  it('a license suspended in SQL after its entry was reloaded is refused at once (403)', async () => {
    const catalogue = t.app.get(CatalogueService);
    const cacheKey = licenseCacheKey(account.id, license.key);
    expect(await offered()).not.toBe(403);
    const first = catalogue.held!.licenses.peek(cacheKey);
    expect(first).toBeDefined();
    // past the TTL, the request answers from the held entry and reloads the license in the background:
    // the reloaded entry replaces the first one, and must still be the one a change notification names
    await new Promise((r) => setTimeout(r, 3200));
    await offered();
    await eventually(async () => catalogue.held!.licenses.peek(cacheKey) !== first && catalogue.held!.licenses.peek(cacheKey) !== undefined);
    await db.query('UPDATE licenses SET suspended = true WHERE id = $1', [license.id]);
    await eventually(async () => (await offered()) === 403, 1500);
    await db.query('UPDATE licenses SET suspended = false WHERE id = $1', [license.id]);
    await eventually(async () => (await offered()) !== 403, 1500);
  });

  it('a license suspended while its first load runs is not kept as it was read', async () => {
    const fresh = await createLicense(t, account, productId);
    const check = () => api(t, licenseAuth(fresh.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux&version=0.1.0`);
    // the load reads the license row, then waits here while the license is suspended and the
    // change notification applied: the row it read is the one before the change
    let read!: () => void;
    const wasRead = new Promise<void>((r) => (read = r));
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const getRepository = db.getRepository;
    db.getRepository = ((target: unknown) => {
      const repository = getRepository.call(db, target as never);
      if (target !== License) return repository;
      return Object.assign(Object.create(repository), {
        findOne: async (options: { where: { key?: string } }) => {
          const found = await repository.findOne(options as never);
          if (options.where.key === fresh.key) {
            read();
            await resumed;
          }
          return found;
        },
      });
    }) as typeof db.getRepository;
    try {
      const first = check().then((res) => res.status); // sent now (a supertest request starts when awaited)
      await wasRead;
      await db.query('UPDATE licenses SET suspended = true WHERE id = $1', [fresh.id]);
      await t.app.get(CatalogueListener).settle();
      resume();
      expect(await first).not.toBe(403);
    } finally {
      db.getRepository = getRepository;
    }
    // the load answered its caller, and was not kept: the next request reads the suspension
    await eventually(async () => (await check()).status === 403, 1500);
  });
});
