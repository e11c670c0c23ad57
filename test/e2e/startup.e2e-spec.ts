import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '../../src/database/data-source';
import { ENTITIES } from '../../src/entities';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';

const MAIN = path.resolve('dist/src/main.js');

function runServer(env: Record<string, string>, options: { detached?: boolean } = {}): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'log', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached, // a process group of its own, as a terminal gives `npm start`
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

async function waitFor(url: string, ms: number, output: () => string): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`server did not answer ${url}: ${String(error)}\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('`npm start` on an unchanged checkout', () => {
  it('does not compile again: `npm run build` (its prestart) leaves dist/ as it was', async () => {
    // npm test has just built; a second build finds every output newer than its source (tsc -b, dist/.tsbuildinfo)
    const outputs = ['dist/src/main.js', 'dist/src/app.factory.js', 'dist/.tsbuildinfo'].map((f) => path.resolve(f));
    const before = outputs.map((f) => fs.statSync(f).mtimeMs);
    const code = await new Promise<number | null>((resolve) => spawn('npm', ['run', '--silent', 'build'], { stdio: 'ignore' }).once('exit', resolve));
    expect(code).toBe(0);
    expect(outputs.map((f) => fs.statSync(f).mtimeMs)).toEqual(before);
  });
});

describe('starting the server (the built dist/src/main.js, as `npm start` runs it)', () => {
  it('stops at start with a message naming an invalid variable', async () => {
    const { child, output } = runServer({ PORT: 'eighty', DATA_DIR: os.tmpdir() });
    expect(await exited(child)).toBe(1);
    expect(output()).toContain('PORT');
    const s3 = runServer({ STORAGE_DRIVER: 's3', DATA_DIR: os.tmpdir() });
    expect(await exited(s3.child)).toBe(1);
    expect(s3.output()).toContain('S3_BUCKET');
  });

  it('starts an embedded PostgreSQL when DATABASE_URL is unset, reuses its data, and stops it on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-start-'));
    try {
      for (let round = 0; round < 2; round++) {
        const port = await freeLoopbackPort();
        const { child, output } = runServer({ PORT: String(port), DATA_DIR: dataDir, ROOT_TOKEN: 'startup-root-token-123456' });
        const health = await waitFor(`http://127.0.0.1:${port}/health`, 30_000, output);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok' });
        expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
        if (round === 0) {
          const created = await fetch(`http://127.0.0.1:${port}/v1/accounts`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/vnd.api+json', Authorization: 'Bearer startup-root-token-123456' },
            body: JSON.stringify({
              data: {
                type: 'accounts',
                attributes: { name: 'Kept', slug: 'kept' },
                relationships: { admins: { data: [{ type: 'users', attributes: { email: 'a@kept.test', password: 'kept-password' } }] } },
              },
            }),
          });
          expect(created.status).toBe(201);
        } else {
          // the second start on the same DATA_DIR sees the first one's data
          const token = await fetch(`http://127.0.0.1:${port}/v1/accounts/kept/tokens`, {
            method: 'POST',
            headers: { Authorization: `Basic ${Buffer.from('a@kept.test:kept-password').toString('base64')}` },
          });
          expect(token.status).toBe(201);
        }
        expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);
        child.kill('SIGTERM');
        expect(await exited(child)).toBe(0);
        expect(output()).not.toContain('startup-root-token-123456');
        // the embedded server was stopped with the app
        expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('what the log says', () => {
  it('at start: where it listens, the API reference, a warning without ROOT_TOKEN; on Ctrl-C: "stopped", and no warning', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-log-'));
    try {
      const port = await freeLoopbackPort();
      // a terminal's Ctrl-C sends SIGINT to the whole process group, the embedded PostgreSQL included
      const { child, output } = runServer({ PORT: String(port), DATA_DIR: dataDir, LOG_FORMAT: 'json', PUBLIC_URL: 'https://releases.example.com' }, { detached: true });
      expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, output)).status).toBe(200);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited(child)).toBe(0);
      const lines = output().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
      expect(lines.find((l) => l.msg.startsWith('Shipgate listening'))?.msg).toBe('Shipgate listening on port ' + port + ' (https://releases.example.com); API reference at https://releases.example.com/docs');
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([expect.stringMatching(/^ROOT_TOKEN is unset: no account can be created/)]);
      expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'stopped' });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an embedded database recorded outside DATA_DIR (DATA_DIR/postgres.location, as Shipgate 0.1 made it as root)', () => {
  it('is used, and the start line says where it is (a backup of DATA_DIR would miss it)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-recorded-'));
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-elsewhere-'));
    fs.chmodSync(elsewhere, 0o755);
    const cluster = path.join(elsewhere, 'cluster');
    fs.writeFileSync(path.join(dataDir, 'postgres.location'), `${cluster}\n`);
    try {
      const port = await freeLoopbackPort();
      const { child, output } = runServer({ PORT: String(port), DATA_DIR: dataDir, ROOT_TOKEN: 'recorded-root-token-123456', LOG_FORMAT: 'json' });
      expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, output)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      expect(fs.existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
      expect(fs.existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      expect(output()).toContain(`; the embedded database is outside DATA_DIR, in ${cluster}`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

const asRoot = process.getuid?.() === 0;
(asRoot ? describe : describe.skip)('as root, a DATA_DIR the postgres user may not walk to (a checkout under /root, mode 700)', () => {
  it('keeps the embedded database under DATA_DIR, changes no permission above it, and finds it again at the next start', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-private-'));
    fs.chmodSync(parent, 0o700);
    const dataDir = path.join(parent, '.data');
    try {
      for (let round = 0; round < 2; round++) {
        const port = await freeLoopbackPort();
        const { child, output } = runServer({ PORT: String(port), DATA_DIR: dataDir, ROOT_TOKEN: 'private-root-token-123456', LOG_FORMAT: 'json' });
        expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, output)).status).toBe(200);
        if (round === 0) {
          const created = await fetch(`http://127.0.0.1:${port}/v1/accounts`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/vnd.api+json', Authorization: 'Bearer private-root-token-123456' },
            body: JSON.stringify({ data: { type: 'accounts', attributes: { name: 'Private', slug: 'private' }, relationships: { admins: { data: [{ type: 'users', attributes: { email: 'a@private.test', password: 'private-password' } }] } } } }),
          });
          expect(created.status).toBe(201);
        } else {
          const token = await fetch(`http://127.0.0.1:${port}/v1/accounts/private/tokens`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from('a@private.test:private-password').toString('base64')}` } });
          expect(token.status).toBe(201);
        }
        expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
        expect(fs.existsSync(path.join(dataDir, 'postgres.location'))).toBe(false);
        child.kill('SIGTERM');
        expect(await exited(child)).toBe(0);
        expect(output()).toContain(`data in ${path.join(dataDir, 'postgres')}`);
        expect(output()).not.toContain('outside DATA_DIR');
      }
      expect(fs.statSync(parent).mode & 0o777).toBe(0o700);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('a server killed hard', () => {
  it('leaves a PostgreSQL behind that the next start stops and replaces', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-kill-'));
    try {
      const port = await freeLoopbackPort();
      const first = runServer({ PORT: String(port), DATA_DIR: dataDir });
      expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, first.output)).status).toBe(200);
      const stalePid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      first.child.kill('SIGKILL');
      await exited(first.child);
      expect(() => process.kill(stalePid, 0)).not.toThrow(); // the orphan still runs

      const port2 = await freeLoopbackPort();
      const second = runServer({ PORT: String(port2), DATA_DIR: dataDir });
      expect((await waitFor(`http://127.0.0.1:${port2}/health/ready`, 30_000, second.output)).status).toBe(200);
      expect(() => process.kill(stalePid, 0)).toThrow();
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a second start on a DATA_DIR whose Shipgate is alive', () => {
  it('is refused with a message naming the running process, and the first keeps serving', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-live-'));
    try {
      const port = await freeLoopbackPort();
      const first = runServer({ PORT: String(port), DATA_DIR: dataDir });
      expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, first.output)).status).toBe(200);
      const postgresPid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

      const second = runServer({ PORT: String(await freeLoopbackPort()), DATA_DIR: dataDir });
      expect(await exited(second.child)).toBe(1);
      const lines = second.output().trim().split('\n');
      const refusal = JSON.parse(lines[lines.length - 1]);
      expect(refusal.level).toBe('fatal');
      expect(refusal.msg).toContain(`in use by a running Shipgate (pid ${first.child.pid}`);
      expect(second.output()).not.toMatch(/Unhandled|stale/);

      // the first server's database was left alone
      expect(() => process.kill(postgresPid, 0)).not.toThrow();
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      first.child.kill('SIGTERM');
      expect(await exited(first.child)).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('readiness', () => {
  it('/health/ready answers 503 once the database is gone, while /health stays 200', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-gone-'));
    try {
      const port = await freeLoopbackPort();
      const server = runServer({ PORT: String(port), DATA_DIR: dataDir });
      expect((await waitFor(`http://127.0.0.1:${port}/health/ready`, 30_000, server.output)).status).toBe(200);
      const postgresPid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postgresPid, 'SIGINT'); // the database goes away under the server
      const deadline = Date.now() + 15_000;
      let ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      while (ready.status !== 503 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      }
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ status: '503', code: 'DATABASE_UNAVAILABLE' });
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      server.child.kill('SIGTERM');
      await exited(server.child);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an embedded database that cannot start', () => {
  it('stops the server with one line naming the cause and the fix, never an unhandled error', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-bad-')), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const { child, output } = runServer({ PORT: String(await freeLoopbackPort()), DATA_DIR: path.join(file, 'data') });
    expect(await exited(child)).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'fatal', msg: expect.stringMatching(/^cannot create DATA_DIR .*: create it or set DATA_DIR/) });
    expect(output()).not.toMatch(/Unhandled|    at /);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});

describe('migrations', () => {
  it('run once when several instances start together (advisory lock)', async () => {
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    // named after the worker's database, so the run's teardown drops it even if this test cannot
    const name = `${new URL(process.env.DATABASE_URL!).pathname.slice(1)}_lock`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name}`;
    const sources = Array.from({ length: 4 }, () => new DataSource(dataSourceOptions(url.toString(), ENTITIES)));
    try {
      await Promise.all(sources.map((s) => s.initialize()));
      const applied = await Promise.all(sources.map((s) => runMigrations(s)));
      expect(applied.reduce((a, b) => a + b, 0)).toBe(sources[0].migrations.length);
      const rows = await sources[0].query('SELECT name FROM migrations');
      expect(rows).toHaveLength(sources[0].migrations.length);
    } finally {
      await Promise.all(sources.map((s) => (s.isInitialized ? s.destroy() : undefined)));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
