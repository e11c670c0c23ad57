import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { startApp, TestApp } from '../support/app';
import { fetchBytes, getArtifact, onTestServer, putArtifact, randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { constrainRelease, createRelease } from '../support/release.factories';

/**
 * Signed download URLs issued to a license stop working, on every instance, as soon as the license
 * may no longer download the file (suspended, expired with REVOKE_ACCESS, or missing an entitlement
 * a new constraint asks for), answered from memory when warm; and signed URLs answer only under
 * the account they were signed for.
 */
describe('signed URLs', () => {
  let a: TestApp;
  let b: TestApp;
  let account: TestAccount;
  let productId: string;
  let entitlementId: string;
  // the instances share their storage, as a deployment does
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-shared-'));

  beforeAll(async () => {
    a = await startApp({ DATA_DIR: storage });
    b = await startApp({ DATA_DIR: storage });
    account = await createAccount(a);
    productId = (await createProduct(a, account)).id;
    entitlementId = (await createEntitlement(a, account)).id;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    fs.rmSync(storage, { recursive: true, force: true });
  });

  const admin = () => api(a, bearer(account.adminToken));

  async function releaseWithFile(): Promise<string> {
    const release = await createRelease(a, account, productId);
    await uploadArtifact(a, account, release.id, randomFile(256));
    return release.id;
  }

  /** The signed URL (path and query) instance A hands the license for the release. */
  async function urlFor(key: string, releaseId: string): Promise<string> {
    const res = await getArtifact(a, account, releaseId, licenseAuth(key));
    expect(res.status).toBe(303);
    const u = new URL(res.headers.location);
    return `${u.pathname}${u.search}`;
  }

  const statusOn = async (t: TestApp, url: string) => (await fetchBytes(`${t.baseUrl}${url}`)).status;

  /** Polls until the URL answers `status` on both instances; returns how long that took (ms). */
  async function onBoth(url: string, status: number): Promise<number> {
    const started = Date.now();
    while ((await statusOn(a, url)) !== status || (await statusOn(b, url)) !== status) {
      if (Date.now() - started > 5000) throw new Error(`the URL did not answer ${status} on both instances within 5 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return Date.now() - started;
  }

  describe('issued to a license', () => {
    it('answers 404 on every instance once the license is suspended, and again 200 once reinstated', async () => {
      const license = await createLicense(a, account, productId);
      const url = await urlFor(license.key, await releaseWithFile());
      expect(await statusOn(b, url)).toBe(200);
      expect((await admin().post(`/v1/accounts/${account.id}/licenses/${license.id}/actions/suspend`)).status).toBe(200);
      expect(await onBoth(url, 404)).toBeLessThan(2000);
      const res = await fetchBytes(`${b.baseUrl}${url}`);
      expect(JSON.parse(res.body.toString()).errors[0]).toMatchObject({ status: '404' });
      expect((await admin().post(`/v1/accounts/${account.id}/licenses/${license.id}/actions/reinstate`)).status).toBe(200);
      expect(await onBoth(url, 200)).toBeLessThan(2000);
    });

    it('answers 404 on every instance once the license expires with REVOKE_ACCESS', async () => {
      const expiry = new Date(Date.now() + 3000);
      const license = await createLicense(a, account, productId, { attrs: { expiry: expiry.toISOString(), expirationStrategy: 'REVOKE_ACCESS' } });
      const url = await urlFor(license.key, await releaseWithFile());
      expect(await statusOn(b, url)).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, expiry.getTime() - Date.now())));
      expect(await onBoth(url, 404)).toBeLessThan(2000);
    });

    it('answers 404 on every instance once the release asks for an entitlement the license lacks', async () => {
      const lacking = await createLicense(a, account, productId);
      const holding = await createLicense(a, account, productId, { entitlementIds: [entitlementId] });
      const releaseId = await releaseWithFile();
      const lackingUrl = await urlFor(lacking.key, releaseId);
      const holdingUrl = await urlFor(holding.key, releaseId);
      expect(await statusOn(b, lackingUrl)).toBe(200);
      await constrainRelease(a, account, releaseId, [entitlementId]);
      expect(await onBoth(lackingUrl, 404)).toBeLessThan(2000);
      expect(await statusOn(a, holdingUrl)).toBe(200);
      expect(await statusOn(b, holdingUrl)).toBe(200);
    });

    it('cannot be unbound from its license (the binding is signed)', async () => {
      const license = await createLicense(a, account, productId);
      const url = new URL(await urlFor(license.key, await releaseWithFile()), a.baseUrl);
      expect(url.searchParams.get('l')).toBe(license.id);
      url.searchParams.delete('l');
      expect((await fetchBytes(url.toString())).status).toBe(403);
    });

    it('is answered from memory when warm: no database read per download', async () => {
      const license = await createLicense(a, account, productId);
      const url = await urlFor(license.key, await releaseWithFile());
      expect(await statusOn(b, url)).toBe(200); // warms B
      // every change committed so far is applied on both instances (a write whose catalogue
      // acknowledgement timed out on a loaded machine would otherwise be applied, with its reads, below)
      await b.app.get(CatalogueListener).settle();
      const reads: string[] = [];
      const original = PostgresQueryRunner.prototype.query;
      PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, ...args: Parameters<typeof original>) {
        const sql = String(args[0]);
        if (/^\s*select/i.test(sql) && /\b(artifacts|releases|licenses|license_entitlements|release_constraints)\b/.test(sql)) reads.push(sql);
        return original.apply(this, args);
      } as typeof original;
      try {
        for (let i = 0; i < 10; i++) expect(await statusOn(b, url)).toBe(200);
      } finally {
        PostgresQueryRunner.prototype.query = original;
      }
      expect(reads).toEqual([]);
    });
  });

  describe('under another account', () => {
    let other: TestAccount;
    let url: string;

    beforeAll(async () => {
      other = await createAccount(a);
      url = await urlFor((await createLicense(a, account, productId)).key, await releaseWithFile());
    });

    const elsewhere = (u: string, accountRef: string) => u.replace(`/accounts/${account.id}/`, `/accounts/${accountRef}/`);

    it('a download URL answers 404 under another account or an unknown one, 200 under its own slug', async () => {
      expect(await statusOn(a, elsewhere(url, account.slug))).toBe(200);
      for (const ref of [other.id, other.slug, 'no-such-account-slug', '00000000-0000-4000-8000-000000000000']) {
        const res = await fetchBytes(`${a.baseUrl}${elsewhere(url, ref)}`);
        expect({ ref, status: res.status }).toEqual({ ref, status: 404 });
        expect(JSON.parse(res.body.toString()).errors[0].code).toBe('NOT_FOUND');
      }
    });

    it('an upload URL answers 404 under another account or an unknown one, and stores nothing', async () => {
      const release = await createRelease(a, account, productId, { filesize: 3 });
      const redirect = await putArtifact(a, account, release.id, Buffer.alloc(0)).redirects(0);
      expect(redirect.status).toBe(307);
      const target = new URL(onTestServer(a, redirect.headers.location));
      const upload = `${target.pathname}${target.search}`;
      for (const ref of [other.id, other.slug, 'no-such-account-slug']) {
        const res = await a.http.put(elsewhere(upload, ref)).set('Content-Type', 'application/octet-stream').send(Buffer.from('abc'));
        expect({ ref, status: res.status }).toEqual({ ref, status: 404 });
      }
      const own = await a.http.put(upload).set('Content-Type', 'application/octet-stream').send(Buffer.from('abc'));
      expect(own.status).toBe(200);
    });
  });
});
