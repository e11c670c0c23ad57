// Analytics benchmark: recording 1,000,000 update checks, then answering the analytics routes.
//
//   npm run bench:analytics                         (builds, then runs this script)
//   BENCH_CHECKS=1000000 BENCH_INSTALLS=100000 BENCH_QUERIES=50 npm run bench:analytics
//
// 1. A fresh database (the PostgreSQL at 127.0.0.1:5432 when it answers, else an embedded one) and
//    the built server (dist/src/main.js); an account, a product and 40 releases through the API.
// 2. BENCH_CHECKS update checks by BENCH_INSTALLS distinct installs (licenses and installIds,
//    3 platforms, 2 channels, versions skewed towards the newest) go through the real
//    AnalyticsRecorder.recordCheck in this process, flushed every 100,000 checks as the server's
//    timer would; the cost per check and per flush is reported. Thirty earlier days of daily
//    rollups and per-day installs are added by SQL, so that the windows read a month of rows, and
//    the 40 releases are published one a day (their publications moved back by SQL).
// 3. The server answers GET /analytics/versions (several filters), /analytics/adoption and
//    /analytics/downloads BENCH_QUERIES times each; the median and p95 latency are reported
//    (target: under 50 ms).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { dist, freshDatabase, JSONAPI, median, repo, sleep, startProcess } from './support.mjs';

const CHECKS = Number(process.env.BENCH_CHECKS ?? 1_000_000);
const INSTALLS = Number(process.env.BENCH_INSTALLS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 50);
const FLUSH_EVERY = 100_000;
const ROOT_TOKEN = `bench-root-${randomUUID()}`;

const { AnalyticsRecorder } = dist('analytics/analytics-recorder.js');
const { loadConfig } = dist('config/config.js');
const { dataSourceOptions } = dist('database/data-source.js');
const { ENTITIES } = dist('entities.js');

function random(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

async function main() {
  const database = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-analytics-'));
  const server = await startProcess(path.join(repo, 'dist/src/main.js'), {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ROOT_TOKEN,
    LOG_LEVEL: 'warn',
    RATE_LIMIT: 'off',
    PASSWORD_HASH_COST: '4',
  });
  let db;
  try {
    const post = async (url, body, auth) => {
      const res = await fetch(`${server.base}${url}`, { method: 'POST', headers: { 'Content-Type': JSONAPI, ...(auth ? { Authorization: auth } : {}) }, body: body && JSON.stringify(body) });
      if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const slug = `bench-${randomUUID().slice(0, 8)}`;
    const account = await post('/v1/accounts', {
      data: { type: 'accounts', attributes: { name: 'Bench', slug }, relationships: { admins: { data: [{ type: 'users', attributes: { email: 'a@bench.test', password: 'bench-password' } }] } } },
    }, `Bearer ${ROOT_TOKEN}`);
    const accountId = account.data.id;
    const tokenRes = await fetch(`${server.base}/v1/accounts/${slug}/tokens`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from('a@bench.test:bench-password').toString('base64')}` } });
    const adminAuth = `Bearer ${(await tokenRes.json()).data.attributes.token}`;
    const product = await post(`/v1/accounts/${accountId}/products`, { data: { type: 'products', attributes: { name: 'Bench app' } } }, adminAuth);
    const productId = product.data.id;
    const versions = [];
    for (let minor = 0; minor < 40; minor++) {
      const version = `1.${minor}.0`;
      versions.push(version);
      await post(`/v1/accounts/${accountId}/releases`, {
        data: {
          type: 'releases',
          attributes: { version, channel: 'stable', platform: 'linux/amd64', filename: `app-${version}.tar.gz`, filetype: 'tar.gz' },
          relationships: { product: { data: { type: 'products', id: productId } } },
        },
      }, adminAuth);
    }

    // 2. the recorder, as the server runs it, against the same database
    db = new DataSource({ ...dataSourceOptions(database.url, ENTITIES), extra: { max: 4 } });
    await db.initialize();
    const config = loadConfig({ DATABASE_URL: database.url });
    const recorder = new AnalyticsRecorder(config, db);
    const rnd = random(7);
    const installs = Array.from({ length: INSTALLS }, (_, i) => ({
      bearer: i % 3 === 0 ? { kind: 'anonymous', accountId } : { kind: 'license', accountId, license: { id: randomUUID() } },
      installId: `install-${i}`,
      platform: ['linux/amd64', 'darwin/arm64', 'windows'][i % 3],
      channel: i % 10 === 0 ? 'beta' : 'stable',
      // most installs run one of the newest versions
      version: versions[Math.max(0, versions.length - 1 - Math.floor(rnd() ** 3 * versions.length))],
    }));
    let recordNs = 0n;
    let flushMs = 0;
    let flushes = 0;
    for (let done = 0; done < CHECKS; ) {
      const batch = Math.min(FLUSH_EVERY, CHECKS - done);
      const facts = new Array(batch);
      for (let i = 0; i < batch; i++) {
        const install = installs[Math.floor(rnd() * installs.length)];
        facts[i] = [install.bearer, { accountId, productId, platform: install.platform, channel: install.channel, version: install.version, installId: install.installId }];
      }
      const started = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) recorder.recordCheck(facts[i][0], facts[i][1]);
      recordNs += process.hrtime.bigint() - started;
      const flushStarted = Date.now();
      await recorder.flush();
      flushMs += Date.now() - flushStarted;
      flushes++;
      done += batch;
    }
    // a month of earlier daily rollups
    await db.query(
      `INSERT INTO analytics_daily (account_id, product_id, day, version, platform, channel, checks, downloads, upgrades)
       SELECT $1, $2, (now() AT TIME ZONE 'UTC')::date - d, v, p, c, 1000 + d, 50, 40
         FROM generate_series(1, 30) d, unnest($3::varchar[]) v, unnest(ARRAY['linux/amd64', 'darwin/arm64', 'windows']) p, unnest(ARRAY['stable', 'beta']) c`,
      [accountId, productId, versions],
    );
    await db.query(
      `INSERT INTO analytics_day_installs (account_id, product_id, day, version, platform, channel, installs)
       SELECT $1, $2, (now() AT TIME ZONE 'UTC')::date - d, v, p, c, 100 + d
         FROM generate_series(1, 30) d, unnest($3::varchar[]) v, unnest(ARRAY['linux/amd64', 'darwin/arm64', 'windows']) p, unnest(ARRAY['stable', 'beta']) c`,
      [accountId, productId, versions],
    );
    // the releases published one a day, the newest today (the adoption series' latest moves daily)
    await db.query(`UPDATE releases SET status = 'PUBLISHED' WHERE product_id = $1`, [productId]);
    await db.query(
      `UPDATE release_publications p SET started = now() - (40 - r.semver_minor) * interval '1 day' FROM releases r WHERE r.id = p.release_id AND r.product_id = $1`,
      [productId],
    );
    await db.query('VACUUM ANALYZE analytics_installs');
    await db.query('VACUUM ANALYZE analytics_day_installs');
    await db.query('VACUUM ANALYZE analytics_daily');
    const [{ n: installRows }] = await db.query('SELECT count(*)::int AS n FROM analytics_installs');
    const [{ n: dailyRows }] = await db.query('SELECT count(*)::int AS n FROM analytics_daily');
    const [{ n: dayInstallRows }] = await db.query('SELECT count(*)::int AS n FROM analytics_day_installs');
    const [{ n: checksRecorded }] = await db.query(`SELECT sum(checks)::bigint AS n FROM analytics_daily WHERE day = (now() AT TIME ZONE 'UTC')::date`);

    // 3. the routes
    const routes = [
      `/v1/accounts/${accountId}/products/${productId}/analytics/versions`,
      `/v1/accounts/${accountId}/products/${productId}/analytics/versions?days=7&platform=windows`,
      `/v1/accounts/${accountId}/products/${productId}/analytics/versions?days=365&channel=beta`,
      `/v1/accounts/${accountId}/products/${productId}/analytics/adoption?days=30`,
      `/v1/accounts/${accountId}/products/${productId}/analytics/adoption?days=365&platform=windows`,
      `/v1/accounts/${accountId}/products/${productId}/analytics/downloads?days=30`,
    ];
    const results = [];
    for (const route of routes) {
      const times = [];
      for (let i = 0; i < QUERIES + 3; i++) {
        const started = process.hrtime.bigint();
        const res = await fetch(`${server.base}${route}`, { headers: { Authorization: adminAuth, Accept: JSONAPI } });
        const body = await res.json();
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(body)}`);
        if (i >= 3) times.push(ms); // the first answers warm the caches
        if (i === 0 && route.endsWith('/versions')) results.push({ route: 'versions (sample answer)', meta: body.meta, top: body.data.slice(0, 3) });
      }
      results.push({ route: route.replace(/^.*\/analytics\//, ''), medianMs: +median(times).toFixed(1), p95Ms: +percentile(times, 0.95).toFixed(1), maxMs: +Math.max(...times).toFixed(1) });
      await sleep(50);
    }
    console.log(JSON.stringify({
      checks: CHECKS,
      checksRecordedToday: Number(checksRecorded),
      installs: INSTALLS,
      rows: { analytics_installs: installRows, analytics_daily: dailyRows, analytics_day_installs: dayInstallRows },
      recordCheckNsPerCheck: Number(recordNs / BigInt(CHECKS)),
      flushMsPer100kChecks: Math.round(flushMs / flushes),
      routes: results,
    }, null, 2));
  } finally {
    await db?.destroy();
    await server.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
