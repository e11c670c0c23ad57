// Upload memory benchmark: does the server stream artifact uploads, or buffer them?
//
//   npm run bench:upload                        (builds, then runs this script)
//   BENCH_UPLOAD_MIB=256 npm run bench:upload   (size of the generated upload, default 1024 MiB)
//
// Starts the built server (dist/src/main.js) as a child process, with DATABASE_URL from the
// environment or, without it, the server's embedded PostgreSQL under a temporary DATA_DIR. Creates
// an account, product and release over HTTP, measures the server's idle RSS, then uploads a
// generated stream (never a file on disk) while sampling /proc/<pid>/status VmRSS every 50 ms.
// Prints baseline RSS, peak RSS during the upload, peak/baseline and the upload throughput.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const MIB = 1024 * 1024;
const sizeMib = Number(process.env.BENCH_UPLOAD_MIB ?? 1024);
if (!Number.isInteger(sizeMib) || sizeMib < 1) {
  console.error('BENCH_UPLOAD_MIB must be a positive integer');
  process.exit(2);
}
const SIZE = sizeMib * MIB;
const ROOT_TOKEN = `bench-root-${randomBytes(16).toString('hex')}`;
const JSONAPI = 'application/vnd.api+json';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// the server's own helper (the bench runs after `npm run build`)
const { freeLoopbackPort } = createRequire(import.meta.url)(path.join(repo, 'dist/src/database/embedded-postgres.js'));


const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
}

const mib = (kib) => (kib / 1024).toFixed(1);

async function main() {
  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-'));
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, ROOT_TOKEN, PUBLIC_URL: base, LOG_LEVEL: 'warn', STORAGE_DRIVER: 'local' };
  const server = spawn(process.execPath, [path.join(repo, 'dist/src/main.js')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = false;
  server.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      server.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) server.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    console.log(`database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}; storage: local (${dataDir})`);
    const started = Date.now();
    for (;;) {
      if (exited) throw new Error('the server exited during start');
      if (Date.now() - started > 120_000) throw new Error('the server did not become ready in 120 s');
      const ok = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(200);
    }

    const call = async (method, url, body, headers = {}) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { 'Content-Type': JSONAPI, Accept: JSONAPI, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const slug = `bench-${randomUUID().slice(0, 8)}`;
    const email = `admin@${slug}.test`;
    const password = 'bench-password-1';
    const account = await call('POST', '/v1/accounts', {
      data: { type: 'accounts', attributes: { name: 'Bench', slug }, relationships: { admins: { data: [{ type: 'users', attributes: { email, password } }] } } },
    }, { Authorization: `Bearer ${ROOT_TOKEN}` });
    const accountId = account.data.id;
    const basic = `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
    const token = (await call('POST', `/v1/accounts/${accountId}/tokens`, undefined, { Authorization: basic })).data.attributes.token;
    const auth = { Authorization: `Bearer ${token}` };
    const product = await call('POST', `/v1/accounts/${accountId}/products`, { data: { type: 'products', attributes: { name: 'Bench product' } } }, auth);
    const release = await call('POST', `/v1/accounts/${accountId}/releases`, {
      data: {
        type: 'releases',
        attributes: { version: '1.0.0', channel: 'stable', platform: 'linux/amd64', filename: 'bench-1.0.0.tar.gz', filetype: 'tar.gz' },
        relationships: { product: { data: { type: 'products', id: product.data.id } } },
      },
    }, auth);

    // baseline: the idle server after the setup requests, in this same run
    await sleep(1000);
    const idle = [];
    for (let i = 0; i < 20; i++) {
      idle.push(rssKiB(server.pid));
      await sleep(50);
    }
    const baseline = Math.max(...idle);

    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssKiB(server.pid));
      } catch {
        /* the process is gone */
      }
    }, 50);

    // the body: one random MiB sent over and over (generated here, never read from disk)
    const chunk = randomBytes(MIB);
    const t0 = process.hrtime.bigint();
    const response = await new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/v1/accounts/${accountId}/releases/${release.data.id}/artifact`,
          headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(SIZE) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode, text }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < SIZE) {
          const n = Math.min(MIB, SIZE - sent);
          sent += n;
          if (!req.write(n === MIB ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(sampler);
    peak = Math.max(peak, rssKiB(server.pid));

    if (response.status !== 200) throw new Error(`upload failed: ${response.status} ${response.text}`);
    const artifact = JSON.parse(response.text).data.attributes;
    if (artifact.filesize !== SIZE) throw new Error(`the server stored ${artifact.filesize} bytes, expected ${SIZE}`);

    console.log(`upload size:        ${sizeMib} MiB (sha256 ${artifact.sha256.slice(0, 16)}...)`);
    console.log(`baseline RSS (idle): ${mib(baseline)} MiB`);
    console.log(`peak RSS (upload):   ${mib(peak)} MiB`);
    console.log(`peak / baseline:     ${(peak / baseline).toFixed(2)}`);
    console.log(`throughput:          ${(sizeMib / seconds).toFixed(1)} MiB/s (${seconds.toFixed(2)} s, hashing sha256 + sha512 and fsync included)`);
  } finally {
    await stop();
  }
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
