// Sign-in flood benchmark: does a flood of wrong passwords slow everybody else down, and can it
// keep a real user from signing in?
//
//   npm run bench:auth
//   BENCH_ATTACKERS=30 BENCH_SAMPLES=400 BENCH_SIGNIN_SAMPLES=200 PASSWORD_HASH_COST=10 npm run bench:auth
//   BENCH_ONLY=other npm run bench:auth         (only part 1)
//   BENCH_ONLY=signin npm run bench:auth        (only part 2)
//
// Part 1, other routes: starts Shipgate (dist/src/main.js) on a fresh database with the configured
// bcrypt cost and the rate limits lifted (so that every wrong password reaches the hash pool: this
// measures the hashing, not the limiter), then measures another client's latency on GET /health
// and an admin's GET /products, alone and again while BENCH_ATTACKERS concurrent clients send
// POST /tokens with wrong passwords (half for a known email, half for unknown ones). It runs with
// SIGNIN_FAILURE_DELAY_MS at its default, then at 0 (see part 2).
//
// Part 2, a real user's sign-in: a second server with the sign-in limits at their defaults and
// TRUST_PROXY=loopback, so that each request names its client address in X-Forwarded-For (only the
// anonymous-request limit is lifted: the real user signs in hundreds of times from one address).
// It runs twice: with SIGNIN_FAILURE_DELAY_MS at its default (failed sign-ins answer after 1 s, so
// these closed-loop attackers send 30 tries a second), and with SIGNIN_FAILURE_DELAY_MS=0 (they
// are refused at once and send thousands a second: what an attacker that does not wait for the
// answers costs).
// The real user (who signed in from 198.51.100.7 before) signs in alone, then while
// BENCH_ATTACKERS concurrent attackers send wrong passwords (half for the user's email, half for
// random ones), each attack in one of these ways:
//   - ipv6-one-64: every request from another address of one IPv6 /64;
//   - ipv4-rotating: every request from an IPv4 address never used before (a botnet: no
//     per-address limit is ever reached, every guess reaches the hash pool, most are refused there);
//   - ipv4-rotating, user on a new network: the same, the user signing in from a network where it
//     never signed in before (its checks wait with the attackers').
// Prints the real user's sign-in median and p99, unloaded -> under attack, as a ratio (the goal:
// within 2x for a returning user), and what the attackers got.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, JSONAPI, repo, sleep, startProcess } from './support.mjs';

const ATTACKERS = Number(process.env.BENCH_ATTACKERS ?? 30);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const SIGNIN_SAMPLES = Number(process.env.BENCH_SIGNIN_SAMPLES ?? 150);
const COST = process.env.PASSWORD_HASH_COST ?? '10';
const ONLY = process.env.BENCH_ONLY;
const ROOT_TOKEN = `bench-root-${randomBytes(16).toString('hex')}`;
const LIFTED = '100000000';
const EMAIL = 'admin@acme.test';
const PASSWORD = 'a-long-password';

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function timed(url, init) {
  const started = process.hrtime.bigint();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// sign-ins go through node:http with keep-alive (fetch costs the client several times the CPU,
// which here is taken from the server: the clients share its cores)
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One sign-in: its status and how long it took (ms). */
async function signIn(base, email, password, address) {
  const headers = { Authorization: basic(email, password) };
  if (address) headers['X-Forwarded-For'] = address;
  for (let attempt = 0; ; attempt++) {
    const started = process.hrtime.bigint();
    try {
      const status = await post(`${base}/v1/accounts/acme/tokens`, headers);
      return { status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch (error) {
      // a kept-alive connection the server closed (idle) just as it was reused: once more on a new one
      if (attempt > 0 || error.code !== 'ECONNRESET') throw error;
    }
  }
}

async function createAcme(base) {
  const created = await fetch(`${base}/v1/accounts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ROOT_TOKEN}`, 'Content-Type': JSONAPI },
    body: JSON.stringify({
      data: { type: 'accounts', attributes: { name: 'Acme', slug: 'acme' }, relationships: { admins: { data: [{ type: 'users', attributes: { email: EMAIL, password: PASSWORD } }] } } },
    }),
  });
  if (created.status !== 201) throw new Error(`account: ${created.status}`);
}

/**
 * BENCH_ATTACKERS closed-loop clients sending wrong passwords, from the addresses `addressOf(n)`
 * gives the n-th request (undefined: the socket's). Returns stop(), which resolves with the count
 * of each answer status.
 */
function attack(base, addressOf) {
  let stop = false;
  let n = 0;
  const answers = {};
  const clients = Array.from({ length: ATTACKERS }, async (_, i) => {
    while (!stop) {
      const k = n++;
      const email = i % 2 === 0 ? EMAIL : `nobody-${randomBytes(4).toString('hex')}@acme.test`;
      const { status } = await signIn(base, email, `guess-${k}`, addressOf(k));
      if (status !== 401 && status !== 429 && status !== 503) throw new Error(`attacker got ${status}`);
      answers[status] = (answers[status] ?? 0) + 1;
    }
  });
  const started = Date.now();
  return async () => {
    stop = true;
    await Promise.all(clients);
    return { answers, seconds: (Date.now() - started) / 1000 };
  };
}

/** CPU seconds used so far: by the server process, by this process (the clients), by the whole machine. */
function cpuNow(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const hz = 100;
  const machine = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const { user, system } = process.cpuUsage();
  return {
    server: (Number(stat[11]) + Number(stat[12])) / hz,
    bench: (user + system) / 1e6,
    machine: (machine.reduce((a, b) => a + b, 0) - machine[3] - machine[4]) / hz,
    at: Date.now(),
  };
}

/** What share of a core each used between two cpuNow() readings. */
function describeCpu(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const share = (key) => `${((after[key] - before[key]) / seconds).toFixed(2)}`;
  return `cores busy: server ${share('server')}, bench clients ${share('bench')}, whole machine ${share('machine')} of ${os.cpus().length}`;
}

function describeAnswers({ answers, seconds }) {
  const total = Object.values(answers).reduce((a, b) => a + b, 0);
  const parts = Object.entries(answers).map(([status, count]) => `${status}: ${count}`);
  return `${total} attempts (${(total / seconds).toFixed(0)}/s; ${parts.join(', ')})`;
}

async function startServer(env) {
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
      ...env,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    base: server.base,
    pid: server.pid,
    async stop() {
      await server.stop();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Part 1: other clients' latency while wrong passwords flood the hash pool (limits lifted). */
async function otherRoutes(failureDelay) {
  const server = await startServer({
    RATE_LIMIT_ANONYMOUS_PER_MIN: LIFTED,
    RATE_LIMIT_FAILED_AUTH_PER_15MIN: LIFTED,
    RATE_LIMIT_SIGNIN_PER_15MIN: LIFTED,
    RATE_LIMIT_CREDENTIAL_PER_MIN: LIFTED,
    ...(failureDelay === undefined ? {} : { SIGNIN_FAILURE_DELAY_MS: failureDelay }),
  });
  try {
    const { base } = server;
    await createAcme(base);
    const tokenRes = await fetch(`${base}/v1/accounts/acme/tokens`, { method: 'POST', headers: { Authorization: basic(EMAIL, PASSWORD) } });
    const token = (await tokenRes.json()).data.attributes.token;
    const sample = async () => {
      const health = [];
      const products = [];
      for (let i = 0; i < SAMPLES; i++) {
        health.push(await timed(`${base}/health`));
        products.push(await timed(`${base}/v1/accounts/acme/products`, { headers: { Authorization: `Bearer ${token}`, Accept: JSONAPI } }));
      }
      return { health, products };
    };

    // one sign-in alone: about what one hash costs at this cost (a failed one would wait for the failure delay)
    const single = [];
    for (let i = 0; i < 5; i++) single.push((await signIn(base, EMAIL, PASSWORD)).ms);

    await sample(); // warm up
    const unloaded = await sample();
    const stop = attack(base, () => undefined);
    await sleep(500);
    const loaded = await sample();
    const flood = await stop();

    const row = (name, a, b) => {
      const [p50a, p50b] = [percentile(a, 50), percentile(b, 50)];
      console.log(
        `  ${name.padEnd(16)} p50 ${p50a.toFixed(2).padStart(7)} ms -> ${p50b.toFixed(2).padStart(7)} ms (x${(p50b / p50a).toFixed(2)})   ` +
          `p95 ${percentile(a, 95).toFixed(2).padStart(7)} ms -> ${percentile(b, 95).toFixed(2).padStart(7)} ms`,
      );
      return p50b / p50a;
    };
    console.log(`bcrypt cost ${COST}; one sign-in alone: median ${percentile(single, 50).toFixed(1)} ms; ${os.cpus().length} CPUs`);
    const delay = failureDelay === undefined ? 'SIGNIN_FAILURE_DELAY_MS at its default (1000)' : `SIGNIN_FAILURE_DELAY_MS=${failureDelay}`;
    console.log(`part 1, limits lifted, ${delay}: ${ATTACKERS} attackers from one address, ${describeAnswers(flood)}`);
    console.log('  another client, unloaded -> under attack:');
    const ratios = [row('GET /health', unloaded.health, loaded.health), row('GET /products', unloaded.products, loaded.products)];
    console.log(ratios.every((r) => r <= 2) ? '  p50 within 2x: yes' : '  p50 within 2x: NO');
  } finally {
    await server.stop();
  }
}

/** n -> an address: one /64 of IPv6, or IPv4 addresses never used before (from 10.0.0.0/8 upwards). */
const inOne64 = (n) => `2001:db8:bad:1:${((n >> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}:0:1`;
const freshIpv4 = (n) => `${10 + ((n >> 24) & 0x3f)}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Part 2: the real user's sign-in latency, alone and under attacks that rotate addresses. */
async function realSignIn(failureDelay) {
  const server = await startServer({ TRUST_PROXY: 'loopback', RATE_LIMIT_ANONYMOUS_PER_MIN: LIFTED, ...(failureDelay === undefined ? {} : { SIGNIN_FAILURE_DELAY_MS: failureDelay }) });
  const USER_ADDRESS = '198.51.100.7';
  let newNetworks = 0;
  const newUserAddress = () => `2001:db8:${(++newNetworks).toString(16)}:1::7`;
  try {
    const { base } = server;
    await createAcme(base);
    const measure = async (address, samples = SIGNIN_SAMPLES) => {
      const ms = [];
      const failures = {};
      for (let i = 0; i < samples; i++) {
        const res = await signIn(base, EMAIL, PASSWORD, address());
        if (res.status === 201) ms.push(res.ms);
        else failures[res.status] = (failures[res.status] ?? 0) + 1;
      }
      return { ms, failures };
    };
    for (let i = 0; i < 10; i++) await signIn(base, EMAIL, PASSWORD, USER_ADDRESS); // warm up; the user's network is known from now on
    const idle = cpuNow(server.pid);
    const unloaded = await measure(() => USER_ADDRESS);
    const unloadedCpu = describeCpu(idle, cpuNow(server.pid));
    const base50 = percentile(unloaded.ms, 50);
    const delay = failureDelay === undefined ? 'SIGNIN_FAILURE_DELAY_MS at its default (1000)' : `SIGNIN_FAILURE_DELAY_MS=${failureDelay}`;
    console.log(`part 2, the real user's sign-in (${SIGNIN_SAMPLES} samples; limits at their defaults, ${delay}, TRUST_PROXY=loopback):`);
    console.log(`  unloaded: median ${base50.toFixed(1)} ms, p99 ${percentile(unloaded.ms, 99).toFixed(1)} ms (${unloadedCpu})`);
    // (fewer samples on a new network: most are refused, each after the failure delay)
    const scenarios = [
      ['ipv6-one-64', inOne64, () => USER_ADDRESS, SIGNIN_SAMPLES],
      ['ipv4-rotating', freshIpv4, () => USER_ADDRESS, SIGNIN_SAMPLES],
      ['ipv4-rotating, user on a new network', (n) => freshIpv4(n + 50_000_000), newUserAddress, Math.min(20, SIGNIN_SAMPLES)],
    ];
    let offset = 0;
    for (const [name, addressOf, userAddress, samples] of scenarios) {
      const start = offset;
      offset += 10_000_000;
      const stop = attack(base, (n) => addressOf(start + n));
      await sleep(500);
      const before = cpuNow(server.pid);
      const loaded = await measure(userAddress, samples);
      const cpu = describeCpu(before, cpuNow(server.pid));
      const flood = await stop();
      const failed = Object.entries(loaded.failures).map(([s, c]) => `${s}: ${c}`);
      const [p50, p99] = [percentile(loaded.ms, 50), percentile(loaded.ms, 99)];
      console.log(`  ${name}: ${ATTACKERS} attackers, ${describeAnswers(flood)}`);
      console.log(`    ${cpu}`);
      console.log(
        loaded.ms.length
          ? `    real sign-in: median ${p50.toFixed(1)} ms (x${(p50 / base50).toFixed(2)}), p99 ${p99.toFixed(1)} ms (x${(p99 / base50).toFixed(2)} the unloaded median); ` +
              `${loaded.ms.length}/${samples} succeeded${failed.length ? ` (refused: ${failed.join(', ')})` : ''}`
          : `    real sign-in: none of ${samples} succeeded (${failed.join(', ')})`,
      );
    }
  } finally {
    await server.stop();
  }
}

if (ONLY !== 'signin') {
  await otherRoutes(undefined);
  await otherRoutes('0');
}
if (ONLY !== 'other') {
  await realSignIn(undefined);
  await realSignIn('0');
}
