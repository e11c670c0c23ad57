// Sign-in flood benchmark: does a flood of wrong passwords slow everybody else down?
//
//   npm run bench:auth
//   BENCH_ATTACKERS=30 BENCH_SAMPLES=400 PASSWORD_HASH_COST=10 npm run bench:auth
//
// Starts Shipgate (dist/src/main.js) on a fresh database with the configured bcrypt cost and the
// rate limits lifted (so that every wrong password is really hashed: this measures the hashing,
// not the limiter), then measures another client's latency on two routes — GET /health and an
// admin's GET /products — alone, and again while BENCH_ATTACKERS concurrent clients send
// POST /tokens with wrong passwords (half for a known email, half for unknown ones).
// Prints p50/p95 for both phases and the ratio loaded/unloaded (the goal: p50 within 2x).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, JSONAPI, repo, sleep, startProcess } from './support.mjs';

const ATTACKERS = Number(process.env.BENCH_ATTACKERS ?? 30);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const COST = process.env.PASSWORD_HASH_COST ?? '10';
const ROOT_TOKEN = `bench-root-${randomBytes(16).toString('hex')}`;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(url, init) {
  const started = process.hrtime.bigint();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function sample(base, token) {
  const health = [];
  const products = [];
  for (let i = 0; i < SAMPLES; i++) {
    health.push(await timed(`${base}/health`));
    products.push(await timed(`${base}/v1/accounts/acme/products`, { headers: { Authorization: `Bearer ${token}`, Accept: JSONAPI } }));
  }
  return { health, products };
}

const database = await freshDatabase();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-auth-'));
let server;
try {
  server = await startProcess(path.join(repo, 'dist/src/main.js'), {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ROOT_TOKEN,
    LOG_LEVEL: 'warn',
    PASSWORD_HASH_COST: COST,
    RATE_LIMIT_ANONYMOUS_PER_MIN: '100000000',
    RATE_LIMIT_FAILED_AUTH_PER_15MIN: '100000000',
    RATE_LIMIT_SIGNIN_PER_15MIN: '100000000',
    RATE_LIMIT_CREDENTIAL_PER_MIN: '100000000',
  });
  const { base } = server;
  const created = await fetch(`${base}/v1/accounts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ROOT_TOKEN}`, 'Content-Type': JSONAPI },
    body: JSON.stringify({
      data: { type: 'accounts', attributes: { name: 'Acme', slug: 'acme' }, relationships: { admins: { data: [{ type: 'users', attributes: { email: 'admin@acme.test', password: 'a-long-password' } }] } } },
    }),
  });
  if (created.status !== 201) throw new Error(`account: ${created.status}`);
  const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const tokenRes = await fetch(`${base}/v1/accounts/acme/tokens`, { method: 'POST', headers: { Authorization: basic('admin@acme.test', 'a-long-password') } });
  const token = (await tokenRes.json()).data.attributes.token;

  // one wrong password alone: what one hash costs at this cost
  const single = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    await (await fetch(`${base}/v1/accounts/acme/tokens`, { method: 'POST', headers: { Authorization: basic('admin@acme.test', 'wrong') } })).arrayBuffer();
    single.push(Number(process.hrtime.bigint() - started) / 1e6);
  }

  await sample(base, token); // warm up
  const unloaded = await sample(base, token);

  let stop = false;
  let attempts = 0;
  const attackers = Array.from({ length: ATTACKERS }, async (_, i) => {
    const email = i % 2 === 0 ? 'admin@acme.test' : `nobody-${i}@acme.test`;
    while (!stop) {
      const res = await fetch(`${base}/v1/accounts/acme/tokens`, { method: 'POST', headers: { Authorization: basic(email, `guess-${attempts}`) } });
      await res.arrayBuffer();
      if (res.status !== 401) throw new Error(`attacker got ${res.status}`);
      attempts++;
    }
  });
  await sleep(500);
  const attackStarted = Date.now();
  const loaded = await sample(base, token);
  const attackSeconds = (Date.now() - attackStarted) / 1000;
  stop = true;
  await Promise.all(attackers);

  const row = (name, a, b) => {
    const [p50a, p50b] = [percentile(a, 50), percentile(b, 50)];
    console.log(
      `${name.padEnd(16)} p50 ${p50a.toFixed(2).padStart(7)} ms -> ${p50b.toFixed(2).padStart(7)} ms (x${(p50b / p50a).toFixed(2)})   ` +
        `p95 ${percentile(a, 95).toFixed(2).padStart(7)} ms -> ${percentile(b, 95).toFixed(2).padStart(7)} ms`,
    );
    return p50b / p50a;
  };
  console.log(`bcrypt cost ${COST}; one wrong sign-in alone: median ${percentile(single, 50).toFixed(1)} ms; ${os.cpus().length} CPUs`);
  console.log(`${ATTACKERS} attackers sent ${attempts} wrong passwords (${(attempts / attackSeconds).toFixed(0)}/s) while ${SAMPLES} samples per route were taken`);
  console.log('another client, unloaded -> under attack:');
  const ratios = [row('GET /health', unloaded.health, loaded.health), row('GET /products', unloaded.products, loaded.products)];
  console.log(ratios.every((r) => r <= 2) ? 'p50 within 2x: yes' : 'p50 within 2x: NO');
} finally {
  if (server) await server.stop();
  await database.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
