import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { CountersService } from '../../src/counters/counters.service';
import { startApp, TestApp } from '../support/app';
import { eventually } from '../support/artifact.factories';
import { DatabaseProxy } from '../support/db-proxy';
import { uploadArtifact, randomFile } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { constrainRelease, createRelease } from '../support/release.factories';
import { constrainArtifact, createArtifactV11, createReleaseV11, putToUploadUrl, v11Client, yankArtifact } from '../support/v11.factories';

/**
 * Two servers on one database, each with its own in-memory catalogue: a change made through one
 * instance (or directly in SQL) is seen by the other within 2 s, counted checks spread over both
 * add up exactly, and a mixed scenario alternating between them answers as one instance does.
 */
describe('two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;
  // the instances share their storage, as a deployment does (a shared volume, or S3)
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-shared-'));

  beforeAll(async () => {
    a = await startApp({ DATA_DIR: storage });
    b = await startApp({ DATA_DIR: storage });
    db = a.app.get(DataSource);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    fs.rmSync(storage, { recursive: true, force: true });
  });

  /** Polls `check` against instance B until it holds; returns how long that took (ms). */
  async function seenOnB(check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > 5000) throw new Error('instance B did not see the change within 5 s');
      await new Promise((r) => setTimeout(r, 25));
    }
    return Date.now() - started;
  }

  describe('a change on A is seen on B within 2 s', () => {
    let account: TestAccount;
    let productId: string;
    let license: { id: string; key: string };
    let entitlementId: string;
    let otherEntitlementId: string;
    let v11: string;

    const upgradeOnB = () =>
      api(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0`);
    const admin = () => api(a, bearer(account.adminToken));
    const offersOnB = async (version: string | null, status?: number) => {
      const res = await upgradeOnB();
      if (status !== undefined) return res.status === status;
      return version === null ? res.status === 204 : res.status === 303 && res.body.meta.next === version;
    };

    beforeAll(async () => {
      account = await createAccount(a);
      productId = (await createProduct(a, account)).id;
      entitlementId = (await createEntitlement(a, account)).id;
      otherEntitlementId = (await createEntitlement(a, account)).id;
      license = await createLicense(a, account, productId, { entitlementIds: [entitlementId] });
      for (const version of ['1.0.0', '1.1.0']) {
        const r = await createRelease(a, account, productId, { version, filename: `app-${version}.tar.gz` });
        await uploadArtifact(a, account, r.id, randomFile(64));
        if (version === '1.1.0') v11 = r.id;
      }
      expect(await offersOnB('1.1.0')).toBe(true); // B has the line in memory now
    });

    it('suspending and reinstating a license', async () => {
      expect((await admin().post(`/v1/accounts/${account.id}/licenses/${license.id}/actions/suspend`)).status).toBe(200);
      expect(await seenOnB(() => offersOnB('', 403))).toBeLessThan(2000);
      expect((await admin().post(`/v1/accounts/${account.id}/licenses/${license.id}/actions/reinstate`)).status).toBe(200);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
    });

    it('expiring a license', async () => {
      const patch = (attributes: Record<string, unknown>) =>
        admin().patch(`/v1/accounts/${account.id}/licenses/${license.id}`, { data: { type: 'licenses', id: license.id, attributes } });
      expect((await patch({ expiry: '2020-01-01T00:00:00Z', expirationStrategy: 'REVOKE_ACCESS' })).status).toBe(200);
      expect(await seenOnB(() => offersOnB('', 403))).toBeLessThan(2000);
      expect((await patch({ expiry: null })).status).toBe(200);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
    });

    it('attaching a constraint, detaching the entitlement it needs, and back', async () => {
      const [constraintId] = await constrainRelease(a, account, v11, [entitlementId]);
      expect(await offersOnB('1.1.0')).toBe(true); // the license holds it
      const entitlements = `/v1/accounts/${account.id}/licenses/${license.id}/entitlements`;
      expect((await admin().delete(entitlements).send({ data: [{ type: 'entitlements', id: entitlementId }] })).status).toBe(204);
      expect(await seenOnB(() => offersOnB(null))).toBeLessThan(2000);
      expect((await admin().post(entitlements, { data: [{ type: 'entitlements', id: entitlementId }] })).status).toBe(200);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
      const [other] = await constrainRelease(a, account, v11, [otherEntitlementId]);
      expect(await seenOnB(() => offersOnB(null))).toBeLessThan(2000);
      const detach = (id: string) =>
        admin().delete(`/v1/accounts/${account.id}/releases/${v11}/constraints`).send({ data: [{ type: 'constraints', id }] });
      expect((await detach(other)).status).toBe(204);
      expect((await detach(constraintId)).status).toBe(204);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
    });

    it('yanking, publishing and deleting releases', async () => {
      expect((await admin().post(`/v1/accounts/${account.id}/releases/${v11}/actions/yank`)).status).toBe(200);
      expect(await seenOnB(() => offersOnB(null))).toBeLessThan(2000);
      expect((await admin().post(`/v1/accounts/${account.id}/releases/${v11}/actions/publish`)).status).toBe(200);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
      const v12 = await createRelease(a, account, productId, { version: '1.2.0', filename: 'app-1.2.0.tar.gz' });
      await uploadArtifact(a, account, v12.id, randomFile(64));
      expect(await seenOnB(() => offersOnB('1.2.0'))).toBeLessThan(2000);
      expect((await admin().delete(`/v1/accounts/${account.id}/releases/${v12.id}`)).status).toBe(204);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
    });

    it('replacing an artifact', async () => {
      const bytes = randomFile(64); // the release's filesize
      const uploaded = await uploadArtifact(a, account, v11, bytes);
      expect(await seenOnB(async () => (await upgradeOnB()).body?.data?.attributes?.sha256 === uploaded.attributes.sha256)).toBeLessThan(2000);
      // the URL B hands out serves the new bytes
      const res = await upgradeOnB();
      const file = await fetch(res.headers.location.replace(/^https?:\/\/[^/]+/, a.baseUrl));
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('a client reads a release on one instance and PATCHes the document back on the other (counters differ): 200', async () => {
      // downloads counted on A, not yet flushed: A's and B's counters differ
      for (let i = 0; i < 3; i++) expect((await api(a, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/${v11}/artifact`).redirects(0)).status).toBe(303);
      const path = `/v1/accounts/${account.id}/releases/${v11}`;
      for (const [from, to] of [[a, b], [b, a]] as const) {
        const read = await api(from, bearer(account.adminToken)).get(path);
        expect(read.status).toBe(200);
        const doc = { data: { ...read.body.data, attributes: { ...read.body.data.attributes, description: `edited after reading on ${from === a ? 'A' : 'B'}` } } };
        const res = await api(to, bearer(account.adminToken)).patch(path, doc);
        expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
        expect(res.body.data.attributes.description).toBe(doc.data.attributes.description);
      }
    });

    it("changing a product's distribution strategy, through the API and directly in SQL", async () => {
      const setStrategy = (distributionStrategy: string) =>
        admin().patch(`/v1/accounts/${account.id}/products/${productId}`, { data: { type: 'products', id: productId, attributes: { distributionStrategy } } });
      expect((await setStrategy('CLOSED')).status).toBe(200);
      expect(await seenOnB(() => offersOnB(null))).toBeLessThan(2000);
      expect((await setStrategy('LICENSED')).status).toBe(200);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
      await db.query(`UPDATE releases SET status = 'YANKED', yanked = now() WHERE id = $1`, [v11]);
      expect(await seenOnB(() => offersOnB(null))).toBeLessThan(2000);
      await db.query(`UPDATE releases SET status = 'PUBLISHED', yanked = NULL WHERE id = $1`, [v11]);
      expect(await seenOnB(() => offersOnB('1.1.0'))).toBeLessThan(2000);
    });
  });

  describe('API 1.1 (many artifacts): each write on A is seen by the very next read on B', () => {
    let account: TestAccount;
    let productId: string;
    let license: { id: string; key: string };
    let air: string;
    const onB = (url: string) => url.replace(/^https?:\/\/[^/]+/, b.baseUrl);
    const feeds = () => `/v1/accounts/${account.id}/products/${productId}/feeds`;
    /** What B answers the license: status, and the body's gist. */
    const electronOnB = async () => {
      const res = await b.http.get(`${feeds()}/electron/latest.yml?key=${license.key}`);
      return res.status === 200 ? (res.text.match(/^ {2}- url: .*$/gm) ?? []).map((l) => l.split('/').pop()) : res.status;
    };
    const tauriOnB = async () => {
      const res = await b.http.get(`${feeds()}/tauri?target=linux&arch=x86_64&current_version=1.0.0&key=${license.key}`);
      return res.status === 200 ? `${res.body.version} ${res.body.signature}` : res.status;
    };
    const upgradeOnB = async (platform: string) => {
      const res = await api(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=${platform}&version=1.0.0`).redirects(0);
      return res.status === 303 ? res.body.data.attributes.filename : res.status;
    };
    const artifactsOnB = async () => {
      const res = await v11Client(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/artifacts?product=${productId}`);
      return res.body.data.map((d: { attributes: { filename: string } }) => d.attributes.filename).sort();
    };

    beforeAll(async () => {
      account = await createAccount(a);
      productId = (await createProduct(a, account)).id;
      air = (await createEntitlement(a, account)).id;
      license = await createLicense(a, account, productId);
      // B holds the product (nothing to offer yet) and the license in memory
      expect(await electronOnB()).toBe(404);
      expect(await tauriOnB()).toBe(204);
      expect(b.app.get(CatalogueService).held!.releases.peek(productId)).toBeDefined();
    });

    it('creating a release and its artifacts, uploading them, yanking one, constraining one', async () => {
      const release = await createReleaseV11(a, account, productId, '1.1.0', { description: 'Two files' });
      const read = await v11Client(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/${release.id}`);
      expect([read.status, read.body.data.attributes.status]).toEqual([200, 'PUBLISHED']);
      expect(await electronOnB()).toBe(404);

      // created on A: WAITING, which B's admin sees and the license does not
      const exe = await createArtifactV11(a, account, release.id, { filename: 'Desk-Setup-1.1.0.exe', platform: 'windows' });
      const onBAsAdmin = await v11Client(b, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/artifacts/${exe.id}`).set('Prefer', 'no-redirect');
      expect(onBAsAdmin.body.data.attributes.status).toBe('WAITING');
      expect(await artifactsOnB()).toEqual([]);
      const exeBytes = randomFile(300);
      expect(await putToUploadUrl(a, exe.uploadUrl, exeBytes)).toBe(200);
      expect(await electronOnB()).toEqual(['Desk-Setup-1.1.0.exe']);
      expect(await upgradeOnB('windows')).toBe('Desk-Setup-1.1.0.exe');
      expect(await artifactsOnB()).toEqual(['Desk-Setup-1.1.0.exe']);

      const tarball = await createArtifactV11(a, account, release.id, { filename: 'desk_1.1.0_amd64.AppImage.tar.gz', platform: 'linux', arch: 'amd64', signature: 'sig-1' });
      expect(await tauriOnB()).toBe(204);
      expect(await putToUploadUrl(a, tarball.uploadUrl, randomFile(200))).toBe(200);
      expect(await tauriOnB()).toBe('1.1.0 sig-1');
      const patched = await v11Client(a, bearer(account.adminToken)).patch(`/v1/accounts/${account.id}/artifacts/${tarball.id}`, { data: { type: 'artifacts', id: tarball.id, attributes: { signature: 'sig-2' } } });
      expect(patched.status).toBe(200);
      expect(await tauriOnB()).toBe('1.1.0 sig-2');

      // download URLs B issued: the installer's (through the feed's file URL) and the bundle's (Tauri)
      const feedUrl = (await b.http.get(`${feeds()}/electron/latest.yml?key=${license.key}`)).text.match(/^path: (.*)$/m)![1];
      const viaFeed = await fetch(`${onB(feedUrl)}?key=${license.key}`, { redirect: 'manual' });
      expect(viaFeed.status).toBe(303);
      const exeUrl = onB(viaFeed.headers.get('location')!);
      expect(Buffer.from(await (await fetch(exeUrl)).arrayBuffer()).equals(exeBytes)).toBe(true);
      const tarballUrl = onB((await b.http.get(`${feeds()}/tauri?target=linux&arch=x86_64&current_version=1.0.0&key=${license.key}`)).body.url);
      expect((await fetch(tarballUrl)).status).toBe(200);

      // yanked on A: the URL B issued dies at once, the feed's file URL too, and B offers nothing on windows
      await yankArtifact(a, account, exe.id);
      expect((await fetch(exeUrl)).status).toBe(404);
      expect((await fetch(`${onB(feedUrl)}?key=${license.key}`, { redirect: 'manual' })).status).toBe(404);
      expect(await electronOnB()).toBe(404);
      expect(await upgradeOnB('windows')).toBe(204);
      expect(await tauriOnB()).toBe('1.1.0 sig-2');

      // an artifact constraint attached on A: the license stops seeing the bundle on B at once
      const [constraint] = await constrainArtifact(a, account, tarball.id, [air]);
      expect(await tauriOnB()).toBe(204);
      expect((await fetch(tarballUrl)).status).toBe(404);
      expect(await artifactsOnB()).toEqual([]);
      expect((await v11Client(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/artifacts/${tarball.id}`).redirects(0)).status).toBe(404);
      expect(await upgradeOnB('linux/amd64')).toBe(204);
      // and sees it again once the license holds the entitlement (or the constraint goes)
      expect((await api(a, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses/${license.id}/entitlements`, { data: [{ type: 'entitlements', id: air }] })).status).toBe(200);
      expect(await tauriOnB()).toBe('1.1.0 sig-2');
      expect((await fetch(tarballUrl)).status).toBe(200);
      expect((await api(a, bearer(account.adminToken)).delete(`/v1/accounts/${account.id}/licenses/${license.id}/entitlements`).send({ data: [{ type: 'entitlements', id: air }] })).status).toBe(204);
      expect(await tauriOnB()).toBe(204);
      const detached = await v11Client(a, bearer(account.adminToken)).delete(`/v1/accounts/${account.id}/artifacts/${tarball.id}/constraints`).send({ data: [{ type: 'constraints', id: constraint }] });
      expect(detached.status).toBe(204);
      expect(await tauriOnB()).toBe('1.1.0 sig-2');
      expect(await upgradeOnB('linux/amd64')).toBe('desk_1.1.0_amd64.AppImage.tar.gz');

      // the release yanked and published again on A
      expect((await v11Client(a, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/yank`)).status).toBe(200);
      expect(await tauriOnB()).toBe(204);
      expect((await fetch(tarballUrl)).status).toBe(404);
      expect((await v11Client(a, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/publish`)).status).toBe(200);
      expect(await tauriOnB()).toBe('1.1.0 sig-2');
      // B still holds the same load of the product, changed in place
      expect(b.app.get(CatalogueService).held!.releases.peek(productId)?.byId.has(release.id)).toBe(true);
    });
  });

  it('a write answers only once every instance applied it: a read on a slow instance right after it sees it', async () => {
    // instance C hears the database 150 ms late (a busy or far instance): without the wait for
    // every instance, C would answer from its old catalogue right after A's answer
    const target = new URL(process.env.DATABASE_URL!);
    const proxy = new DatabaseProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const c = await startApp({ DATA_DIR: storage, DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!) });
    proxy.latencyMs = 150;
    try {
      const account = await createAccount(a);
      const productId = (await createProduct(a, account)).id;
      const license = await createLicense(a, account, productId);
      const r = await createRelease(a, account, productId, { version: '3.1.0' });
      await uploadArtifact(a, account, r.id, randomFile(16));
      const offeredOnC = async () => {
        const res = await api(c, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=3.0.0`);
        return res.status === 303 ? res.body.meta.next : res.status;
      };
      expect(await offeredOnC()).toBe('3.1.0'); // C holds the line
      const admin = api(a, bearer(account.adminToken));
      for (let i = 0; i < 3; i++) {
        expect((await admin.post(`/v1/accounts/${account.id}/releases/${r.id}/actions/yank`)).status).toBe(200);
        expect(await offeredOnC()).toBe(204);
        expect((await admin.post(`/v1/accounts/${account.id}/releases/${r.id}/actions/publish`)).status).toBe(200);
        expect(await offeredOnC()).toBe('3.1.0');
      }
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  it('a burst of 100 publishes on A: each is offered by the very next check on B, put in place in the memory of B (no reload of the product)', async () => {
    const account = await createAccount(a);
    const productId = (await createProduct(a, account)).id;
    const license = await createLicense(a, account, productId);
    const first = await createRelease(a, account, productId, { version: '1.0.0' });
    await uploadArtifact(a, account, first.id, randomFile(16));
    const checkOnB = (from: string) =>
      api(b, licenseAuth(license.key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=${from}`);
    expect((await checkOnB('0.9.0')).body.meta.next).toBe('1.0.0');
    const catalogueOfB = b.app.get(CatalogueService);
    const held = catalogueOfB.held!.releases.peek(productId);
    expect(held?.byId.size).toBe(1);
    const appliedBefore = catalogueOfB.stats.applied;
    for (let i = 1; i <= 100; i++) {
      const r = await createRelease(a, account, productId, { version: `1.0.${i}` });
      await uploadArtifact(a, account, r.id, randomFile(16));
      const res = await checkOnB(`1.0.${i - 1}`);
      expect([res.status, res.body.meta?.next]).toEqual([303, `1.0.${i}`]);
    }
    // the same load of the product, changed in place: 100 releases created, then their files (and statuses)
    expect(catalogueOfB.held!.releases.peek(productId)).toBe(held);
    expect(held!.byId.size).toBe(101);
    // each release read once for its create and once for its upload: the upload's commit names the
    // artifact and the release, and both are read in one go (not 300: applied one by one)
    const applied = catalogueOfB.stats.applied - appliedBefore;
    expect(applied).toBeGreaterThanOrEqual(200);
    expect(applied).toBeLessThan(250);
  });

  it('500 concurrent counted checks spread over both instances add exactly 500', async () => {
    const account = await createAccount(a);
    const productId = (await createProduct(a, account)).id;
    const license = await createLicense(a, account, productId);
    const r1 = await createRelease(a, account, productId, { version: '2.0.0' });
    await uploadArtifact(a, account, r1.id, randomFile(16));
    const r2 = await createRelease(a, account, productId, { version: '2.1.0' });
    await uploadArtifact(a, account, r2.id, randomFile(16));
    const url = `/v3/releases/update?productId=${productId}&platform=linux/amd64&channel=stable&version=2.0.0&key=${license.key}`;
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).http.get(url)));
    expect(answers.every((r) => r.status === 200 && r.body.id === r2.id)).toBe(true);
    // each instance's timer writes its counts (COUNTERS_FLUSH_MS, 1 s): waited for, not slept on
    const upgrades = async () => Number((await db.query('SELECT upgrades FROM releases WHERE id = $1', [r2.id]))[0].upgrades);
    await eventually(async () => (await upgrades()) >= 500, 30_000);
    // nothing left to write, and both catalogues have applied what was written
    await Promise.all([a, b].map((t) => t.app.get(CountersService).flush()));
    await a.app.get(CatalogueListener).settle();
    expect(await upgrades()).toBe(500);
    // and both instances show it
    for (const t of [a, b]) {
      const res = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases/${r2.id}`);
      expect(res.body.data.attributes.upgrades).toBe(500);
    }
  });

  it('a mixed scenario alternating between the instances answers as one instance does', async () => {
    /** Runs the scenario, sending request i to pick(i); returns each answer with ids replaced by names. */
    async function scenario(pick: (i: number) => TestApp): Promise<string[]> {
      let i = 0;
      const next = () => pick(i++);
      const names = new Map<string, string>();
      const name = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => {
        if (!names.has(id)) names.set(id, `#${names.size}`);
        return names.get(id)!;
      });
      const log: string[] = [];
      const account = await createAccount(next());
      const productId = (await createProduct(next(), account, { distributionStrategy: 'OPEN' })).id;
      const entitlementId = (await createEntitlement(next(), account)).id;
      const license = await createLicense(next(), account, productId, { entitlementIds: [entitlementId] });
      const plain = await createLicense(next(), account, productId);
      const releases: string[] = [];
      for (const version of ['1.0.0', '1.1.0', '1.2.0-beta.1', '1.2.0']) {
        const r = await createRelease(next(), account, productId, { version, filename: `mixed-${version}.tar.gz` });
        await uploadArtifact(next(), account, r.id, Buffer.from(`bytes of ${version}`));
        releases.push(r.id);
      }
      // counts not yet flushed show only on the instance that counted them: compared once flushed, at the end
      const volatile = ['created', 'updated', 'createdAt', 'updatedAt', 'url', 'redirect', 'self', 'yanked', 'pub_date'];
      const record = async (what: string, res: { status: number; body: unknown; headers: Record<string, string> }) => {
        const location = res.headers.location ? new URL(res.headers.location).pathname : '';
        const hidden = what === 'counters' ? volatile : [...volatile, 'downloads', 'upgrades'];
        const body = JSON.stringify(res.body ?? null, (k, v) => (hidden.includes(k) ? undefined : v));
        log.push(name(`${what}: ${res.status} ${location} ${body}`));
      };
      const check = async (key: string, version: string, channel = 'stable') =>
        record(`v3 ${version} ${channel}`, await next().http.get(`/v3/releases/update?productId=${productId}&platform=linux/amd64&channel=${channel}&version=${version}&key=${key}`));
      const upgrade = async (key: string, version: string) =>
        record(`upgrade ${version}`, await api(next(), licenseAuth(key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=${version}`));
      const list = async (key: string) => record('list', await api(next(), licenseAuth(key)).get(`/v1/accounts/${account.id}/releases?product=${productId}`));
      const admin = () => api(next(), bearer(account.adminToken));

      await check(license.key, '1.0.0');
      await check(license.key, '1.1.0', 'beta');
      await upgrade(plain.key, '1.0.0');
      await list(plain.key);
      await constrainRelease(next(), account, releases[3], [entitlementId]);
      await check(plain.key, '1.0.0');
      await check(license.key, '1.0.0');
      await admin().post(`/v1/accounts/${account.id}/releases/${releases[1]}/actions/yank`);
      await list(plain.key);
      await upgrade(plain.key, '1.0.0');
      await record('download', await next().http.get(`/v3/${releases[0]}?key=${plain.key}`));
      await admin().post(`/v1/accounts/${account.id}/licenses/${license.id}/actions/suspend`);
      await check(license.key, '1.0.0');
      await admin().post(`/v1/accounts/${account.id}/releases/${releases[1]}/actions/publish`);
      await list(plain.key);
      await admin().delete(`/v1/accounts/${account.id}/releases/${releases[2]}`);
      await check(plain.key, '1.1.0', 'beta');
      // counters flushed by every instance and applied by both catalogues
      await Promise.all([a, b].map((t) => t.app.get(CountersService).flush()));
      await a.app.get(CatalogueListener).settle();
      for (const id of releases.filter((_, n) => n !== 2)) await record('counters', await admin().get(`/v1/accounts/${account.id}/releases/${id}`));
      return log;
    }

    const single = await scenario(() => a);
    const alternating = await scenario((i) => (i % 2 ? b : a));
    expect(alternating).toEqual(single);
    expect(single).toHaveLength(15);
  });
});
