import http from 'node:http';
import net from 'node:net';
import { HELD_UPLOAD_BYTES } from '../../src/storage/local-storage.driver';
import { startApp, TestApp } from '../support/app';
import { eventually, storedFiles } from '../support/artifact.factories';
import { createRelease } from '../support/release.factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { releaseWithFile } from '../support/upgrade.factories';

const LINUX = 'linux/amd64';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

interface RequestLine {
  level: string;
  time: string;
  msg: string;
  reqId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  account: string | null;
  caller: string | null;
  code?: string;
}

const requestLines = (t: TestApp): RequestLine[] => t.logLines.map((l) => JSON.parse(l) as RequestLine).filter((l) => l.msg === 'request');

/** The value of one sample in Prometheus text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const labelPart = line.slice(name.length).split(' ')[0];
    if (wanted.every((w) => labelPart.includes(w))) return Number(line.split(' ').pop());
  }
  return 0;
}

describe('request logs and metrics', () => {
  let t: TestApp;
  let account: TestAccount;
  let key: string;
  let productId: string;

  beforeAll(async () => {
    t = await startApp({ LOG_LEVEL: 'log', METRICS_TOKEN });
    account = await createAccount(t);
    const product = await createProduct(t, account);
    productId = product.id;
    key = (await createLicense(t, account, product.id)).key;
    await releaseWithFile(t, account, product.id, '1.0.0');
    await releaseWithFile(t, account, product.id, '1.1.0');
  });
  afterAll(() => t.close());

  it('writes one JSON line per request, with the route template, status, duration, account and caller kind', async () => {
    const ids: string[] = [];
    const calls = [
      api(t, licenseAuth(key)).get(`/v1/accounts/${account.slug}/releases?page[size]=1`),
      api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/products/${productId}`),
      api(t).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=${LINUX}&filetype=tar.gz&version=1.0.0&key=${key}`).redirects(0),
      t.http.get('/no/such/route?token=should-not-show'),
      api(t, bearer('not-a-real-token')).get(`/v1/accounts/${account.id}/products`),
      api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases?page[size]=500`),
    ];
    for (const call of calls) ids.push((await call).headers['x-request-id']);

    // a line is written once its answer has gone out: waited for, then counted exactly
    await eventually(() => ids.every((id) => requestLines(t).some((l) => l.reqId === id)), 10_000);
    const lines = requestLines(t);
    for (const id of ids) expect(lines.filter((l) => l.reqId === id)).toHaveLength(1);
    const byId = (i: number) => lines.find((l) => l.reqId === ids[i])!;
    expect(byId(0)).toMatchObject({ level: 'info', method: 'GET', route: '/v1/accounts/:account/releases', status: 200, account: account.id, caller: 'license' });
    expect(typeof byId(0).ms).toBe('number');
    expect(new Date(byId(0).time).toISOString()).toBe(byId(0).time);
    expect(byId(1)).toMatchObject({ route: '/v1/accounts/:account/products/:id', status: 200, caller: 'admin' });
    expect(byId(2)).toMatchObject({ route: '/v1/accounts/:account/releases/actions/upgrade', status: 303, caller: 'license' });
    expect(byId(3)).toMatchObject({ route: 'unmatched', status: 404, code: 'NOT_FOUND' });
    // an error answer's line names its code; a success's line has none
    expect(byId(4)).toMatchObject({ route: '/v1/accounts/:account/products', status: 401, code: 'TOKEN_INVALID' });
    expect(byId(5)).toMatchObject({ route: '/v1/accounts/:account/releases', status: 400, code: 'PARAMETER_INVALID' });
    expect(byId(0)).not.toHaveProperty('code');
    // no raw paths, no query strings, no keys
    const all = t.logLines.join('\n');
    expect(all).not.toContain(key);
    expect(all).not.toContain(account.adminToken);
    expect(all).not.toContain('should-not-show');
    expect(all).not.toContain('?');
  });

  it('logs a request whose client left before the answer with status 499, and the next request on a connection as usual', async () => {
    const release = await createRelease(t, account, productId, { version: '9.9.0' });
    const port = Number(new URL(t.baseUrl).port);
    const leaving = 'left-early-0001';
    // an upload that never finishes: the client closes the connection partway through the body (past
    // what is held in memory, so that the server writes it to a temporary file)
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `PUT /v1/accounts/${account.id}/releases/${release.id}/artifact HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${account.adminToken}\r\n` +
        `X-Request-Id: ${leaving}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(HELD_UPLOAD_BYTES + 1000)}`,
    );
    // the server has authenticated the upload and is writing it (its temporary file exists): now leave
    await eventually(() => storedFiles(t).some((f) => f.startsWith('.tmp/')), 10_000);
    socket.destroy();
    // a keep-alive connection: two answered requests, then closed by the client
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ids = ['kept-alive-0001', 'kept-alive-0002'];
    for (const id of ids) {
      await new Promise<void>((resolve, reject) =>
        http.get(`${t.baseUrl}/health`, { agent, headers: { 'x-request-id': id } }, (res) => res.resume().on('end', resolve)).on('error', reject),
      );
    }
    agent.destroy();
    await eventually(() => [leaving, ...ids].every((id) => requestLines(t).some((l) => l.reqId === id)), 10_000);
    const lines = requestLines(t);
    expect(lines.filter((l) => l.reqId === leaving)).toEqual([expect.objectContaining({ route: '/v1/accounts/:account/releases/:id/artifact', status: 499, caller: 'admin' })]);
    for (const id of ids) expect(lines.filter((l) => l.reqId === id)).toEqual([expect.objectContaining({ route: '/health', status: 200 })]);
  });

  it('does not list the routes at the default level', () => {
    expect(t.logLines.some((l) => /Mapped \{/.test(l))).toBe(false);
    expect(t.logLines.every((l) => JSON.parse(l).level !== 'debug')).toBe(true);
  });

  it('serves /metrics only with METRICS_TOKEN', async () => {
    const none = await t.http.get('/metrics');
    expect(none.status).toBe(401);
    expect(none.body.errors[0]).toMatchObject({ code: 'TOKEN_MISSING', source: { header: 'Authorization' } });
    const wrong = await t.http.get('/metrics').set('Authorization', 'Bearer not-the-metrics-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0].code).toBe('TOKEN_INVALID');
    // an account token is not the metrics token either
    expect((await t.http.get('/metrics').set('Authorization', bearer(account.adminToken))).status).toBe(401);
  });

  it('counts requests by route and status, update checks, downloads, upgrades, cache lookups, uploads and the pool', async () => {
    const scrape = async () => {
      const res = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text;
    };
    const before = await scrape();
    const route = { method: 'GET', route: '/v1/accounts/:account/releases/actions/upgrade', status: '303' };
    for (let i = 0; i < 3; i++) {
      const res = await api(t, licenseAuth(key))
        .get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=${LINUX}&filetype=tar.gz&version=1.0.0`)
        .redirects(0);
      expect(res.status).toBe(303);
    }
    const none = await api(t, licenseAuth(key)).get(`/v1/accounts/${account.id}/releases/actions/upgrade?product=${productId}&platform=${LINUX}&filetype=tar.gz&version=1.1.0`);
    expect(none.status).toBe(204);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('shipgate_http_requests_total', route)).toBe(3);
    expect(delta('shipgate_http_request_duration_seconds_count', route)).toBe(3);
    expect(delta('shipgate_http_request_duration_seconds_bucket', { ...route, le: '+Inf' })).toBe(3);
    expect(delta('shipgate_http_requests_total', { ...route, status: '204' })).toBe(1);
    expect(delta('shipgate_update_checks_total')).toBe(4);
    expect(delta('shipgate_upgrades_total')).toBe(3);
    expect(delta('shipgate_downloads_total')).toBe(3);
    expect(delta('shipgate_catalogue_hits_total')).toBeGreaterThan(0);
    expect(after).toMatch(/^shipgate_catalogue_misses_total \d+$/m);
    // two uploads in beforeAll (each artifact is 'version platform filetype\n' + 64 random bytes)
    expect(sample(after, 'shipgate_uploads_total')).toBe(2);
    expect(sample(after, 'shipgate_upload_bytes_total')).toBeGreaterThan(128);
    expect(after).toMatch(/^shipgate_db_pool_in_use \d+$/m);
    expect(after).toMatch(/^shipgate_db_pool_waiting \d+$/m);
    // labels are route templates, never raw paths
    expect(after).not.toContain(account.id);
  });

  it('writes no request lines when LOG_LEVEL is warn', async () => {
    const quiet = await startApp({ LOG_LEVEL: 'warn' });
    try {
      await quiet.http.get('/health');
      await quiet.http.get('/no/such/route');
      await new Promise((r) => setTimeout(r, 50));
      expect(requestLines(quiet)).toEqual([]);
      // and /metrics is open when METRICS_TOKEN is unset
      expect((await quiet.http.get('/metrics')).status).toBe(200);
    } finally {
      await quiet.close();
    }
  });
});

