import { createRequire } from 'node:module';
const pg = (await import('pg')).default;
import { randomUUID } from 'node:crypto';
const require = createRequire('/work/main/package.json');
process.chdir('/work/main');
const { freshDatabase } = await import('/work/main/bench/support.mjs');
const { createApp } = require('/work/main/dist/src/app.factory.js');
const { loadConfig } = require('/work/main/dist/src/config/config.js');
const { CatalogueService } = require('/work/main/dist/src/catalogue/catalogue.service.js');
const { semverColumns, parseStrictVersion } = require('/work/main/dist/src/releases/semver.js');
const N = Number(process.env.N ?? 20000);
const db = await freshDatabase();
const config = loadConfig({ DATABASE_URL: db.url, DATA_DIR: '/tmp/heap/data', ROOT_TOKEN: 'x'.repeat(32), LOG_LEVEL: 'error', SIGNING_SECRET: 's'.repeat(40) });
const app = await createApp(config, {});
await app.init();
const c = new pg.Client({ connectionString: db.url }); await c.connect();
const acc = (await c.query(`INSERT INTO accounts (name, slug) VALUES ('a','a') RETURNING id`)).rows[0].id;
const prod = (await c.query(`INSERT INTO products (account_id, name, distribution_strategy) VALUES ($1,'p','LICENSED') RETURNING id`, [acc])).rows[0].id;
const cols = { id: [], version: [], major: [], minor: [], patch: [], filename: [] };
for (let i = 0; i < N; i++) { const v = `1.${Math.floor(i/1000)}.${i%1000}`; const s = semverColumns(parseStrictVersion(v)); cols.id.push(randomUUID()); cols.version.push(v); cols.major.push(s.semverMajor); cols.minor.push(s.semverMinor); cols.patch.push(s.semverPatch); cols.filename.push(`app-${v}.tar.gz`); }
await c.query(`INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key, channel, platform, filename, filetype, status, filesize)
 SELECT u.id, $1, $2, u.version, u.major, u.minor, u.patch, true, '{}', 'stable', 'linux', u.filename, 'tar.gz', 'PUBLISHED', 1024 FROM unnest($3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[]) AS u(id, version, major, minor, patch, filename)`, [acc, prod, cols.id, cols.version, cols.major, cols.minor, cols.patch, cols.filename]);
await c.query(`INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, sha256, sha512, status, storage_key)
 SELECT $1::uuid, r.id, r.filename, r.filetype, 1024, 'application/octet-stream', md5(r.id::text)||md5(r.id::text), md5(r.id::text)||md5(r.id::text)||md5(r.id::text)||md5(r.id::text), 'UPLOADED', $1::text || '/' || r.id || '/' || md5(r.id::text) FROM releases r WHERE r.product_id = $2`, [acc, prod]);
const cat = app.get(CatalogueService);
await new Promise(r => setTimeout(r, 500));
global.gc(); global.gc();
const before = process.memoryUsage().heapUsed;
const p = await cat.productReleases(acc, prod);
global.gc(); global.gc();
const after = process.memoryUsage().heapUsed;
console.log(`N=${N} held=${p.byId.size} heap per release: ${((after-before)/N).toFixed(0)} bytes; estimate per release ${(p.bytes/N).toFixed(0)}`);
if (process.env.SNAP) { const v8 = await import('node:v8'); console.log(v8.writeHeapSnapshot('/tmp/heap/snap.heapsnapshot')); }
await c.end(); await app.close(); await db.drop();
