import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { ROOT_TOKEN, startApp, TestApp } from '../support/app';
import { createProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';
import { WebhookReceiver, waitFor } from '../support/webhook-receiver';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';

const DIST = path.resolve('dist/src');

function run(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [path.join(DIST, script)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/**
 * The queue's guarantees across processes: a job committed with its change survives the death of
 * the server that made it (delivered by `npm run worker`, the built dist/src/worker.js), and two
 * instances with workers deliver each event once.
 */
describe('webhook deliveries across processes', () => {
  const receiver = new WebhookReceiver();
  let receiverUrl: string;
  beforeAll(async () => {
    receiverUrl = await receiver.start();
  });
  afterAll(() => receiver.close());

  it('a server killed after the commit and before the delivery: the event is delivered after a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-durable-'));
    const port = await freeLoopbackPort();
    const env = { DATABASE_URL: process.env.DATABASE_URL!, ROOT_TOKEN, WEBHOOKS_ALLOW_PRIVATE: 'true', WORKERS_POLL_SECONDS: '1', DATA_DIR: dataDir, PASSWORD_HASH_COST: '4' };
    // an API-only server (WORKERS=0): nothing is delivered while it runs
    const server = run('main.js', { ...env, PORT: String(port), WORKERS: '0' });
    let worker: ReturnType<typeof run> | undefined;
    try {
      const t = { http: (await import('supertest')).default(`http://127.0.0.1:${port}`) } as unknown as TestApp;
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status === 200, 30_000, `the server\n${server.output()}`);
      const account: TestAccount = await createAccount(t);
      const admin = api(t, bearer(account.adminToken));
      const endpoint = await admin.post(`/v1/accounts/${account.id}/webhook-endpoints`, {
        data: { type: 'webhook-endpoints', attributes: { url: `${receiverUrl}/durable`, events: ['release.created'] } },
      });
      expect(endpoint.status).toBe(201);
      const product = await createProduct(t, account);
      const release = await createRelease(t, account, product.id, { version: '1.0.0' });

      server.child.kill('SIGKILL');
      await exited(server.child);
      await new Promise((r) => setTimeout(r, 1500));
      expect(receiver.received.filter((r) => r.path === '/durable')).toEqual([]);

      // the restart: the workers alone, as `npm run worker` runs them
      worker = run('worker.js', { ...env, WORKERS: '2' });
      await waitFor(() => receiver.accepted('/durable').length === 1, 30_000, `the delivery\n${worker!.output()}`);
      const [delivered] = receiver.accepted('/durable');
      expect(new Webhook(endpoint.body.data.attributes.secret).verify(delivered.body, delivered.headers)).toMatchObject({
        event: 'release.created',
        account: account.id,
        data: { type: 'releases', id: release.id },
      });
      worker.child.kill('SIGTERM');
      expect(await exited(worker.child)).toBe(0);
      expect(worker.output()).not.toContain(endpoint.body.data.attributes.secret);
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two instances starting together on a fresh database set the queue up once, without deadlock', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    const fresh = `${url.pathname.slice(1)}_fresh`;
    const adminUrl = new URL(url);
    adminUrl.pathname = '/postgres';
    const admin = new Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${fresh}`);
    const freshUrl = new URL(url);
    freshUrl.pathname = `/${fresh}`;
    try {
      const started = await Promise.allSettled([1, 2, 3].map(() => startApp({ DATABASE_URL: freshUrl.toString() })));
      const apps = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        expect(started.filter((r) => r.status === 'rejected')).toEqual([]);
        const db = new Client({ connectionString: freshUrl.toString() });
        await db.connect();
        const queues = await db.query(`SELECT name FROM pgboss.queue WHERE name LIKE 'shipgate.%' ORDER BY name`);
        await db.end();
        expect(queues.rows.map((r) => r.name)).toEqual(['shipgate.events-prune']);
      } finally {
        await Promise.all(apps.map((x) => x.close()));
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('two instances deliver each event once', async () => {
    const env = { WEBHOOKS_ALLOW_PRIVATE: 'true', WORKERS_POLL_SECONDS: '1', WORKERS: '3' };
    const [a, b] = await Promise.all([startApp(env), startApp(env)]);
    try {
      const account = await createAccount(a);
      const res = await api(a, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/webhook-endpoints`, {
        data: { type: 'webhook-endpoints', attributes: { url: `${receiverUrl}/twice`, events: ['product.created'] } },
      });
      expect(res.status).toBe(201);
      receiver.answer = () => 204;
      const created = await Promise.all(Array.from({ length: 24 }, (_, i) => createProduct(i % 2 ? a : b, account)));
      await waitFor(() => receiver.accepted('/twice').length >= created.length, 30_000, 'every delivery');
      // a little longer: a duplicate would arrive now
      await new Promise((r) => setTimeout(r, 2500));
      const received = receiver.received.filter((r) => r.path === '/twice');
      expect(received).toHaveLength(created.length);
      expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(created.length);
      expect(new Set(received.map((r) => JSON.parse(r.body).data.id))).toEqual(new Set(created.map((p) => p.id)));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
