import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/** A small deterministic generator (mulberry32), so that a failing scenario can be replayed. */
function generator(seed: number) {
  let a = seed;
  const next = () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] };
}

const share = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/**
 * Adoption analytics against a hand count: a generated sequence of update checks by licenses, a
 * user and anonymous installs over every route that records checks; the versions-in-use table,
 * the share on the latest release and the downloads and upgrades per version must equal what the
 * test counted from its own requests and the answers it got.
 */
describe('analytics', () => {
  let t: TestApp;
  let account: TestAccount;
  let admin: ReturnType<typeof api>;
  let productId: string;
  const base = () => `/v1/accounts/${account.id}`;
  const releaseIds = new Map<string, string>();

  beforeAll(async () => {
    t = await startApp({ ANALYTICS_FLUSH_MS: '200' });
    account = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
    productId = (await createProduct(t, account)).id;
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '2.0.0-beta.1']) {
      const r = await createRelease(t, account, productId, { version, filename: `app-${version}.tar.gz` });
      await uploadArtifact(t, account, r.id, randomFile(32));
      releaseIds.set(version, r.id);
    }
  });
  afterAll(() => t.close());

  it('answers the versions in use, the share on latest, and downloads and upgrades per version, as counted by hand', async () => {
    const licenses = await Promise.all(Array.from({ length: 10 }, () => createLicense(t, account, productId)));
    const user = await createUser(t, account);
    await createLicense(t, account, productId, { userId: user.id });
    const installIds = ['install-a', 'install-b', 'install-c'];

    type Caller = { identity: string; auth?: string; installId?: string; kind: 'license' | 'user' | 'anonymous' };
    const callers: Caller[] = [
      ...licenses.map((l) => ({ identity: `l:${l.id}`, auth: licenseAuth(l.key), kind: 'license' as const })),
      { identity: `u:${user.id}`, auth: bearer(user.token), kind: 'user' },
      ...installIds.map((id) => ({ identity: `i:${id}`, installId: id, kind: 'anonymous' as const })),
    ];
    const rng = generator(20261125);
    const last = new Map<string, { version: string; platform: string; channel: string }>();
    let checks = 0;
    const downloads = new Map<string, number>();
    const upgrades = new Map<string, number>();
    const add = (m: Map<string, number>, v: string) => m.set(v, (m.get(v) ?? 0) + 1);

    for (let i = 0; i < 150; i++) {
      const caller = rng.pick(callers);
      const version = rng.pick(['1.0.0', '1.1.0', '1.2.0']);
      const channel = rng.pick(['stable', 'stable', 'beta']);
      const client = api(t, caller.auth);
      const route = caller.kind === 'anonymous' ? 'action' : rng.pick(['action', 'release', 'v3-update', 'v3-latest', 'v3-windows']);
      const record = (platform: string) => {
        checks++;
        last.set(caller.identity, { version, platform, channel });
      };
      if (route === 'action') {
        const install = caller.installId ? `&installId=${caller.installId}` : '';
        const res = await client.get(`${base()}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=${version}&channel=${channel}${install}`);
        record('linux/amd64');
        if (res.status === 303) {
          add(downloads, res.body.meta.next);
          add(upgrades, res.body.meta.next);
        } else expect(res.status).toBe(204); // anonymous callers see nothing of a LICENSED product
      } else if (route === 'release') {
        const res = await client.get(`${base()}/releases/${releaseIds.get(version)}/upgrade?channel=${channel}`);
        record('linux/amd64');
        if (res.status === 200) add(upgrades, res.body.meta.next);
        else expect(res.status).toBe(404);
      } else if (route === 'v3-update' || route === 'v3-windows') {
        const platform = route === 'v3-windows' ? 'windows' : 'linux/amd64';
        // /v3 reads versions loosely: 1.1 is 1.1.0
        const sent = version.replace(/\.0$/, '');
        const res = await client.get(`/v3/releases/update?productId=${productId}&platform=${platform}&version=${sent}&channel=${channel}`);
        record(platform);
        if (res.status === 200) add(upgrades, res.body.version);
        else expect(res.status).toBe(204);
      } else {
        const res = await client.get(`/v3/releases/latest?productId=${productId}&platform=linux/amd64&channel=${channel}&version=${version}`);
        expect(res.status).toBe(200);
        record('linux/amd64');
      }
    }
    // admins and product tokens are not customers: not recorded
    expect((await admin.get(`${base()}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0`)).status).toBe(303);

    const expectTable = (platform?: string) => {
      const counts = new Map<string, number>();
      for (const l of last.values()) if (platform === undefined || l.platform === platform) counts.set(l.version, (counts.get(l.version) ?? 0) + 1);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const data = [...counts.entries()].sort(([a], [b]) => (a < b ? 1 : -1)).map(([version, installs]) => ({ version, installs, share: share(installs, total) }));
      return { data, total, onLatest: share(counts.get('1.2.0') ?? 0, total) };
    };

    const res = await admin.get(`${base()}/products/${productId}/analytics/versions`);
    expect(res.status).toBe(200);
    const expected = expectTable();
    expect(res.body.data).toEqual(expected.data);
    expect(res.body.meta).toEqual({ latest: '1.2.0', onLatestShare: expected.onLatest, installs: expected.total, checks, days: 30 });
    expect(expected.total).toBe(last.size);

    const windows = await admin.get(`${base()}/products/${productId}/analytics/versions?platform=windows&days=7`);
    expect(windows.body.data).toEqual(expectTable('windows').data);
    // nothing is released for windows
    expect(windows.body.meta.latest).toBeNull();
    expect((await admin.get(`${base()}/products/${productId}/analytics/versions?channel=beta`)).body.meta.latest).toBe('2.0.0-beta.1');

    const byDay = await admin.get(`${base()}/products/${productId}/analytics/downloads?days=30`);
    expect(byDay.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const versions = [...new Set([...downloads.keys(), ...upgrades.keys()])];
    expect(byDay.body.data).toEqual(
      expect.arrayContaining(versions.map((version) => ({ day: today, version, downloads: downloads.get(version) ?? 0, upgrades: upgrades.get(version) ?? 0 }))),
    );
    expect(byDay.body.data).toHaveLength(versions.length);
    expect(byDay.body.meta).toEqual({
      downloads: [...downloads.values()].reduce((a, b) => a + b, 0),
      upgrades: [...upgrades.values()].reduce((a, b) => a + b, 0),
      days: 30,
    });
  });

  it('is for admins only, with validated parameters', async () => {
    const license = await createLicense(t, account, productId);
    expect((await api(t, licenseAuth(license.key)).get(`${base()}/products/${productId}/analytics/versions`)).status).toBe(403);
    expect((await admin.get(`${base()}/products/00000000-0000-4000-8000-000000000000/analytics/versions`)).status).toBe(404);
    for (const [query, parameter] of [['days=0', 'days'], ['days=366', 'days'], ['channel=nightly', 'channel'], ['platform=', 'platform']]) {
      const res = await admin.get(`${base()}/products/${productId}/analytics/downloads?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter } });
    }
    const bad = await api(t).get(`${base()}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0&installId=${'x'.repeat(65)}`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'installId' } });
  });
});
