import { DataSource } from 'typeorm';
import { AnalyticsRecorder } from '../../src/analytics/analytics-recorder';
import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease, yankRelease } from '../support/release.factories';
import { createReleaseV11, uploadArtifactV11, v11Client } from '../support/v11.factories';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * Share on latest over time (GET .../analytics/adoption), against a week counted by hand.
 *
 * Every check is a real update check over HTTP, recorded by the recorder and written by its
 * flush. Today's checks run at today's time; for the six days before, the test moves the
 * process's clock (Date.now, which the recorder reads) back to that day while the checks run,
 * then forward again, as if the installs had checked on those days: the recorder, its midnight
 * handling and the flush's SQL run exactly as they do in production. Releases are published and
 * yanked through the API; only the start of their publication is moved back to the day of the
 * story (release_publications.started), since PostgreSQL's clock cannot be moved.
 *
 * The story (D is today, UTC), installs A, B, C (licenses) and X (an anonymous installId):
 *   D-6  nothing
 *   D-5  1.0.0 published; A and B run 1.0.0
 *   D-4  1.0.5 published (API 1.1: a linux artifact, then a windows one); A runs 1.0.0
 *   D-3  2.0.0-beta.1 published on beta; B checks on beta with 2.0.0-beta.1
 *   D-2  1.1.0 published; A runs 1.0.0 in the morning and 1.1.0 at night (flushed between),
 *        B 1.0.0, X 1.0.0, C 1.1.0 at 23:00 (not flushed before C's next check, the next day)
 *   D-1  1.2.0 published; C runs 1.2.0, A 1.1.0
 *   D    1.2.0 yanked; 4.0.0 published and moved back to draft; 3.0.0 a draft all along;
 *        A 1.1.0, B 1.0.0, C 1.2.0, X 1.0.0 on linux, then (flushed between) 1.0.5 on windows
 */
describe('analytics: adoption over time', () => {
  let t: TestApp;
  let db: DataSource;
  let account: TestAccount;
  let admin: ReturnType<typeof api>;
  let productId: string;
  const realNow = Date.now;
  let today: number;
  const base = () => `/v1/accounts/${account.id}`;
  const adoption = (query = '') => admin.get(`${base()}/products/${productId}/analytics/adoption?days=7${query}`);
  const dayOf = (daysAgo: number) => new Date(today - daysAgo * DAY).toISOString().slice(0, 10);

  /** The process's clock at `hour` o'clock UTC, `daysAgo` days before today (and running on from there). */
  function clockAt(daysAgo: number, hour: number): void {
    const from = realNow();
    const at = today - daysAgo * DAY + hour * HOUR;
    Date.now = () => at + (realNow() - from);
  }

  beforeAll(async () => {
    // a run that would straddle midnight UTC waits for it: the story's days are counted from today
    const toMidnight = DAY - (realNow() % DAY);
    if (toMidnight < 120_000) await new Promise((r) => setTimeout(r, toMidnight + 1000));
    today = Math.floor(realNow() / DAY) * DAY;
    // flushes happen when the test says (and when an analytics route is read)
    t = await startApp({ ANALYTICS_FLUSH_MS: '300000' });
    db = t.app.get(DataSource);
    account = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
    productId = (await createProduct(t, account)).id;
  });
  afterAll(async () => {
    Date.now = realNow;
    await t.close();
  });

  it('answers, per day, the installs that checked, the latest release then and the share on it', async () => {
    const published = async (releaseId: string, daysAgo: number, hour: number) => {
      const [, moved] = await db.query(`UPDATE release_publications SET started = $2 WHERE release_id = $1 AND ended IS NULL`, [releaseId, new Date(today - daysAgo * DAY + hour * HOUR)]);
      expect(moved).toBe(1);
    };
    const release10 = async (version: string) => {
      const r = await createRelease(t, account, productId, { version });
      await uploadArtifact(t, account, r.id, randomFile(16)); // publishes it
      return r.id;
    };
    const v100 = await release10('1.0.0');
    await published(v100, 5, 8);
    const v105 = await createReleaseV11(t, account, productId, '1.0.5');
    await uploadArtifactV11(t, account, v105.id, { filename: 'app-1.0.5.tar.gz', platform: 'linux', arch: 'amd64' }, randomFile(16));
    await uploadArtifactV11(t, account, v105.id, { filename: 'app-1.0.5.exe', platform: 'windows', arch: 'amd64' }, randomFile(16));
    await published(v105.id, 4, 8);
    const beta = await release10('2.0.0-beta.1');
    await published(beta, 3, 8);
    const v110 = await release10('1.1.0');
    await published(v110, 2, 8);
    const v120 = await release10('1.2.0');
    await published(v120, 1, 8);
    await yankRelease(t, account, v120);
    const v400 = await createReleaseV11(t, account, productId, '4.0.0');
    expect((await v11Client(t, bearer(account.adminToken)).post(`${base()}/releases/${v400.id}/actions/draft`)).status).toBe(200);
    await createRelease(t, account, productId, { version: '3.0.0' }); // a draft, never published

    const [a, b, c] = await Promise.all([1, 2, 3].map(() => createLicense(t, account, productId)));
    const recorder = t.app.get(AnalyticsRecorder);
    const check = async (who: { key?: string; installId?: string }, version: string, options: { platform?: string; channel?: string } = {}) => {
      const client = api(t, who.key ? licenseAuth(who.key) : undefined);
      const query = `product=${productId}&platform=${options.platform ?? 'linux/amd64'}&version=${version}&channel=${options.channel ?? 'stable'}${who.installId ? `&installId=${who.installId}` : ''}`;
      const res = await client.get(`${base()}/releases/actions/upgrade?${query}`);
      expect([204, 303]).toContain(res.status);
    };
    const x = { installId: 'install-x' };

    try {
      clockAt(5, 10);
      await check(a, '1.0.0');
      await check(b, '1.0.0');
      await recorder.flush();
      clockAt(4, 10);
      await check(a, '1.0.0');
      await recorder.flush();
      clockAt(3, 10);
      await check(b, '2.0.0-beta.1', { channel: 'beta' });
      await recorder.flush();
      clockAt(2, 10);
      await check(a, '1.0.0');
      await check(b, '1.0.0');
      await check(x, '1.0.0');
      await recorder.flush();
      clockAt(2, 20);
      await check(a, '1.1.0');
      await recorder.flush();
      clockAt(2, 23);
      await check(c, '1.1.0');
      // no flush: C's next check is the next day, in the same interval
      clockAt(1, 13);
      await check(c, '1.2.0');
      await check(a, '1.1.0');
      await recorder.flush();
    } finally {
      Date.now = realNow;
    }
    await check(a, '1.1.0');
    await check(b, '1.0.0');
    await check(c, '1.2.0');
    await check(x, '1.0.0');
    await recorder.flush();
    await check(x, '1.0.5', { platform: 'windows' });
    // admins are not customers
    expect((await admin.get(`${base()}/releases/actions/upgrade?product=${productId}&platform=linux/amd64&version=1.0.0`)).status).toBe(303);
    // the route writes this instance's pending checks first

    const row = (daysAgo: number, latest: string | null, installs: number, onLatest: number) => ({
      day: dayOf(daysAgo),
      latest,
      installs,
      onLatest,
      share: installs ? Math.round((onLatest / installs) * 10_000) / 10_000 : null,
    });

    const all = await adoption();
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      data: [
        row(6, null, 0, 0),
        row(5, '1.0.0', 2, 2),
        row(4, '1.0.5', 1, 0),
        row(3, '1.0.5', 1, 0),
        row(2, '1.1.0', 4, 2),
        row(1, '1.2.0', 2, 1),
        row(0, '1.1.0', 4, 1),
      ],
      meta: { days: 7 },
    });

    // installs of the beta channel only; latest on beta and the more stable channels
    expect((await adoption('&channel=beta')).body.data).toEqual([
      row(6, null, 0, 0),
      row(5, '1.0.0', 0, 0),
      row(4, '1.0.5', 0, 0),
      row(3, '2.0.0-beta.1', 1, 1),
      row(2, '2.0.0-beta.1', 0, 0),
      row(1, '2.0.0-beta.1', 0, 0),
      row(0, '2.0.0-beta.1', 0, 0),
    ]);
    // windows: only 1.0.5 has a windows file (its second artifact); X moved to windows today
    expect((await adoption('&platform=windows')).body.data).toEqual([
      row(6, null, 0, 0),
      row(5, null, 0, 0),
      row(4, '1.0.5', 0, 0),
      row(3, '1.0.5', 0, 0),
      row(2, '1.0.5', 0, 0),
      row(1, '1.0.5', 0, 0),
      row(0, '1.0.5', 1, 1),
    ]);
    // linux/amd64: today without X, which left it for windows the same day
    expect((await adoption('&platform=linux/amd64')).body.data).toEqual([
      row(6, null, 0, 0),
      row(5, '1.0.0', 2, 2),
      row(4, '1.0.5', 1, 0),
      row(3, '1.0.5', 1, 0),
      row(2, '1.1.0', 4, 2),
      row(1, '1.2.0', 2, 1),
      row(0, '1.1.0', 3, 1),
    ]);
    // a shorter window is the same days' tail
    const three = await admin.get(`${base()}/products/${productId}/analytics/adoption?days=3`);
    expect(three.body.data).toEqual(all.body.data.slice(4));
    // the versions table's latest reads the same platform rule
    expect((await admin.get(`${base()}/products/${productId}/analytics/versions?platform=windows`)).body.meta.latest).toBe('1.0.5');
  });

  it('keeps every day of a flush that failed (the database was down) for the next one', async () => {
    const other = (await createProduct(t, account)).id;
    const [y, z] = await Promise.all([createLicense(t, account, other), createLicense(t, account, other)]);
    const recorder = t.app.get(AnalyticsRecorder);
    const check = async (key: string, version: string) =>
      expect([204, 303]).toContain((await api(t, licenseAuth(key)).get(`${base()}/releases/actions/upgrade?product=${other}&platform=linux&version=${version}`)).status);
    const transaction = db.transaction;
    try {
      clockAt(2, 10);
      await check(y.key, '1.0.0');
      await check(z.key, '1.0.0');
      // the flush fails; while it runs, the next day has come and Z checks again (the database
      // fails the flush's transaction only: what the check itself writes goes through)
      let down = true;
      db.transaction = (async (...args: unknown[]) => {
        if (!down) return (transaction as (...a: unknown[]) => Promise<unknown>).apply(db, args);
        down = false;
        clockAt(1, 10);
        await check(z.key, '1.1.0');
        throw new Error('database down');
      }) as unknown as typeof db.transaction;
      await recorder.flush();
      db.transaction = transaction;
      // Y checks the next day too, before the next flush
      await check(y.key, '1.1.0');
      await recorder.flush();
    } finally {
      db.transaction = transaction;
      Date.now = realNow;
    }
    // both days count both installs, and no check is lost
    const res = await admin.get(`${base()}/products/${other}/analytics/adoption?days=3`);
    expect(res.body.data.map((d: { installs: number }) => d.installs)).toEqual([2, 2, 0]);
    expect((await admin.get(`${base()}/products/${other}/analytics/versions?days=3`)).body.meta).toMatchObject({ installs: 2, checks: 4 });
  });

  it('is for admins only, with validated parameters', async () => {
    const license = await createLicense(t, account, productId);
    expect((await api(t, licenseAuth(license.key)).get(`${base()}/products/${productId}/analytics/adoption`)).status).toBe(403);
    expect((await api(t).get(`${base()}/products/${productId}/analytics/adoption`)).status).toBe(401);
    expect((await admin.get(`${base()}/products/00000000-0000-4000-8000-000000000000/analytics/adoption`)).status).toBe(404);
    for (const [query, parameter] of [['days=0', 'days'], ['days=366', 'days'], ['days=week', 'days'], ['channel=nightly', 'channel'], ['platform=', 'platform']]) {
      const res = await admin.get(`${base()}/products/${productId}/analytics/adoption?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter } });
    }
    // a whole year answers every day of it
    const year = await admin.get(`${base()}/products/${productId}/analytics/adoption?days=365`);
    expect(year.status).toBe(200);
    expect(year.body.data).toHaveLength(365);
    expect(year.body.data[364].day).toBe(dayOf(0));
  });
});
