// Hot-path benchmark: update checks, upgrades, a license's release list and the electron and Tauri feeds at 100,000 releases.
//
//   npm run bench                                   (builds, then runs this script)
//   BENCH_RELEASES=100000 BENCH_SECONDS=5 BENCH_ROUNDS=5 BENCH_CONNECTIONS=50 npm run bench
//
// 1. A fresh database (the PostgreSQL at 127.0.0.1:5432 when it answers, else an embedded one),
//    seeded by SQL: 4 accounts, 5 products each (LICENSED, OPEN, CLOSED), 5 platforms, channels,
//    constraints, yanked and unpublished releases, uploaded artifacts, 300 licenses per account;
//    and per account a product of API 1.1 releases with 3 artifacts each (BENCH_MULTI_RELEASES,
//    2,000; BENCH_ARTIFACTS=0 leaves it out), measured as `update 3 artifacts` and `upgrade 3 artifacts`;
//    in it a PyPI and an npm package of 200 versions each (BENCH_PACKAGE_VERSIONS; BENCH_PACKAGES=0
//    leaves them out), measured as `pypi page` (the simple index page) and `npm packument`.
// 2. Three servers: Shipgate (dist/src/main.js), the same with CATALOGUE=false (the SQL path, used
//    to know the right answers), and an empty NestJS express app answering the same paths with
//    the same shapes: status, response headers and body (bench/empty-app.mjs).
// 3. Per route, in each round, Shipgate and the empty app run alternately (the order flips every
//    round) under autocannon; figures are medians over the rounds. Every response is checked
//    against the SQL server's answer for the same request (status and which release or page):
//    a mismatch is a wrong answer.
// 4. A coherence check: changes made directly in SQL (yank, suspend, constraint, strategy) must
//    show in Shipgate's answers within 2 s, matching the SQL server's.
// Rate limits are lifted with the RATE_LIMIT_* variables so the limiter is measured but never trips.
//
// Two builds in one run (a refactor's "no route more than 10 % slower"; bench/hotpath-ab.mjs):
//
//   BENCH_BASELINE=/path/to/other/checkout npm run bench      (that checkout needs `npm ci && npm run build`)
//
// "after" is this checkout's dist/, "before" the other checkout's dist/ (run with its own
// node_modules, its own DATA_DIR and port). After starts first and migrates the fresh database;
// before then starts on the same database (TypeORM runs only the migrations it lacks and ignores the
// ones it does not know), and both serve the same seeded rows. If before will not start on the
// after build's schema (or with BENCH_BASELINE_DB=separate), it gets a second database that it
// migrates itself, into which the seeded rows are copied (the tables and columns both schemas have,
// same ids and keys), and the coherence changes are made in both. The migrations of both builds are
// compared and printed. Per route and round the empty app, before and after run in turn, the order
// changing every round (before and after swap every round, the empty app moves one place); every
// answer of both builds is checked against the after build's SQL server.
// The table gives, per route, the req/s medians of the three, after / before, each build against
// the empty route, each build's p99 against the empty route's p99 and the wrong answers of each;
// then "slowest route: X at N.NN x before" (the 10 % rule holds when N.NN >= 0.90).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { load as loadYaml } from 'js-yaml';
import { pathToFileURL } from 'node:url';
import { dist, freshDatabase, JSONAPI, median, repo, rssMib, sleep, startProcess } from './support.mjs';

export const RELEASES = Number(process.env.BENCH_RELEASES ?? 100_000);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Shipgate's LOG_LEVEL: `warn` leaves out the request log (one JSON line per request); `log` measures it too. */
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
/** BENCH_ROUTES=update,list runs only those routes. */
export const ONLY = process.env.BENCH_ROUTES ? new Set(process.env.BENCH_ROUTES.split(',')) : null;
const ACCOUNTS = 4;
const PLATFORMS = ['linux', 'darwin', 'windows', 'linux/arm64', 'darwin/arm64'];
const STRATEGIES = ['LICENSED', 'LICENSED', 'LICENSED', 'OPEN', 'CLOSED'];
const LICENSES_PER_ACCOUNT = 300;
export const ROOT_TOKEN = `bench-root-${randomBytes(16).toString('hex')}`;
export const LIFTED_LIMITS = {
  RATE_LIMIT_ANONYMOUS_PER_MIN: '100000000',
  RATE_LIMIT_FAILED_AUTH_PER_15MIN: '100000000',
  RATE_LIMIT_SIGNIN_PER_15MIN: '100000000',
  RATE_LIMIT_CREDENTIAL_PER_MIN: '100000000',
};

const { semverColumns, parseStrictVersion } = dist('releases/semver.js');
const pick = (list, i) => list[i % list.length];

/** Deterministic pseudo-random numbers, so every run seeds the same catalogue. */
function random(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** The 1.1 product's artifacts per release: one per platform (an electron-style release). */
const ARTIFACT_PLATFORMS = [
  ['linux', 'amd64', 'tar.gz'],
  ['darwin', 'arm64', 'dmg'],
  ['windows', 'amd64', 'exe'],
];
/** Versions of each package (a PyPI one and an npm one, in the 1.1 product of every account). */
const PACKAGE_VERSIONS = Number(process.env.BENCH_PACKAGE_VERSIONS ?? 200);
/** The packages' keys: the npm one scoped, as a vendor's CLI would be. */
export const BENCH_PACKAGES = { pypi: 'pkg-sdk', npm: '@pk/cli' };

/**
 * Columns of `count` 1.1 releases for an unnest() insert: versions 1.0.0 upwards (five patches per
 * minor, 20 minors per major), a minute apart from `base`, one in 33 yanked.
 */
function versionRows(count, base) {
  const cols = { id: [], version: [], major: [], minor: [], patch: [], created: [], status: [] };
  for (let i = 0; i < count; i++) {
    const version = `${1 + Math.floor(i / 100)}.${Math.floor(i / 5) % 20}.${i % 5}`;
    const c = semverColumns(parseStrictVersion(version));
    cols.id.push(randomUUID());
    cols.version.push(version);
    cols.major.push(c.semverMajor);
    cols.minor.push(c.semverMinor);
    cols.patch.push(c.semverPatch);
    cols.created.push(new Date(base + i * 60_000).toISOString());
    cols.status.push(i % 33 === 0 ? 'YANKED' : 'PUBLISHED');
  }
  return cols;
}

/**
 * Two packages of the 1.1 product, PACKAGE_VERSIONS versions each (one in 33 yanked, one in 40
 * staged to 30 %, one in 10 asking for an entitlement): a PyPI package of one wheel per version and
 * an npm package of one tarball per version (its package.json already read, as at upload).
 */
async function seedPackages(db, account, productId, entitlements, base) {
  let releases = 0;
  for (const [engine, key] of Object.entries(BENCH_PACKAGES)) {
    const created = await db.query(`INSERT INTO packages (account_id, product_id, name, key, engine) VALUES ($1, $2, $3, $3, $4) RETURNING id`, [account.id, productId, key, engine]);
    const packageId = created.rows[0].id;
    const cols = { ...versionRows(PACKAGE_VERSIONS, base), rollout: [] };
    for (let i = 0; i < PACKAGE_VERSIONS; i++) cols.rollout.push(i % 40 === 39 ? 30 : 100);
    await db.query(
      `INSERT INTO releases (id, account_id, product_id, package_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
         channel, status, created, updated, yanked, rollout_percentage, multi_artifact)
       SELECT u.id, $1, $2, $3, u.version, u.major, u.minor, u.patch, true, '{}', 'stable', u.status, u.created, u.created,
              CASE WHEN u.status = 'YANKED' THEN u.created END, u.rollout, true
         FROM unnest($4::uuid[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::timestamptz[], $10::text[], $11::smallint[])
           AS u(id, version, major, minor, patch, created, status, rollout)`,
      [account.id, productId, packageId, cols.id, cols.version, cols.major, cols.minor, cols.patch, cols.created, cols.status, cols.rollout],
    );
    await db.query(
      engine === 'pypi'
        ? `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key, metadata, created)
           SELECT $1::uuid, r.id, 'pkg_sdk-' || r.version || '-py3-none-any.whl', 'whl', 1024, 'application/octet-stream', repeat('a', 64), repeat('b', 128),
                  'UPLOADED', $1::text || '/' || r.id || '/whl', '{"requiresPython": ">=3.8"}', r.created
             FROM releases r WHERE r.package_id = $2`
        : `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key, manifest, created)
           SELECT $1::uuid, r.id, 'cli-' || r.version || '.tgz', 'tgz', 1024, 'application/gzip', repeat('a', 64), repeat('b', 128),
                  'UPLOADED', $1::text || '/' || r.id || '/tgz',
                  jsonb_build_object('packageJson', jsonb_build_object('name', '@pk/cli', 'version', r.version, 'main', 'index.js', 'license', 'MIT'), 'sha1', repeat('c', 40)), r.created
             FROM releases r WHERE r.package_id = $2`,
      [account.id, packageId],
    );
    await db.query(
      `INSERT INTO release_constraints (account_id, release_id, entitlement_id) SELECT $1, r.id, $3 FROM releases r WHERE r.package_id = $2 AND r.semver_patch = 3 AND r.semver_minor % 2 = 0`,
      [account.id, packageId, entitlements[0]],
    );
    releases += PACKAGE_VERSIONS;
  }
  return releases;
}

/** 1.1 releases per account of the product whose releases have 3 artifacts each. */
const MULTI_RELEASES = Number(process.env.BENCH_MULTI_RELEASES ?? 2000);

/**
 * A LICENSED product of 1.1 releases with three artifacts each (linux/amd64, darwin/arm64,
 * windows/amd64), one linux artifact in ten asking for an entitlement of its own, and 60 licenses.
 */
async function seedMultiArtifactProduct(db, account, entitlements, base, rnd) {
  const rows = await db.query(`INSERT INTO products (account_id, name, code, distribution_strategy) VALUES ($1, 'Artifacts', 'p-artifacts', 'LICENSED') RETURNING id`, [account.id]);
  const productId = rows.rows[0].id;
  const cols = { ...versionRows(MULTI_RELEASES, base), critical: [] };
  for (let i = 0; i < MULTI_RELEASES; i++) cols.critical.push(i % 17 === 4);
  await db.query(
    `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
       channel, status, created, updated, critical, multi_artifact)
     SELECT u.id, $1, $2, u.version, u.major, u.minor, u.patch, true, '{}', 'stable', u.status, u.created, u.created, u.critical, true
       FROM unnest($3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::timestamptz[], $9::boolean[], $10::text[])
         AS u(id, version, major, minor, patch, created, critical, status)`,
    [account.id, productId, cols.id, cols.version, cols.major, cols.minor, cols.patch, cols.created, cols.critical, cols.status],
  );
  for (const [os, arch, filetype] of ARTIFACT_PLATFORMS) {
    await db.query(
      `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key, platform, arch, signature, created)
       SELECT $1::uuid, r.id, 'app-' || r.version || '-' || $3 || '-' || $4 || '.' || $5, $5, 1024, 'application/octet-stream', repeat('a', 64), repeat('b', 128),
              'UPLOADED', $1::text || '/' || r.id || '/' || $3, $3, $4, 'dW50cnVzdGVkIGNvbW1lbnQ=', r.created
         FROM releases r WHERE r.product_id = $2`,
      [account.id, productId, os, arch, filetype],
    );
  }
  await db.query(
    `INSERT INTO artifact_constraints (account_id, artifact_id, release_id, entitlement_id)
     SELECT $1, a.id, a.release_id, $3 FROM artifacts a JOIN releases r ON r.id = a.release_id
      WHERE r.product_id = $2 AND a.platform = 'linux' AND r.semver_patch = 3`,
    [account.id, productId, entitlements[0]],
  );
  const licenses = [];
  for (let l = 0; l < 60; l++) {
    const key = `BENCH-A-${randomBytes(12).toString('hex').toUpperCase()}`;
    const created = await db.query(`INSERT INTO licenses (account_id, product_id, key) VALUES ($1, $2, $3) RETURNING id`, [account.id, productId, key]);
    if (rnd() < 0.5) await db.query(`INSERT INTO license_entitlements (account_id, license_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, created.rows[0].id, entitlements[0]]);
    licenses.push({ id: created.rows[0].id, key, productId });
  }
  return { productId, licenses };
}

/**
 * `options.artifacts`: also a product of 1.1 releases with 3 artifacts each per account (not in the
 * A/B mode: a build before API 1.1 cannot serve it).
 */
export async function seed(db, accounts, options = {}) {
  const rnd = random(42);
  const perLine = Math.ceil(RELEASES / (ACCOUNTS * STRATEGIES.length * PLATFORMS.length));
  const base = Date.UTC(2025, 0, 1);
  const world = [];
  let total = 0;
  for (const account of accounts) {
    const entitlements = [];
    for (let e = 0; e < 3; e++) {
      const rows = await db.query(`INSERT INTO entitlements (account_id, name, code) VALUES ($1, $2, $3) RETURNING id`, [account.id, `E${e}`, `e${e}`]);
      entitlements.push(rows.rows[0].id);
    }
    const products = [];
    for (let p = 0; p < STRATEGIES.length; p++) {
      const rows = await db.query(`INSERT INTO products (account_id, name, code, distribution_strategy) VALUES ($1, $2, $3, $4) RETURNING id`, [
        account.id, `Product ${p}`, `p${p}`, STRATEGIES[p],
      ]);
      products.push({ id: rows.rows[0].id, strategy: STRATEGIES[p] });
    }
    for (const product of products) {
      const cols = { id: [], version: [], major: [], minor: [], patch: [], pre: [], isRelease: [], preKey: [], channel: [], platform: [], filename: [], filetype: [], status: [], created: [], yanked: [], critical: [], rollout: [] };
      const constraints = { release: [], entitlement: [] };
      for (const platform of PLATFORMS) {
        for (let i = 0; i < perLine && total < RELEASES; i++, total++) {
          const beta = i % 10 === 9;
          const version = `${1 + Math.floor(i / 100)}.${Math.floor(i / 5) % 20}.${i % 5}${beta ? `-beta.${i % 7}` : ''}`;
          const c = semverColumns(parseStrictVersion(version));
          const filetype = i % 4 === 3 ? 'zip' : platform.startsWith('linux') ? 'tar.gz' : platform.startsWith('darwin') ? 'dmg' : 'exe';
          const status = i % 33 === 0 ? 'YANKED' : i % 50 === 1 ? 'NOT_PUBLISHED' : 'PUBLISHED';
          const id = randomUUID();
          cols.id.push(id);
          cols.version.push(version);
          cols.major.push(c.semverMajor);
          cols.minor.push(c.semverMinor);
          cols.patch.push(c.semverPatch);
          cols.pre.push(c.semverPrerelease);
          cols.isRelease.push(c.semverIsRelease);
          cols.preKey.push(`{${c.semverPreKey.map((k) => `"${k}"`).join(',')}}`);
          cols.channel.push(beta ? 'beta' : 'stable');
          cols.platform.push(platform);
          cols.filename.push(`${platform}/app-${version}.${filetype}`);
          cols.filetype.push(filetype);
          cols.status.push(status);
          cols.created.push(new Date(base + i * 60_000 + PLATFORMS.indexOf(platform) * 1000).toISOString());
          cols.yanked.push(status === 'YANKED' ? new Date(base).toISOString() : null);
          // update policy: some critical releases, some staged rollouts (answers then depend on the license)
          cols.critical.push(i % 17 === 4);
          cols.rollout.push(i % 40 === 39 ? 30 : 100);
          if (i % 10 === 5) {
            constraints.release.push(id);
            constraints.entitlement.push(pick(entitlements, Math.floor(i / 10)));
          }
        }
      }
      await db.query(
        `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_prerelease,
           semver_is_release, semver_pre_key, channel, platform, filename, filetype, status, created, updated, yanked, filesize,
           critical, rollout_percentage, signature)
         SELECT u.id, $1, $2, u.version, u.major, u.minor, u.patch, u.pre, u.is_release, u.pre_key::text[], u.channel, u.platform,
                u.filename, u.filetype, u.status, u.created, u.created, u.yanked, 1024, u.critical, u.rollout,
                -- signed, as a Tauri bundle is (the Tauri feed offers only signed files)
                'dW50cnVzdGVkIGNvbW1lbnQ='
           FROM unnest($3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::boolean[], $10::text[],
                       $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[],
                       $18::boolean[], $19::smallint[])
             AS u(id, version, major, minor, patch, pre, is_release, pre_key, channel, platform, filename, filetype, status, created, yanked,
                  critical, rollout)`,
        [account.id, product.id, cols.id, cols.version, cols.major, cols.minor, cols.patch, cols.pre, cols.isRelease, cols.preKey,
          cols.channel, cols.platform, cols.filename, cols.filetype, cols.status, cols.created, cols.yanked, cols.critical, cols.rollout],
      );
      await db.query(
        `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key)
         SELECT $1::uuid, r.id, r.filename, r.filetype, 1024, 'application/octet-stream', repeat('a', 64), repeat('b', 128), 'UPLOADED', $1::text || '/' || r.id || '/bench'
           FROM releases r WHERE r.product_id = $2 AND r.status <> 'NOT_PUBLISHED'`,
        [account.id, product.id],
      );
      await db.query(
        `INSERT INTO release_constraints (account_id, release_id, entitlement_id) SELECT $1, u.r, u.e FROM unnest($2::uuid[], $3::uuid[]) AS u(r, e)`,
        [account.id, constraints.release, constraints.entitlement],
      );
    }
    const licenses = [];
    const customerProducts = products.filter((p) => p.strategy !== 'CLOSED');
    for (let l = 0; l < LICENSES_PER_ACCOUNT; l++) {
      const product = pick(customerProducts, l);
      const key = `BENCH-${randomBytes(12).toString('hex').toUpperCase()}`;
      const expired = l % 10 === 3;
      const rows = await db.query(
        `INSERT INTO licenses (account_id, product_id, key, expiry, expiration_strategy) VALUES ($1, $2, $3, $4, 'RESTRICT_ACCESS') RETURNING id`,
        [account.id, product.id, key, expired ? new Date(base + Math.floor(rnd() * 600) * 60_000).toISOString() : null],
      );
      const id = rows.rows[0].id;
      for (const e of entitlements) {
        if (rnd() < 0.5) await db.query(`INSERT INTO license_entitlements (account_id, license_id, entitlement_id) VALUES ($1, $2, $3)`, [account.id, id, e]);
      }
      licenses.push({ id, key, productId: product.id });
    }
    const multi = options.artifacts ? await seedMultiArtifactProduct(db, account, entitlements, base, rnd) : undefined;
    if (multi) total += MULTI_RELEASES;
    // packages need API 1.1's artifacts (and a build with packages: BENCH_PACKAGES=0 leaves them out)
    if (multi && options.packages !== false) {
      total += await seedPackages(db, account, multi.productId, entitlements, base);
      multi.packages = true;
    }
    world.push({ account, products, entitlements, licenses, multi });
  }
  return { world, total, perLine };
}

/** electron-updater's channel file suffix and the Tauri target of each seeded platform. */
const ELECTRON_SUFFIX = { linux: '-linux', 'linux/arm64': '-linux-arm64', darwin: '-mac', 'darwin/arm64': '-mac', windows: '' };
const TAURI_TARGET = { linux: ['linux', 'x86_64'], 'linux/arm64': ['linux', 'aarch64'], darwin: ['darwin', 'x86_64'], 'darwin/arm64': ['darwin', 'aarch64'], windows: ['windows', 'x86_64'] };

/** The requests of each route: varied licenses, products, platforms and versions. */
export function requestMix(world) {
  const rnd = random(7);
  const routes = { update: [], upgrade: [], list: [], electron: [], tauri: [] };
  if (world.some((w) => w.multi)) Object.assign(routes, { 'update 3 artifacts': [], 'upgrade 3 artifacts': [] });
  if (world.some((w) => w.multi?.packages)) Object.assign(routes, { 'pypi page': [], 'npm packument': [] });
  for (let i = 0; i < 300; i++) {
    const m = world[i % world.length].multi;
    if (m) {
      const license = pick(m.licenses, Math.floor(rnd() * m.licenses.length));
      const [os, arch] = pick(ARTIFACT_PLATFORMS, Math.floor(rnd() * ARTIFACT_PLATFORMS.length));
      const version = `${1 + Math.floor(rnd() * 21)}.${Math.floor(rnd() * 20)}.${Math.floor(rnd() * 5)}`;
      routes['update 3 artifacts'].push({ path: `/v3/releases/update?productId=${m.productId}&platform=${os}/${arch}&version=${version}&key=${license.key}`, headers: {} });
      routes['upgrade 3 artifacts'].push({
        path: `/v1/accounts/${world[i % world.length].account.slug}/releases/actions/upgrade?product=${m.productId}&platform=${os}/${arch}&version=${version}`,
        headers: { authorization: `License ${license.key}` },
      });
      if (m.packages) {
        // as pip and npm send them: Basic license:<key>, and the key as npm's Bearer _authToken
        const engines = `/v1/accounts/${world[i % world.length].account.slug}/engines`;
        routes['pypi page'].push({ path: `${engines}/pypi/simple/${BENCH_PACKAGES.pypi}/`, headers: { authorization: `Basic ${Buffer.from(`license:${license.key}`).toString('base64')}` } });
        routes['npm packument'].push({ path: `${engines}/npm/${BENCH_PACKAGES.npm}`, headers: { authorization: `Bearer ${license.key}` } });
      }
    }
    const w = world[i % world.length];
    const license = pick(w.licenses, Math.floor(rnd() * w.licenses.length));
    const platform = pick(PLATFORMS, Math.floor(rnd() * PLATFORMS.length));
    const version = `${1 + Math.floor(rnd() * 11)}.${Math.floor(rnd() * 20)}.${Math.floor(rnd() * 5)}`;
    const channel = rnd() < 0.8 ? 'stable' : 'beta';
    routes.update.push({
      path: `/v3/releases/update?productId=${license.productId}&platform=${encodeURIComponent(platform)}&channel=${channel}&version=${version}&key=${license.key}`,
      headers: {},
    });
    routes.upgrade.push({
      path: `/v1/accounts/${w.account.slug}/releases/actions/upgrade?product=${license.productId}&platform=${encodeURIComponent(platform)}&version=${version}&channel=${channel}`,
      headers: { authorization: `License ${license.key}` },
    });
    routes.list.push({ path: `/v1/accounts/${w.account.slug}/releases?product=${license.productId}&limit=10`, headers: { authorization: `License ${license.key}` } });
    // the feeds as the updaters ask: the key in the feed URL (100 of each: without the catalogue a
    // feed reads its whole product, which makes the reference answers slow to get)
    if (i >= 100) continue;
    const feeds = `/v1/accounts/${w.account.slug}/products/${license.productId}/feeds`;
    routes.electron.push({ path: `${feeds}/electron/${channel === 'stable' ? 'latest' : channel}${ELECTRON_SUFFIX[platform]}.yml?key=${license.key}`, headers: {} });
    const [os, arch] = TAURI_TARGET[platform];
    routes.tauri.push({ path: `${feeds}/tauri?target=${os}&arch=${arch}&current_version=${version}&channel=${channel}&key=${license.key}`, headers: {} });
  }
  return routes;
}

/** The headers Shipgate answered with, for the empty app to send the same (not those Node's server writes itself). */
export function cannedHeaders(headers) {
  const own = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'etag']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !own.has(name.toLowerCase())));
}

/** The express path the empty app answers a route on: the account, product and feed file as parameters. */
export function cannedPath(path) {
  return path
    .split('?')[0]
    .replace(/bench-\d+/, ':account')
    .replace(/\/products\/[0-9a-f-]{36}/, '/products/:product')
    .replace(/\/electron\/[^/]+$/, '/electron/:file');
}

/** What identifies an answer (status and which release or page), ignoring counters and signatures. */
export function fingerprint(name, status, body, headers) {
  // `update 3 artifacts` is an update check too
  const route = name.split(' ')[0];
  if (route === 'pypi') return `${status} ${status === 200 ? createHash('sha256').update(body).digest('hex') : ''}`;
  if (route === 'npm') {
    if (status !== 200) return `${status}`;
    // each server has its own origin (PUBLIC_URL): the versions, their integrity and the tags
    const j = JSON.parse(body);
    return `${status} ${JSON.stringify(j['dist-tags'])} ${Object.entries(j.versions).map(([v, m]) => `${v}:${m.dist.integrity}`).join(',')}`;
  }
  if (route === 'update') {
    if (status !== 200) return `${status}`;
    const j = JSON.parse(body);
    return `${status} ${j.id} ${j.version} ${j.critical} ${j.changelog.map((c) => c.version).join(',')}`;
  }
  // each server has its own origin (PUBLIC_URL): compare the path, which names the artifact
  const location = headers.location ?? headers.Location;
  if (route === 'upgrade') return `${status} ${location ? new URL(location).pathname : ''} ${status === 303 ? JSON.parse(body).meta.critical : ''}`;
  if (status !== 200) return `${status}`;
  if (route === 'electron') {
    const doc = loadYaml(body);
    return `${status} ${doc.version} ${doc.files.map((f) => new URL(f.url).pathname).join(',')} ${doc.critical ?? ''}`;
  }
  if (route === 'tauri') {
    const j = JSON.parse(body);
    return `${status} ${j.version} ${new URL(j.url).pathname} ${j.critical}`;
  }
  const j = JSON.parse(body);
  return `${status} ${j.meta.count} ${j.data.map((r) => r.id).join(',')}`;
}

export async function answer(base, request) {
  const res = await fetch(`${base}${request.path}`, { headers: { accept: JSONAPI, ...request.headers }, redirect: 'manual' });
  const body = await res.text();
  return { status: res.status, body, headers: Object.fromEntries(res.headers) };
}

/**
 * The right answer's fingerprint of every request (from the SQL server), and per route the shape
 * the empty app answers with: `sampleBase`'s answer to a request whose right answer is the route's
 * usual one (303 for upgrades, else 200).
 */
export async function expectedAnswers(sqlBase, sampleBase, routes) {
  const canned = {};
  const expected = {};
  for (const [route, requests] of Object.entries(routes)) {
    expected[route] = [];
    for (const request of requests) {
      const a = await answer(sqlBase, request);
      expected[route].push(fingerprint(route, a.status, a.body, a.headers));
    }
    const sample = await answer(sampleBase, requests.find((_, i) => expected[route][i].startsWith(route.startsWith('upgrade') ? '303' : '200')));
    const body = (sample.headers['content-type'] ?? '').includes('json') ? JSON.parse(sample.body) : sample.body;
    canned[route] = { path: cannedPath(requests[0].path), status: sample.status, headers: cannedHeaders(sample.headers), body };
  }
  return { expected, canned };
}

/** Compares Shipgate's answers with the SQL server's for every request; returns the mismatches. */
export async function compareAll(shipgate, sql, routes) {
  const wrong = [];
  for (const [route, requests] of Object.entries(routes)) {
    for (const request of requests) {
      const [a, b] = await Promise.all([answer(shipgate, request), answer(sql, request)]);
      const fa = fingerprint(route, a.status, a.body, a.headers);
      const fb = fingerprint(route, b.status, b.body, b.headers);
      if (fa !== fb) wrong.push(`${route} ${request.path.replace(/key=[^&]+/, 'key=…')}: ${fa.slice(0, 120)} != ${fb.slice(0, 120)}`);
    }
  }
  return wrong;
}

export async function load(base, requests, expected, route) {
  let wrong = 0;
  let checked = 0;
  let next = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest(req, context) {
          const i = next++ % requests.length;
          context.i = i;
          return { ...req, method: 'GET', path: requests[i].path, headers: { accept: JSONAPI, ...requests[i].headers } };
        },
        onResponse(status, body, context, headers) {
          if (!expected) return;
          checked++;
          if (fingerprint(route, status, body, headers) !== expected[context.i]) wrong++;
        },
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, p50: result.latency.p50, errors: result.errors + result.timeouts, wrong, checked };
}

/** The bench accounts, made through Shipgate's API (each with an admin). */
export async function createAccounts(base) {
  const accounts = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    const res = await fetch(`${base}/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': JSONAPI },
      body: JSON.stringify({
        data: { type: 'accounts', attributes: { name: `Bench ${a}`, slug: `bench-${a}` }, relationships: { admins: { data: [{ type: 'users', attributes: { email: `admin${a}@bench.test`, password: 'bench-password' } }] } } },
      }),
    });
    if (res.status !== 201) throw new Error(`creating an account: ${res.status} ${await res.text()}`);
    accounts.push({ id: (await res.json()).data.id, slug: `bench-${a}` });
  }
  return accounts;
}

/** The coherence check's changes, made directly in SQL: yanks, a suspension, a detached entitlement, new constraints, a product closed. */
export async function changeInSql(db, world) {
  const w = world[0];
  await db.query(`UPDATE releases SET status = 'YANKED', yanked = now() WHERE id IN (
    SELECT id FROM releases WHERE account_id = $1 AND status = 'PUBLISHED' ORDER BY semver_major DESC, semver_minor DESC, semver_patch DESC LIMIT 40)`, [w.account.id]);
  await db.query(`UPDATE licenses SET suspended = true WHERE id = $1`, [w.licenses[0].id]);
  await db.query(`DELETE FROM license_entitlements WHERE license_id = $1`, [w.licenses[1].id]);
  await db.query(`INSERT INTO release_constraints (account_id, release_id, entitlement_id)
    SELECT $1, id, $2 FROM releases WHERE product_id = $3 AND status = 'PUBLISHED' ORDER BY semver_major DESC, semver_minor DESC LIMIT 30
    ON CONFLICT DO NOTHING`, [w.account.id, w.entitlements[0], w.products[0].id]);
  await db.query(`UPDATE products SET distribution_strategy = 'CLOSED' WHERE id = $1`, [w.products[3].id]);
}

async function main() {
  const database = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-'));
  const cannedFile = path.join(dataDir, 'canned.json');
  const servers = [];
  try {
    console.log(`database: ${database.embedded ? 'embedded PostgreSQL' : 'PostgreSQL at 127.0.0.1:5432'}; ${RELEASES} releases; ${ROUNDS} rounds of ${SECONDS} s; ${CONNECTIONS} connections; LOG_LEVEL=${LOG_LEVEL}`);
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, ROOT_TOKEN, LOG_LEVEL: LOG_LEVEL, SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef0123', ...LIFTED_LIMITS };
    // BENCH_PROFILE_DIR: Shipgate writes a V8 CPU profile there when it stops (node --cpu-prof)
    // BENCH_NODE_ARGS: more node options for Shipgate (e.g. '--max-semi-space-size=32')
    const profile = [...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    // the request log (LOG_LEVEL=log) goes to a file, as a server's log would
    const logFile = path.join(dataDir, 'shipgate.log');
    const shipgate = await startProcess(path.join(repo, 'dist/src/main.js'), env, '/health/ready', profile, fs.openSync(logFile, 'a'));
    servers.push(shipgate);
    const db = new pg.Client({ connectionString: database.url });
    db.on('error', () => undefined); // the run's database is dropped at the end, connections and all
    await db.connect();

    const accounts = await createAccounts(shipgate.base);
    const seeded = Date.now();
    const { world, total, perLine } = await seed(db, accounts, { artifacts: process.env.BENCH_ARTIFACTS !== '0', packages: process.env.BENCH_PACKAGES !== '0' });
    await db.query('ANALYZE');
    console.log(`seeded ${total} releases (${perLine} per product line) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    const sql = await startProcess(path.join(repo, 'dist/src/main.js'), { ...env, CATALOGUE: 'false' });
    servers.push(sql);
    const routes = requestMix(world);
    const { expected, canned } = await expectedAnswers(sql.base, shipgate.base, routes);
    fs.writeFileSync(cannedFile, JSON.stringify(canned));
    const empty = await startProcess(path.join(repo, 'bench/empty-app.mjs'), { BENCH_CANNED: cannedFile });
    servers.push(empty);

    const idleRss = rssMib(shipgate.pid);
    const warm = await compareAll(shipgate.base, sql.base, routes);
    console.log(`warm-up: every request once against both servers, ${warm.length} wrong answers; Shipgate RSS ${idleRss.toFixed(0)} -> ${rssMib(shipgate.pid).toFixed(0)} MiB`);

    const figures = {};
    for (const route of Object.keys(routes)) figures[route] = { a: [], b: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [route, requests] of Object.entries(routes)) {
        if (ONLY && !ONLY.has(route)) continue;
        const order = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
        for (const who of order) {
          const r = await load(who === 'a' ? shipgate.base : empty.base, requests, who === 'a' ? expected[route] : null, route);
          figures[route][who].push(r);
        }
      }
    }

    const rows = [];
    for (const [route, { a, b }] of Object.entries(figures)) {
      if (!a.length) continue;
      const rpsA = median(a.map((r) => r.rps));
      const rpsB = median(b.map((r) => r.rps));
      const p99A = median(a.map((r) => r.p99));
      const p99B = median(b.map((r) => r.p99));
      rows.push({
        route,
        'shipgate req/s': Math.round(rpsA),
        'empty req/s': Math.round(rpsB),
        ratio: (rpsA / rpsB).toFixed(2),
        'p99 ms': p99A,
        'empty p99 ms': p99B,
        'p99 / empty p99': (p99A / p99B).toFixed(2),
        'wrong answers': a.reduce((n, r) => n + r.wrong + r.errors, 0),
        checked: a.reduce((n, r) => n + r.checked, 0),
      });
    }
    console.table(rows);
    console.log(`Shipgate RSS after the load: ${rssMib(shipgate.pid).toFixed(0)} MiB`);
    if (LOG_LEVEL === 'log') console.log(`request log: ${fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"request"')).length} lines`);

    // coherence: changes made directly in SQL reach Shipgate's answers within 2 s
    await changeInSql(db, world);
    await sleep(2000);
    const after = await compareAll(shipgate.base, sql.base, routes);
    console.log(`coherence: 2 s after changes made in SQL (yanks, a suspension, a detached entitlement, new constraints, a product closed): ${after.length} wrong answers`);
    for (const line of [...warm, ...after].slice(0, 10)) console.log(`  ${line}`);
    await db.end();
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// run when invoked (`node bench/hotpath.mjs`), not when another script imports its parts
// (BENCH_BASELINE=<checkout>: the two builds compared, bench/hotpath-ab.mjs)
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  (process.env.BENCH_BASELINE ? import('./hotpath-ab.mjs').then((ab) => ab.main()) : main()).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
