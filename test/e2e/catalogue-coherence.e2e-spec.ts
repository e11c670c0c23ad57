import { DataSource } from 'typeorm';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { startApp, TestApp } from '../support/app';
import { eventually, randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/**
 * The catalogue after a product's load was replaced by a newer one (the TTL's background reload):
 * changes that name only release ids (a constraint, an artifact) still reach the load in memory.
 */
describe('catalogue coherence across reloads of a product', () => {
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
});
