// `BENCH_BASELINE=<checkout> npm run bench`: the hot-path benchmark comparing two builds in one run,
// "before" (the built dist/ of another checkout) and "after" (this checkout's dist/), against the
// same empty route. The header of bench/hotpath.mjs describes the mode; this file is its main().
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freshDatabase, median, repo, rssMib, sleep, startProcess } from './support.mjs';
import {
  changeInSql, compareAll, CONNECTIONS, createAccounts, expectedAnswers, LIFTED_LIMITS, load,
  LOG_LEVEL, ONLY, RELEASES, requestMix, ROOT_TOKEN, ROUNDS, SECONDS, seed,
} from './hotpath.mjs';

/** The 10 % rule of a refactor: no route slower than this times the build before it. */
const FLOOR = 0.9;

/** `<dir> (<commit>[, uncommitted changes])`, to say which builds ran. */
function describe(dir) {
  try {
    const commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return `${dir} (${commit}${dirty ? ', uncommitted changes' : ''})`;
  } catch {
    return dir;
  }
}

/** The migrations a build runs (the names of its compiled migration files). */
function migrations(dir) {
  const folder = path.join(dir, 'dist/src/database/migrations');
  return fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort() : [];
}

/**
 * Copies the rows of `from` into `to` (whose schema the other build's migrations made): every table
 * of schema public that both have (the migrations table aside), the columns both have; foreign keys
 * and triggers are off during the copy (session_replication_role, which needs a superuser).
 */
async function copyRows(fromUrl, toUrl) {
  const from = new pg.Client({ connectionString: fromUrl });
  const to = new pg.Client({ connectionString: toUrl });
  await from.connect();
  await to.connect();
  try {
    const columnsOf = async (client) => {
      const { rows } = await client.query(`
        SELECT c.table_name, c.column_name FROM information_schema.columns c
          JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
         WHERE c.table_schema = 'public' AND c.is_generated = 'NEVER' AND c.table_name <> 'migrations'
         ORDER BY c.table_name, c.ordinal_position`);
      const tables = new Map();
      for (const { table_name: t, column_name: c } of rows) tables.set(t, [...(tables.get(t) ?? []), c]);
      return tables;
    };
    const source = await columnsOf(from);
    const target = await columnsOf(to);
    const tables = [...source.keys()].filter((t) => target.has(t));
    const q = (name) => `"${name.replaceAll('"', '""')}"`;
    await to.query('BEGIN');
    await to.query(`SET LOCAL session_replication_role = replica`);
    await to.query(`TRUNCATE ${tables.map(q).join(', ')} CASCADE`);
    for (const table of tables) {
      const columns = source.get(table).filter((c) => target.get(table).includes(c)).map(q).join(', ');
      // PostgreSQL's own text forms both ways (row_to_json, then json_populate_recordset): values round-trip exactly
      const { rows } = await from.query(`SELECT coalesce(json_agg(t), '[]')::text AS data FROM (SELECT ${columns} FROM ${q(table)}) t`);
      await to.query(`INSERT INTO ${q(table)} (${columns}) SELECT ${columns} FROM json_populate_recordset(null::${q(table)}, $1::json)`, [rows[0].data]);
    }
    await to.query('COMMIT');
    await to.query('ANALYZE');
    const skipped = [...target.keys()].filter((t) => !source.has(t));
    return { tables: tables.length, skipped };
  } finally {
    await from.end();
    await to.end();
  }
}

export async function main() {
  const baseline = path.resolve(process.env.BENCH_BASELINE);
  const beforeMain = path.join(baseline, 'dist/src/main.js');
  if (!fs.existsSync(beforeMain)) throw new Error(`BENCH_BASELINE: no ${beforeMain} (run \`npm ci && npm run build\` in ${baseline})`);
  if (path.resolve(baseline) === path.resolve(repo)) console.log('note: BENCH_BASELINE is this checkout: both builds are the same files');
  const forceSeparate = process.env.BENCH_BASELINE_DB === 'separate';

  const database = await freshDatabase();
  let second; // the baseline's own database, when it cannot run on the after build's schema
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-'));
  const beforeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-before-'));
  const cannedFile = path.join(dataDir, 'canned.json');
  const servers = [];
  const stopLater = (s) => (servers.push(s), s);
  try {
    console.log(`A/B: before = ${describe(baseline)}; after = ${describe(repo)}`);
    console.log(`database: ${database.embedded ? 'embedded PostgreSQL' : 'PostgreSQL at 127.0.0.1:5432'}; ${RELEASES} releases; ${ROUNDS} rounds of ${SECONDS} s; ${CONNECTIONS} connections; LOG_LEVEL=${LOG_LEVEL}`);
    const [mBefore, mAfter] = [migrations(baseline), migrations(repo)];
    const onlyAfter = mAfter.filter((m) => !mBefore.includes(m));
    const onlyBefore = mBefore.filter((m) => !mAfter.includes(m));
    console.log(
      !onlyAfter.length && !onlyBefore.length
        ? `migrations: the same ${mAfter.length} in both builds`
        : `migrations differ: only after: ${onlyAfter.join(', ') || 'none'}; only before: ${onlyBefore.join(', ') || 'none'}`,
    );

    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, ROOT_TOKEN, LOG_LEVEL, SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef0123', ...LIFTED_LIMITS };
    const beforeEnv = { ...env, DATA_DIR: beforeDir };
    const logOf = (dir) => fs.openSync(path.join(dir, 'shipgate.log'), 'a');
    // the after build first: it migrates the fresh database
    const after = stopLater(await startProcess(path.join(repo, 'dist/src/main.js'), env, '/health/ready', [], logOf(dataDir)));
    // then the before build on the same database (TypeORM runs the migrations it lacks and ignores
    // those it does not know); when it will not start on that schema, it gets a database of its own
    // (migrated by itself), filled with a copy of the seeded rows below
    let before;
    if (!forceSeparate) {
      try {
        before = stopLater(await startProcess(beforeMain, beforeEnv, '/health/ready', [], logOf(beforeDir)));
        console.log('before and after share the seeded database');
      } catch (error) {
        console.log(`the before build did not start on the after build's database (${error.message}): it gets a copy of its own`);
      }
    }
    if (!before) {
      second = await freshDatabase();
      beforeEnv.DATABASE_URL = second.url;
      const migrating = await startProcess(beforeMain, beforeEnv, '/health/ready', [], logOf(beforeDir));
      await migrating.stop();
    }

    const db = new pg.Client({ connectionString: database.url });
    db.on('error', () => undefined); // the run's database is dropped at the end, connections and all
    await db.connect();
    const accounts = await createAccounts(after.base);
    const seeded = Date.now();
    const { world, total, perLine } = await seed(db, accounts);
    await db.query('ANALYZE');
    console.log(`seeded ${total} releases (${perLine} per product line) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    let db2;
    if (second) {
      const copied = Date.now();
      const { tables, skipped } = await copyRows(database.url, second.url);
      console.log(`copied ${tables} tables into the before build's database in ${((Date.now() - copied) / 1000).toFixed(1)} s${skipped.length ? ` (only before has: ${skipped.join(', ')})` : ''}`);
      before = stopLater(await startProcess(beforeMain, beforeEnv, '/health/ready', [], logOf(beforeDir)));
      db2 = new pg.Client({ connectionString: second.url });
      db2.on('error', () => undefined);
      await db2.connect();
    }

    // the right answers: the after build without its catalogue (the SQL path), on the seeded database
    const sql = stopLater(await startProcess(path.join(repo, 'dist/src/main.js'), { ...env, CATALOGUE: 'false' }));
    const routes = requestMix(world);
    // the empty app answers with the shape of the after build's answers
    const { expected, canned } = await expectedAnswers(sql.base, after.base, routes);
    fs.writeFileSync(cannedFile, JSON.stringify(canned));
    const empty = stopLater(await startProcess(path.join(repo, 'bench/empty-app.mjs'), { BENCH_CANNED: cannedFile }));

    const builds = { before, after };
    const idle = { before: rssMib(before.pid), after: rssMib(after.pid) };
    const warm = {};
    for (const [name, server] of Object.entries(builds)) warm[name] = await compareAll(server.base, sql.base, routes);
    console.log(
      `warm-up: every request once against each build and the SQL server: wrong answers before ${warm.before.length}, after ${warm.after.length}; ` +
        `RSS before ${idle.before.toFixed(0)} -> ${rssMib(before.pid).toFixed(0)} MiB, after ${idle.after.toFixed(0)} -> ${rssMib(after.pid).toFixed(0)} MiB`,
    );

    // per route and round: the empty app, before and after in turn, the order changing every round:
    // before and after swap every round (so that any two rounds start once with each), the empty
    // app moves one place (six rounds go through the six orders)
    const servers3 = { empty, before, after };
    const figures = {};
    for (const route of Object.keys(routes)) figures[route] = { empty: [], before: [], after: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      order.splice(round % 3, 0, 'empty');
      for (const [route, requests] of Object.entries(routes)) {
        if (ONLY && !ONLY.has(route)) continue;
        for (const who of order) figures[route][who].push(await load(servers3[who].base, requests, who === 'empty' ? null : expected[route], route));
      }
      console.log(`round ${round + 1}/${ROUNDS} done (order ${order.join(', ')})`);
    }

    const rows = [];
    let slowest;
    for (const [route, f] of Object.entries(figures)) {
      if (!f.after.length) continue;
      const rps = Object.fromEntries(Object.entries(f).map(([who, runs]) => [who, median(runs.map((r) => r.rps))]));
      const p99 = Object.fromEntries(Object.entries(f).map(([who, runs]) => [who, median(runs.map((r) => r.p99))]));
      const wrong = (runs) => runs.reduce((n, r) => n + r.wrong + r.errors, 0);
      const ratio = rps.after / rps.before;
      if (!slowest || ratio < slowest.ratio) slowest = { route, ratio };
      rows.push({
        route,
        'empty req/s': Math.round(rps.empty),
        'before req/s': Math.round(rps.before),
        'after req/s': Math.round(rps.after),
        'after / before': ratio.toFixed(2),
        'before / empty': (rps.before / rps.empty).toFixed(2),
        'after / empty': (rps.after / rps.empty).toFixed(2),
        'empty p99 ms': p99.empty,
        'before p99 / empty': (p99.before / p99.empty).toFixed(2),
        'after p99 / empty': (p99.after / p99.empty).toFixed(2),
        'wrong before': wrong(f.before),
        'wrong after': wrong(f.after),
        'checked before / after': `${f.before.reduce((n, r) => n + r.checked, 0)} / ${f.after.reduce((n, r) => n + r.checked, 0)}`,
      });
    }
    console.table(rows);
    console.log(`RSS after the load: before ${rssMib(before.pid).toFixed(0)} MiB, after ${rssMib(after.pid).toFixed(0)} MiB`);
    if (slowest) {
      console.log(`slowest route: ${slowest.route} at ${slowest.ratio.toFixed(2)} x before (${slowest.ratio >= FLOOR ? 'within' : 'OUTSIDE'} the 10 % rule: every route at least ${FLOOR.toFixed(2)} x before)`);
    }

    // coherence: changes made directly in SQL (on each database) reach both builds within 2 s
    await changeInSql(db, world);
    if (db2) await changeInSql(db2, world);
    await sleep(2000);
    const later = {};
    for (const [name, server] of Object.entries(builds)) later[name] = await compareAll(server.base, sql.base, routes);
    console.log(`coherence: 2 s after changes made in SQL (yanks, a suspension, a detached entitlement, new constraints, a product closed): wrong answers before ${later.before.length}, after ${later.after.length}`);
    for (const name of ['before', 'after']) for (const line of [...warm[name], ...later[name]].slice(0, 5)) console.log(`  ${name}: ${line}`);
    await db.end();
    if (db2) await db2.end();
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await database.drop();
    if (second) await second.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(beforeDir, { recursive: true, force: true });
  }
}
