import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { docBlocks, runShell } from '../support/shell-docs';

/**
 * docs/operations.md's backup and restore, as written: a server with releases and files is backed
 * up with the page's commands, its data is lost, and the page's restore into a fresh DATA_DIR (and,
 * with an external PostgreSQL, a fresh database) gives a server that lists every release and serves
 * every file with its bytes.
 */

const MAIN = path.resolve('dist/src/main.js');
const ROOT_TOKEN = 'backup-root-token-0123456789';
const PASSWORD = 'backup-admin-password';
const JSONAPI = 'application/vnd.api+json';

/** The page's block whose skip reason starts with `name` (backup-embedded, restore-external, ...). */
function block(name: string): string {
  const found = docBlocks('docs/operations.md').filter((b) => b.marker?.kind === 'skip' && b.marker.reason.startsWith(`${name};`));
  expect(found).toHaveLength(1);
  return found[0].code;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function ready(base: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health/ready`)).status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not become ready:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Seeded {
  releases: Record<string, string>; // version -> sha256 of its file
}

/** An account, a product, a license, and three releases with files, over HTTP. */
async function seed(base: string): Promise<Seeded> {
  const call = async (method: string, url: string, auth: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: auth, ...(raw ? { 'Content-Type': 'application/octet-stream' } : { 'Content-Type': JSONAPI }) },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    expect({ url, status: res.status < 300 }).toEqual({ url, status: true });
    return (await res.json()) as { data: { id: string; attributes: Record<string, unknown> } };
  };
  await call('POST', '/v1/accounts', `Bearer ${ROOT_TOKEN}`, {
    data: { type: 'accounts', attributes: { name: 'Kept', slug: 'kept' }, relationships: { admins: { data: [{ type: 'users', attributes: { email: 'admin@kept.test', password: PASSWORD } }] } } },
  });
  const token = String((await call('POST', '/v1/accounts/kept/tokens', `Basic ${Buffer.from(`admin@kept.test:${PASSWORD}`).toString('base64')}`)).data.attributes.token);
  const admin = `Bearer ${token}`;
  const product = (await call('POST', '/v1/accounts/kept/products', admin, { data: { type: 'products', attributes: { name: 'Kept App', code: 'kept-app' } } })).data.id;
  await call('POST', '/v1/accounts/kept/licenses', admin, { data: { type: 'licenses', relationships: { product: { data: { type: 'products', id: product } } } } });
  const releases: Record<string, string> = {};
  for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
    const bytes = randomBytes(64 * 1024 + Number(version[0]));
    const release = await call('POST', '/v1/accounts/kept/releases', admin, {
      data: {
        type: 'releases',
        attributes: { version, channel: 'stable', platform: 'linux/amd64', filename: `kept-${version}.tar.gz`, filetype: 'tar.gz' },
        relationships: { product: { data: { type: 'products', id: product } } },
      },
    });
    await call('PUT', `/v1/accounts/kept/releases/${release.data.id}/artifact`, admin, undefined, bytes);
    releases[version] = createHash('sha256').update(bytes).digest('hex');
  }
  return { releases };
}

/** What the restored server has: every release listed and published, and each file with its bytes. */
async function expectRestored(base: string, seeded: Seeded): Promise<void> {
  const signIn = await fetch(`${base}/v1/accounts/kept/tokens`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`admin@kept.test:${PASSWORD}`).toString('base64')}` } });
  expect(signIn.status).toBe(201);
  const admin = `Bearer ${((await signIn.json()) as { data: { attributes: { token: string } } }).data.attributes.token}`;
  const list = (await (await fetch(`${base}/v1/accounts/kept/releases?page[size]=100`, { headers: { Authorization: admin } })).json()) as {
    data: { id: string; attributes: { version: string; status: string } }[];
  };
  expect(Object.fromEntries(list.data.map((r) => [r.attributes.version, r.attributes.status]))).toEqual({ '1.0.0': 'PUBLISHED', '1.1.0': 'PUBLISHED', '2.0.0': 'PUBLISHED' });
  for (const release of list.data) {
    const redirect = await fetch(`${base}/v1/accounts/kept/releases/${release.id}/artifact`, { headers: { Authorization: admin }, redirect: 'manual' });
    expect(redirect.status).toBe(303);
    const file = await fetch(redirect.headers.get('location')!.replace(/^https?:\/\/[^/]+/, base));
    expect(file.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await file.arrayBuffer())).digest('hex')).toBe(seeded.releases[release.attributes.version]);
  }
}

describe('docs/operations.md: backup and restore', () => {
  it('with the embedded database: the archive of a stopped server restores into a fresh DATA_DIR', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-backup-'));
    let run: Awaited<ReturnType<typeof runShell>> | undefined;
    try {
      // the server as `npm start` runs it in the checkout: DATA_DIR ./.data, embedded PostgreSQL
      const port = await freeLoopbackPort();
      let output = '';
      const server = spawn(process.execPath, [MAIN], { cwd: workDir, env: { PATH: process.env.PATH ?? '', HOME: workDir, PORT: String(port), ROOT_TOKEN, PASSWORD_HASH_COST: '4', LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
      server.stdout!.on('data', (d) => (output += d));
      server.stderr!.on('data', (d) => (output += d));
      await ready(`http://127.0.0.1:${port}`, () => output);
      const seeded = await seed(`http://127.0.0.1:${port}`);
      server.kill('SIGTERM');
      expect(await exited(server)).toBe(0);

      const backup = await runShell([block('backup-embedded')], { cwd: workDir, env: { PORT: String(port) }, timeoutMs: 60_000 });
      expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: '' });
      fs.rmSync(path.join(workDir, '.data'), { recursive: true, force: true }); // the data is lost

      run = await runShell([block('restore-embedded')], { cwd: workDir, env: { PORT: String(port), ROOT_TOKEN, LOG_FORMAT: 'json' }, timeoutMs: 90_000 });
      expect({ code: run.code, stderr: run.stderr, server: run.serverLog() }).toEqual({ code: 0, stderr: '', server: run.serverLog() });
      expect(fs.existsSync(path.join(workDir, 'restored', 'postgres', 'PG_VERSION'))).toBe(true);
      await expectRestored(`http://127.0.0.1:${port}`, seeded);
    } finally {
      await run?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }, 240_000);

  const hasPgDump = (() => {
    try {
      execFileSync('pg_dump', ['--version'], { stdio: 'ignore' });
      execFileSync('pg_restore', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  (hasPgDump ? it : it.skip)('with an external PostgreSQL: pg_dump and the files restore into a fresh database and DATA_DIR', async () => {
    const adminUrl = new URL(process.env.DATABASE_URL!);
    adminUrl.pathname = '/postgres';
    const pg = new Client({ connectionString: adminUrl.toString() });
    await pg.connect();
    const names = [`shipgate_backup_${Date.now()}`, `shipgate_restored_${Date.now()}`];
    for (const name of names) await pg.query(`CREATE DATABASE ${name}`);
    const urlOf = (name: string) => {
      const u = new URL(process.env.DATABASE_URL!);
      u.pathname = `/${name}`;
      return u.toString();
    };
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-backup-'));
    let original: Awaited<ReturnType<typeof runShell>> | undefined;
    let restored: Awaited<ReturnType<typeof runShell>> | undefined;
    try {
      const port = await freeLoopbackPort();
      const env = { PORT: String(port), DATABASE_URL: urlOf(names[0]), ROOT_TOKEN, PASSWORD_HASH_COST: '4', LOG_FORMAT: 'json' };
      // the running server (DATA_DIR ./.data), seeded; the backup is taken while it runs
      original = await runShell(['npm start > shipgate.log 2>&1 &'], { cwd: workDir, env, timeoutMs: 90_000 });
      expect(original.code).toBe(0);
      const seeded = await seed(`http://127.0.0.1:${port}`);
      const backup = await runShell([block('backup-external')], { cwd: workDir, env, timeoutMs: 60_000 });
      expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: '' });
      await original.stop();
      fs.rmSync(path.join(workDir, '.data'), { recursive: true, force: true });

      restored = await runShell([block('restore-external')], { cwd: workDir, env: { ...env, DATABASE_URL: '', RESTORE_URL: urlOf(names[1]) }, timeoutMs: 90_000 });
      expect({ code: restored.code, stderr: restored.stderr, server: restored.serverLog() }).toEqual({ code: 0, stderr: '', server: restored.serverLog() });
      await expectRestored(`http://127.0.0.1:${port}`, seeded);
    } finally {
      await original?.stop();
      await restored?.stop();
      for (const name of names) await pg.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await pg.end();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }, 240_000);
});
