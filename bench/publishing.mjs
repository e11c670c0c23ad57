// Reads while a vendor publishes: the update check of a large product under load, in quiet rounds
// and in rounds during which a vendor publishes a new release of that product (create + a small
// upload) every BENCH_PUBLISH_MS; how long each publish takes there, and in a product of 100
// releases; whether every published release is offered by the very next check (stale answers);
// and the server's RSS with every product loaded that the seeded customers read (not the CLOSED
// ones: no seeded license is of one).
//
//   npm run bench:publishing
//   BENCH_RELEASES=62000 BENCH_BIG=38000 BENCH_SECONDS=5 BENCH_ROUNDS=5 npm run bench:publishing
//   BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench:publishing   (node options for the server)
//
// 1. A fresh database seeded as `npm run bench` seeds it (BENCH_RELEASES over 20 products), plus
//    one product of BENCH_BIG releases on one platform (the product under test).
// 2. Shipgate (dist/src/main.js) with the rate limits lifted; one request per product loads the
//    whole catalogue; RSS is read then (and per 100,000 releases).
// 3. Rounds alternate quiet and publishing (BENCH_ROUNDS publishing rounds, each between two quiet
//    ones), BENCH_SECONDS each, under autocannon with BENCH_CONNECTIONS on `/v3/releases/update`
//    for the large product (every answer must be a 200 or 204). The throughput ratio is the median
//    over the publishing rounds of each one's req/s against the mean of the two quiet rounds around
//    it: this machine's speed drifts by a third within a minute, and a round is compared with the
//    machine as it was just before and after. The ratio of the medians (all quiet rounds against
//    all publishing rounds) is printed too. p99: the median publishing p99 against the median quiet p99.
// 4. A publish is POST /releases then PUT /releases/:id/artifact (16 bytes); right after it, one
//    update check from the previous newest version must offer the new one (else it is stale). The
//    publisher runs in a thread of its own (bench/publisher.mjs), not on autocannon's event loop.
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { offered, publish } from './publisher.mjs';
import { dist, freshDatabase, median, repo, rssMib, sleep, startProcess } from './support.mjs';

process.env.BENCH_RELEASES ??= '62000';
const { createAccounts, seed, LIFTED_LIMITS, ROOT_TOKEN } = await import('./hotpath.mjs');

const BIG = Number(process.env.BENCH_BIG ?? 38_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PUBLISH_MS = Number(process.env.BENCH_PUBLISH_MS ?? 500);
const PLATFORM = 'linux/amd64';
const { semverColumns, parseStrictVersion } = dist('releases/semver.js');

/** A product of `count` releases on PLATFORM, versions 1.0.0 upwards, each with an uploaded artifact. */
async function seedProduct(db, accountId, name, count) {
  const product = (await db.query(`INSERT INTO products (account_id, name, code, distribution_strategy) VALUES ($1, $2, $3, 'LICENSED') RETURNING id`, [accountId, name, name])).rows[0].id;
  const base = Date.UTC(2024, 0, 1);
  for (let from = 0; from < count; from += 5000) {
    const cols = { id: [], version: [], major: [], minor: [], patch: [], filename: [], created: [] };
    for (let i = from; i < Math.min(count, from + 5000); i++) {
      const version = `1.${Math.floor(i / 1000)}.${i % 1000}`;
      const c = semverColumns(parseStrictVersion(version));
      cols.id.push(randomUUID());
      cols.version.push(version);
      cols.major.push(c.semverMajor);
      cols.minor.push(c.semverMinor);
      cols.patch.push(c.semverPatch);
      cols.filename.push(`${name}-${version}.tar.gz`);
      cols.created.push(new Date(base + i * 1000).toISOString());
    }
    await db.query(
      `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
         channel, platform, filename, filetype, status, created, updated, filesize)
       SELECT u.id, $1, $2, u.version, u.major, u.minor, u.patch, true, '{}', 'stable', $3, u.filename, 'tar.gz', 'PUBLISHED', u.created, u.created, 1024
         FROM unnest($4::uuid[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::timestamptz[]) AS u(id, version, major, minor, patch, filename, created)`,
      [accountId, product, PLATFORM, cols.id, cols.version, cols.major, cols.minor, cols.patch, cols.filename, cols.created],
    );
  }
  await db.query(
    `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key)
     SELECT $1::uuid, r.id, r.filename, r.filetype, 1024, 'application/octet-stream', repeat('a', 64), repeat('b', 128), 'UPLOADED', $1::text || '/' || r.id || '/bench'
       FROM releases r WHERE r.product_id = $2`,
    [accountId, product],
  );
  const key = `BENCH-${randomBytes(12).toString('hex').toUpperCase()}`;
  await db.query(`INSERT INTO licenses (account_id, product_id, key, expiration_strategy) VALUES ($1, $2, $3, 'RESTRICT_ACCESS')`, [accountId, product, key]);
  return { id: product, key, newest: `1.${Math.floor((count - 1) / 1000)}.${(count - 1) % 1000}` };
}

/** What the server's /metrics says of its JavaScript heap (where the RSS goes), in MiB. */
async function heapFigures(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name) => Number(text.match(new RegExp(`^${name} ([0-9.e+]+)`, 'm'))?.[1] ?? NaN) / 2 ** 20;
  return `heap used ${value('shipgate_nodejs_heap_size_used_bytes').toFixed(0)} of ${value('shipgate_nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${value('shipgate_nodejs_external_memory_bytes').toFixed(0)} MiB`;
}

/** One autocannon round of update checks; returns req/s and p99 (ms). */
async function readRound(base, product, versions) {
  let i = 0;
  let bad = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (req) => ({ ...req, method: 'GET', path: `/v3/releases/update?productId=${product.id}&platform=${encodeURIComponent(PLATFORM)}&version=${versions[i++ % versions.length]}&key=${product.key}` }),
        onResponse: (status) => {
          if (status !== 200 && status !== 204) bad++;
        },
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, bad: bad + result.errors };
}

async function main() {
  const database = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-'));
  let shipgate;
  try {
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, ROOT_TOKEN, LOG_LEVEL: 'warn', SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef0123', ...LIFTED_LIMITS };
    shipgate = await startProcess(path.join(repo, 'dist/src/main.js'), env, '/health/ready', (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), fs.openSync(path.join(dataDir, 'shipgate.log'), 'a'));
    const db = new pg.Client({ connectionString: database.url });
    db.on('error', () => undefined);
    await db.connect();
    const accounts = await createAccounts(shipgate.base);
    const tokenRes = await fetch(`${shipgate.base}/v1/accounts/${accounts[0].slug}/tokens`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('admin0@bench.test:bench-password').toString('base64')}` } });
    const token = (await tokenRes.json()).data.attributes.token;
    const seeded = Date.now();
    const { world, total } = await seed(db, accounts);
    const big = await seedProduct(db, accounts[0].id, 'big', BIG);
    const small = await seedProduct(db, accounts[0].id, 'small', 100);
    await db.query('ANALYZE');
    const releases = total + BIG + 100;
    console.log(`seeded ${releases} releases (${BIG} in the product under test) in ${((Date.now() - seeded) / 1000).toFixed(1)} s; ${ROUNDS} quiet and ${ROUNDS} publishing rounds of ${SECONDS} s, ${CONNECTIONS} connections, a publish every ${PUBLISH_MS} ms`);

    // every product loaded once: the catalogue as a server that has run a while holds it
    const idle = rssMib(shipgate.pid);
    for (const w of world) {
      for (const license of w.licenses.slice(0, 1)) {
        for (const p of w.products) await fetch(`${shipgate.base}/v1/accounts/${w.account.slug}/releases?product=${p.id}&limit=1`, { headers: { authorization: `License ${license.key}` } });
      }
    }
    for (const p of [big, small]) await offered(shipgate.base, p, '0.0.1');
    // the loads run in the background: ask again once they have had time, then read the RSS
    await sleep(5000);
    for (const p of [big, small]) await offered(shipgate.base, p, '0.0.1');
    await sleep(1000);
    const loaded = rssMib(shipgate.pid);
    // no seeded license is of a CLOSED product: nothing the loop above asks for reads its releases
    const held = Number((await db.query(`SELECT count(*) AS n FROM releases r JOIN products p ON p.id = r.product_id WHERE p.distribution_strategy <> 'CLOSED'`)).rows[0].n);
    console.log(
      `RSS: ${idle.toFixed(0)} MiB idle, ${loaded.toFixed(0)} MiB with ${held} releases loaded (the CLOSED products' ${releases - held} are not; ` +
        `${(((loaded - idle) * 100_000) / held).toFixed(0)} MiB per 100,000 releases above idle); ${await heapFigures(shipgate.base)}`,
    );

    // publish latency with no read load: at 100 releases and at BIG
    let smallNext = 0;
    let bigNext = 0;
    const smallTimes = [];
    const bigTimes = [];
    for (let i = 0; i < 10; i++) {
      smallTimes.push((await publish(shipgate.base, accounts[0].slug, token, small.id, `2.0.${smallNext++}`)).total);
      bigTimes.push((await publish(shipgate.base, accounts[0].slug, token, big.id, `2.0.${bigNext++}`)).total);
    }
    console.log(`publish (create + upload), nobody reading: median ${median(smallTimes).toFixed(0)} ms at 100 releases, ${median(bigTimes).toFixed(0)} ms at ${BIG} (${(median(bigTimes) / median(smallTimes)).toFixed(2)} x)`);

    const versions = Array.from({ length: 200 }, (_, i) => `1.${Math.floor((i * 97) % BIG / 1000)}.${(i * 97) % 1000}`);
    const quiet = [];
    const busy = [];
    const publishes = [];
    let stale = 0;
    // the vendor publishes from a thread of its own (bench/publisher.mjs): not on autocannon's event loop
    const publisher = new Worker(new URL('./publisher.mjs', import.meta.url), {
      workerData: { publisher: true, base: shipgate.base, account: accounts[0].slug, token, product: big, every: PUBLISH_MS, next: bigNext },
    });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        quiet.push(await readRound(shipgate.base, big, versions));
        publisher.postMessage('start');
        busy.push(await readRound(shipgate.base, big, versions));
        publisher.postMessage('stop');
        const [seen] = await once(publisher, 'message');
        publishes.push(...seen.publishes);
        stale += seen.stale;
      }
      // the last publishing round's other neighbour
      quiet.push(await readRound(shipgate.base, big, versions));
    } finally {
      publisher.postMessage('exit');
    }
    const publishTimes = publishes.map((p) => p.total);
    const published = publishes.length;
    const q = { rps: median(quiet.map((r) => r.rps)), p99: median(quiet.map((r) => r.p99)) };
    const b = { rps: median(busy.map((r) => r.rps)), p99: median(busy.map((r) => r.p99)) };
    // each publishing round against the quiet rounds just before and after it
    const paired = busy.map((r, i) => r.rps / ((quiet[i].rps + quiet[i + 1].rps) / 2));
    for (let i = 0; i < ROUNDS; i++) {
      console.log(`round ${i + 1}: quiet ${quiet[i].rps.toFixed(0)} req/s p99 ${quiet[i].p99} ms | publishing ${busy[i].rps.toFixed(0)} req/s p99 ${busy[i].p99} ms (${paired[i].toFixed(2)} x the quiet rounds around it)`);
    }
    console.log(`round ${ROUNDS + 1}: quiet ${quiet[ROUNDS].rps.toFixed(0)} req/s p99 ${quiet[ROUNDS].p99} ms`);
    console.log(
      `update check while publishing: ${median(paired).toFixed(2)} x quiet throughput (median of the publishing rounds against their neighbours; ratio of the medians ${(b.rps / q.rps).toFixed(2)} x), ` +
        `p99 ${(b.p99 / q.p99).toFixed(2)} x quiet p99 (${b.p99} vs ${q.p99} ms)`,
    );
    console.log(`publishes during reads: ${published}, median ${median(publishTimes).toFixed(0)} ms (create ${median(publishes.map((p) => p.create)).toFixed(0)}, upload ${median(publishes.map((p) => p.upload)).toFixed(0)}), max ${Math.max(...publishTimes).toFixed(0)} ms; stale answers right after a publish: ${stale}`);
    console.log(`wrong statuses under load: ${[...quiet, ...busy].reduce((n, r) => n + r.bad, 0)}`);
    await db.end();
  } finally {
    await shipgate?.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
