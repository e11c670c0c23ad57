import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Logger, LoggerService } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { JSONAPI, startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createLicense, createProduct, licenseAuth, TestProduct } from '../support/catalogue.factories';
import { createRelease } from '../support/release.factories';
import { artifactPath, eventually, fetchBytes, getArtifact, onTestServer, randomFile, storedFiles, uploadArtifact } from '../support/artifact.factories';
import { DatabaseProxy } from '../support/db-proxy';

/** A raw request (no client library smoothing anything over). */
function rawRequest(t: TestApp, method: string, urlPath: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.baseUrl);
    const req = http.request({ host: url.hostname, port: url.port, path: urlPath, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const licenseDoc = (productId: string, attributes: Record<string, unknown>) => ({
  data: { type: 'licenses', attributes, relationships: { product: { data: { type: 'products', id: productId } } } },
});

describe('hardening', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  const admin = () => bearer(account.adminToken);

  beforeAll(async () => {
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account, { distributionStrategy: 'LICENSED' });
  });
  afterAll(async () => t.close());

  describe('headers', () => {
    it('sends nosniff, no-referrer and DENY on every answer, errors included', async () => {
      for (const res of [await t.http.get('/health'), await api(t).get(`/v1/accounts/${account.id}/products`), await t.http.get('/nowhere')]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
    });

    it('marks answers carrying a new token or license key, and authenticated answers, no-store', async () => {
      const token = await t.http.post(`/v1/accounts/${account.id}/tokens`).auth(account.adminEmail, account.adminPassword);
      expect(token.status).toBe(201);
      expect(token.headers['cache-control']).toBe('no-store');
      const license = await api(t, admin()).post(`/v1/accounts/${account.id}/licenses`, licenseDoc(product.id, {}));
      expect(license.status).toBe(201);
      expect(license.headers['cache-control']).toBe('no-store');
      expect((await api(t, admin()).get(`/v1/accounts/${account.id}/licenses`)).headers['cache-control']).toBe('no-store');
    });
  });

  describe('CORS and methods', () => {
    it('answers a preflight from any origin by default, allowing the API headers', async () => {
      const res = await t.http
        .options(`/v1/accounts/${account.id}/releases`)
        .set('Origin', 'https://dashboard.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      for (const h of ['Authorization', 'Content-Type', 'Content-Digest', 'Prefer']) expect(res.headers['access-control-allow-headers']).toContain(h);
      expect(res.headers['access-control-allow-methods']).toContain('PATCH');
    });

    it('exposes Location, X-Request-Id, Retry-After and RateLimit-* to browsers', async () => {
      const res = await api(t, admin()).get(`/v1/accounts/${account.id}/products`).set('Origin', 'https://dashboard.example');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      for (const h of ['Location', 'X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']) {
        expect(res.headers['access-control-expose-headers']).toContain(h);
      }
    });

    it('answers 405 with Allow for a known path and another method, 404 for an unknown path', async () => {
      const res = await api(t, admin()).patch(`/v1/accounts/${account.id}/releases`, {});
      expect(res.status).toBe(405);
      expect(res.body.errors[0]).toMatchObject({ status: '405', code: 'METHOD_NOT_ALLOWED' });
      expect(res.headers.allow.split(', ').sort()).toEqual(expect.arrayContaining(['GET', 'POST']));
      expect(res.headers.allow).not.toContain('PATCH');
      const put = await t.http.put('/health').set('Accept', JSONAPI);
      expect(put.status).toBe(405);
      expect(put.headers.allow).toContain('GET');
      const options = await t.http.options('/health');
      expect(options.status).toBe(204);
      expect(options.headers.allow).toContain('GET');
      expect((await t.http.patch('/v1/nothing/here')).status).toBe(404);
    });
  });

  describe('CORS_ORIGINS', () => {
    let c: TestApp;
    beforeAll(async () => (c = await startApp({ CORS_ORIGINS: 'https://admin.example.com, https://ops.example.com' })));
    afterAll(async () => c.close());

    it('echoes a listed origin and refuses a preflight from another', async () => {
      const ok = await c.http.options('/v1/accounts').set('Origin', 'https://ops.example.com').set('Access-Control-Request-Method', 'POST');
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('https://ops.example.com');
      expect(ok.headers.vary).toContain('Origin');
      const no = await c.http.options('/v1/accounts').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
      expect(no.status).toBe(403);
      expect(no.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(no.text).errors[0].code).toBe('CORS_ORIGIN_FORBIDDEN');
    });
  });

  describe('bad bodies', () => {
    const url = () => `/v1/accounts/${account.id}/licenses`;
    const json = () => Buffer.from(JSON.stringify(licenseDoc(product.id, { name: 'x' })));
    const headers = (extra: Record<string, string>) => ({ Authorization: admin(), 'Content-Type': JSONAPI, Accept: JSONAPI, ...extra });

    it.each(['gzip', 'deflate', 'br'])('answers 400 (not 500) for a corrupt %s body, 201 for a good one', async (encoding) => {
      const bad = await rawRequest(t, 'POST', url(), headers({ 'Content-Encoding': encoding }), Buffer.from('certainly not compressed data'));
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).errors[0]).toMatchObject({ code: 'BODY_ENCODING_INVALID', source: { header: 'Content-Encoding' } });
      const packed = encoding === 'gzip' ? zlib.gzipSync(json()) : encoding === 'deflate' ? zlib.deflateSync(json()) : zlib.brotliCompressSync(json());
      expect((await rawRequest(t, 'POST', url(), headers({ 'Content-Encoding': encoding }), packed)).status).toBe(201);
    });

    it('answers 415 for an unsupported Content-Encoding', async () => {
      const res = await rawRequest(t, 'POST', url(), headers({ 'Content-Encoding': 'compress' }), json());
      expect(res.status).toBe(415);
    });

    it('answers 415 for a charset other than UTF-8', async () => {
      const body = Buffer.from(`\ufeff${JSON.stringify(licenseDoc(product.id, { name: 'x' }))}`, 'utf16le');
      const res = await rawRequest(t, 'POST', url(), headers({ 'Content-Type': 'application/json; charset=utf-16' }), body);
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body).errors[0]).toMatchObject({ code: 'MEDIA_TYPE_UNSUPPORTED', source: { header: 'Content-Type' } });
      expect((await rawRequest(t, 'POST', url(), headers({ 'Content-Type': 'application/json; charset=utf-8' }), json())).status).toBe(201);
    });

    it('answers 400 for a lone UTF-16 surrogate instead of storing U+FFFD; a real pair is kept', async () => {
      const lone = Buffer.from(JSON.stringify(licenseDoc(product.id, {})).replace('"attributes":{}', '"attributes":{"name":"a\\ud800b"}'));
      const res = await rawRequest(t, 'POST', url(), headers({}), lone);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).errors[0]).toMatchObject({ code: 'CHARACTER_INVALID', source: { pointer: '/data/attributes/name' } });
      const pair = await api(t, admin()).post(url(), licenseDoc(product.id, { name: 'rocket \ud83d\ude80' }));
      expect(pair.status).toBe(201);
      expect(pair.body.data.attributes.name).toBe('rocket 🚀');
    });
  });

  describe('licenses and users', () => {
    it('refuses a custom license key shorter than 8 characters', async () => {
      const short = await api(t, admin()).post(`/v1/accounts/${account.id}/licenses`, licenseDoc(product.id, { key: 'ABC1234' }));
      expect(short.status).toBe(422);
      expect(short.body.errors[0]).toMatchObject({ code: 'KEY_INVALID', source: { pointer: '/data/attributes/key' } });
      expect((await api(t, admin()).post(`/v1/accounts/${account.id}/licenses`, licenseDoc(product.id, { key: `ABCD-${Date.now()}` }))).status).toBe(201);
    });

    it('needs currentPassword for a change of one’s own password', async () => {
      const user = await createUser(t, account);
      const self = api(t, bearer(user.token));
      const url = `/v1/accounts/${account.id}/users/${user.id}`;
      const change = (attributes: Record<string, unknown>) => self.patch(url, { data: { type: 'users', id: user.id, attributes } });
      const missing = await change({ password: 'new-password-1' });
      expect(missing.status).toBe(403);
      expect(missing.body.errors[0].source).toEqual({ pointer: '/data/attributes/currentPassword' });
      expect((await change({ password: 'new-password-1', currentPassword: 'not-my-password' })).status).toBe(403);
      // the old password still works: nothing changed
      expect((await t.http.post(`/v1/accounts/${account.id}/tokens`).auth(user.email, user.password)).status).toBe(201);
      expect((await change({ password: 'new-password-1', currentPassword: user.password })).status).toBe(200);
      expect((await t.http.post(`/v1/accounts/${account.id}/tokens`).auth(user.email, 'new-password-1')).status).toBe(201);
      // an admin resets another user's password without it
      const reset = await api(t, admin()).patch(url, { data: { type: 'users', id: user.id, attributes: { password: 'reset-by-admin' } } });
      expect(reset.status).toBe(200);
    });
  });

  describe('signed download URLs', () => {
    async function publishedWithUrl() {
      const release = await createRelease(t, account, product.id);
      await uploadArtifact(t, account, release.id, randomFile(2000));
      const license = await createLicense(t, account, product.id);
      const res = await getArtifact(t, account, release.id, licenseAuth(license.key));
      expect(res.status).toBe(303);
      return { release, url: onTestServer(t, res.headers.location) };
    }

    it('stops working as soon as the release is yanked, and stays dead after a re-publish', async () => {
      const { release, url } = await publishedWithUrl();
      expect((await fetchBytes(url)).status).toBe(200);
      expect((await api(t, admin()).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/yank`)).status).toBe(200);
      expect((await fetchBytes(url)).status).toBe(404);
      // an admin may still fetch the yanked file with a URL issued now
      const adminUrl = onTestServer(t, (await getArtifact(t, account, release.id, admin())).headers.location);
      expect((await fetchBytes(adminUrl)).status).toBe(200);
      expect((await api(t, admin()).post(`/v1/accounts/${account.id}/releases/${release.id}/actions/publish`)).status).toBe(200);
      expect((await fetchBytes(adminUrl)).status).toBe(404);
    });

    it('stops working when the release or its artifact is deleted', async () => {
      const a = await publishedWithUrl();
      expect((await api(t, admin()).delete(`/v1/accounts/${account.id}/releases/${a.release.id}`)).status).toBe(204);
      expect((await fetchBytes(a.url)).status).toBe(404);
      const b = await publishedWithUrl();
      expect((await api(t, admin()).delete(artifactPath(account, b.release.id))).status).toBe(204);
      expect((await fetchBytes(b.url)).status).toBe(404);
    });
  });

  describe('uploads', () => {
    it('stops an upload bigger than the declared filesize at the first byte over (422 while the client is still sending)', async () => {
      const release = await createRelease(t, account, product.id, { filesize: 1000 });
      const url = new URL(`${t.baseUrl}${artifactPath(account, release.id)}`);
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'PUT',
            agent: false,
            headers: { Authorization: admin(), 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
          },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => {
              resolve({ status: res.statusCode!, body });
              req.destroy();
            });
          },
        );
        req.on('error', reject);
        // 1001 bytes, then the request stays open: only an early answer can end this
        req.write(randomFile(600));
        req.write(randomFile(401));
      });
      const res = await Promise.race([answer, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(res).not.toBeNull();
      expect(res!.status).toBe(422);
      expect(JSON.parse(res!.body).errors[0].code).toBe('FILESIZE_MISMATCH');
      await eventually(() => !storedFiles(t).some((f) => f.endsWith('.part')));
    });
  });
});

describe('upload leftovers', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp({ UPLOAD_IDLE_TIMEOUT_SECONDS: '1' })));
  afterAll(async () => t.close());

  it('sweeps temporary files older than the idle timeout plus a minute while running', async () => {
    const tmp = path.join(t.config.dataDir, 'artifacts', '.tmp');
    const stale = path.join(tmp, 'left-by-a-killed-process.part');
    const fresh = path.join(tmp, 'being-written.part');
    fs.writeFileSync(stale, Buffer.alloc(4096));
    fs.writeFileSync(fresh, Buffer.alloc(4096));
    const old = new Date(Date.now() - 62_000);
    fs.utimesSync(stale, old, old);
    await eventually(() => !fs.existsSync(stale), 30_000);
    expect(fs.existsSync(fresh)).toBe(true);
  });
});

describe('timeouts', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(async () => t.close());

  /** Opens a socket, writes `text`, resolves with [ms until the server closed it, what it answered]. */
  function heldOpen(text: string): Promise<[number, string]> {
    return new Promise((resolve) => {
      const url = new URL(t.baseUrl);
      const started = Date.now();
      let answer = '';
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(text));
      socket.on('data', (c) => (answer += c.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve([Date.now() - started, answer]));
    });
  }

  it('closes connections whose headers, body or next request do not come (10 s, 30 s, 5 s)', async () => {
    const [headers, body, idle] = await Promise.all([
      heldOpen('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      heldOpen(`POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSONAPI}\r\nContent-Length: 100\r\n\r\n{"data":`),
      heldOpen('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'),
    ]);
    expect(headers[0]).toBeGreaterThanOrEqual(9_000);
    expect(headers[0]).toBeLessThan(13_000);
    expect(body[0]).toBeGreaterThanOrEqual(29_000);
    expect(body[0]).toBeLessThan(34_000);
    expect(body[1]).toMatch(/^HTTP\/1\.1 408/);
    expect(body[1]).toContain('REQUEST_TIMEOUT');
    expect(idle[1]).toMatch(/^HTTP\/1\.1 200/);
    expect(idle[0]).toBeGreaterThanOrEqual(4_500);
    expect(idle[0]).toBeLessThan(8_000);
  }, 45_000);
});

describe('database faults', () => {
  let t: TestApp;
  let proxy: DatabaseProxy;
  let account: TestAccount;
  const lines: string[] = [];
  const capture: LoggerService = {
    log: (m: unknown, ctx?: unknown) => void lines.push(`log ${ctx} ${m}`),
    warn: (m: unknown, ctx?: unknown) => void lines.push(`warn ${ctx} ${m}`),
    error: (m: unknown, ctx?: unknown) => void lines.push(`error ${ctx} ${m}`),
  };

  beforeEach(async () => {
    const target = new URL(process.env.DATABASE_URL!);
    proxy = new DatabaseProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    t = await startApp({ DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!), STATEMENT_TIMEOUT_MS: '1500' });
    account = await createAccount(t);
    lines.length = 0;
    t.app.useLogger(capture);
  });
  afterEach(async () => {
    Logger.overrideLogger(['error']);
    await proxy.close();
    await t.close().catch(() => undefined);
  });

  it('answers 503 with Retry-After within the statement timeout when the database freezes', async () => {
    expect((await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products`)).status).toBe(200);
    proxy.freeze();
    const started = Date.now();
    const res = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.errors[0].code).toBe('DATABASE_UNAVAILABLE');
    // the timeout answered (not a refused connection), and the request did not hang: the client
    // gives up 250 ms after the 1.5 s statement timeout; the rest is room for a busy machine
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1_500);
    expect(waited).toBeLessThan(4_500);
  });

  it('logs one line when an outage starts and one when it ends, however many requests fail', async () => {
    await proxy.stop();
    const failed = await Promise.all(Array.from({ length: 25 }, () => api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products`)));
    expect(failed.every((r) => r.status === 503 && r.headers['retry-after'])).toBe(true);
    await proxy.start();
    await eventually(async () => (await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products`)).status === 200, 15_000);
    await eventually(() => lines.some((l) => /available again/.test(l)), 15_000);
    const database = lines.filter((l) => / Database /.test(l));
    expect(database).toHaveLength(2);
    expect(database[0]).toMatch(/^warn Database database unavailable/);
    expect(database[1]).toMatch(/^log Database database available again/);
    expect(lines.filter((l) => /\[.*\] database unavailable/.test(l))).toHaveLength(0);
  }, 40_000);
});

describe('database pool', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(async () => t.close());

  it('answers 503 with Retry-After when a request waits more than 5 s for a connection', async () => {
    const account = await createAccount(t);
    const db = t.app.get(DataSource);
    // every pooled connection busy for 9 s (just under the 10 s statement timeout), well past the
    // pool's 5 s wait: an answer before they end cannot be a 200; cancelled once answered
    const busy = Array.from({ length: 20 }, () => db.query('SELECT pg_sleep(9)').catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const res = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products`);
    const waited = Date.now() - started;
    const admin = new Client({ connectionString: t.config.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(9)'`);
    } finally {
      await admin.end();
    }
    await Promise.all(busy);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    // given up after the pool's 5 s wait, with room for a busy machine
    expect(waited).toBeGreaterThanOrEqual(4_500);
    expect(waited).toBeLessThan(8_500);
  }, 30_000);
});
