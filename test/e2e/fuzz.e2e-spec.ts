import * as http from 'node:http';
import fc from 'fast-check';
import { JSONAPI, ROOT_TOKEN, startApp, TestApp } from '../support/app';
import { bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createEntitlement, createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { createRelease } from '../support/release.factories';
import { uploadArtifact, randomFile } from '../support/artifact.factories';

/**
 * Property: whatever a client sends — any route, method, path ids, query string, headers and
 * body (JSON:API-shaped or not) — the server never answers 5xx, and every 4xx carries an error
 * document: JSON:API `errors` with status/code/title on /v1 and /health, `{code, message}` on /v3.
 * Fixed seed: the same requests every run. `npm test` sends at least 2,000; `npm run fuzz` 20,000.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

interface Fixture {
  account: TestAccount;
  productId: string;
  releaseId: string;
  licenseId: string;
  licenseKey: string;
  userId: string;
  userToken: string;
  entitlementId: string;
  artifactFilename: string;
}

const ROUTES: Array<[string[], string]> = [
  [['POST'], '/v1/accounts'],
  [['GET', 'PATCH'], '/v1/accounts/{a}'],
  [['GET', 'POST'], '/v1/accounts/{a}/users'],
  [['GET', 'PATCH', 'DELETE'], '/v1/accounts/{a}/users/{user}'],
  [['GET'], '/v1/accounts/{a}/users/{user}/licenses'],
  [['GET', 'POST'], '/v1/accounts/{a}/tokens'],
  [['GET', 'DELETE'], '/v1/accounts/{a}/tokens/{id}'],
  [['GET', 'POST'], '/v1/accounts/{a}/products'],
  [['GET', 'PATCH', 'DELETE'], '/v1/accounts/{a}/products/{product}'],
  [['POST'], '/v1/accounts/{a}/products/{product}/tokens'],
  [['GET', 'POST'], '/v1/accounts/{a}/entitlements'],
  [['GET', 'PATCH', 'DELETE'], '/v1/accounts/{a}/entitlements/{entitlement}'],
  [['GET', 'POST'], '/v1/accounts/{a}/licenses'],
  [['GET', 'PATCH', 'DELETE'], '/v1/accounts/{a}/licenses/{license}'],
  [['POST'], '/v1/accounts/{a}/licenses/{license}/actions/suspend'],
  [['POST'], '/v1/accounts/{a}/licenses/{license}/actions/reinstate'],
  [['GET', 'POST', 'DELETE'], '/v1/accounts/{a}/licenses/{license}/entitlements'],
  [['GET', 'POST'], '/v1/accounts/{a}/releases'],
  [['GET', 'PATCH', 'DELETE'], '/v1/accounts/{a}/releases/{release}'],
  [['POST'], '/v1/accounts/{a}/releases/{release}/actions/yank'],
  [['POST'], '/v1/accounts/{a}/releases/{release}/actions/publish'],
  [['GET', 'PUT', 'DELETE'], '/v1/accounts/{a}/releases/{release}/artifact'],
  [['GET', 'POST', 'DELETE'], '/v1/accounts/{a}/releases/{release}/constraints'],
  [['GET'], '/v1/accounts/{a}/releases/{release}/constraints/{id}'],
  [['GET'], '/v1/accounts/{a}/releases/{release}/upgrade'],
  [['GET'], '/v1/accounts/{a}/releases/actions/upgrade'],
  [['GET', 'HEAD'], '/v1/accounts/{a}/artifacts/{id}/{filename}'],
  [['GET'], '/v1/accounts/{a}/artifacts/{filename}'],
  [['GET'], '/v3/releases/update'],
  [['GET'], '/v3/releases/latest'],
  [['GET', 'HEAD'], '/v3/{release}'],
  [['GET'], '/health'],
  [['GET'], '/health/ready'],
];

const QUERY_KEYS = [
  'page[number]', 'page[size]', 'page[cursor]', 'limit', 'sort', 'order', 'include', 'fields[releases]', 'fields[licenses]',
  'product', 'platform', 'channel', 'filetype', 'version', 'status', 'yanked', 'user', 'constraint', 'ttl', 'key', 'token', 'auth',
  'productId', 'force', 'expires', 'signature', 'g', 'installId', 'license',
];

const ATTRIBUTES = [
  'name', 'slug', 'email', 'password', 'currentPassword', 'role', 'code', 'distributionStrategy', 'url', 'metadata', 'key', 'expiry',
  'expirationStrategy', 'suspended', 'version', 'channel', 'platform', 'filename', 'filetype', 'filesize', 'signature', 'checksum',
  'description', 'critical', 'rolloutPercentage', 'required', 'minimumVersion', 'rollbackOnYank', 'versionPin', 'status', 'firstName', 'lastName',
];
const TYPES = ['accounts', 'users', 'tokens', 'products', 'entitlements', 'licenses', 'releases', 'constraints', 'artifacts', 'bogus'];

/** Strings that have broken servers before: surrogates, NULs, huge numbers, path tricks, encodings. */
const nasty = fc.constantFrom(
  '', ' ', '\u0000', '\ud800', '\udc00x', '🚀', '../../etc/passwd', '%', '%00', '%ZZ', '%ED%A0%80', 'null', '-1', '0', '1e309',
  '99999999999999999999', '1.0.0', 'v1.0.0', '1.0.0-beta.1', 'stable', 'linux/amd64', '*', '[]', '{}', 'a'.repeat(300), "'; DROP TABLE releases; --",
  'NaN', 'true', '2026-01-01T00:00:00Z', 'license:', 'token:', ':', '\\', 'latest.yml',
);
const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.uuid());

/**
 * URL-encodes, except that escape-only strings (`%ZZ`, `%00`, `%ED%A0%80`: broken or hostile
 * encodings) go in raw; a lone surrogate, which cannot be encoded, is sent as its UTF-8 bytes.
 */
function enc(s: string): string {
  if (/^(%[0-9A-Za-z]{0,2})+$/.test(s)) return s;
  return s.split(/([\uD800-\uDFFF])/u).map((part) => (/^[\uD800-\uDFFF]$/.test(part) ? '%ED%A0%80' : encodeURIComponent(part))).join('');
}

function pathSegment(fixture: Fixture, name: string): fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    a: [fixture.account.id, fixture.account.slug],
    user: [fixture.userId],
    product: [fixture.productId],
    entitlement: [fixture.entitlementId],
    license: [fixture.licenseId],
    release: [fixture.releaseId],
    filename: [fixture.artifactFilename],
  };
  const known = real[name] ?? [];
  return fc.oneof(
    { weight: 4, arbitrary: known.length ? fc.constantFrom(...known) : fc.uuid() },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: text.map((s) => enc(s) || 'x') },
    // printable ASCII goes in raw (../, %, backslashes reach the router as sent), anything else encoded
    { weight: 1, arbitrary: nasty.map((s) => (/^[\x21-\x7e]+$/.test(s) && !/[?#]/.test(s) ? s : enc(s)) || 'x') },
  );
}

function credentials(fixture: Fixture): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(bearer(fixture.account.adminToken)),
    fc.constant(bearer(fixture.account.adminToken)),
    fc.constant(bearer(fixture.account.adminToken)),
    fc.constant(bearer(fixture.userToken)),
    fc.constant(licenseAuth(fixture.licenseKey)),
    fc.constant(bearer(ROOT_TOKEN)),
    fc.constant(undefined),
    fc.constant(`Basic ${Buffer.from(`${fixture.account.adminEmail}:wrong`).toString('base64')}`),
    text.map((s) => `Bearer ${s}`.replace(/[\r\n]/g, '')),
    text.map((s) => `License ${s}`.replace(/[\r\n]/g, '')),
    text.map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    nasty.map((s) => s.replace(/[\r\n]/g, '')),
  );
}

const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));

function body(fixture: Fixture, routeType: string): fc.Arbitrary<{ bytes?: Buffer; contentType?: string; encoding?: string }> {
  const linkage = fc.record({ type: fc.constantFrom(...TYPES), id: fc.oneof(fc.constantFrom(fixture.productId, fixture.releaseId, fixture.entitlementId), fc.uuid(), text) });
  const resource = fc.record(
    {
      // mostly the route's own type, so that bodies reach attribute validation
      type: fc.oneof({ weight: 4, arbitrary: fc.constant(routeType) }, { weight: 1, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: jsonValue }),
      id: fc.oneof(fc.constantFrom(fixture.releaseId, fixture.productId, fixture.licenseId), text),
      attributes: fc.oneof(fc.dictionary(fc.constantFrom(...ATTRIBUTES), jsonValue, { maxKeys: 5 }), jsonValue),
      relationships: fc.oneof(
        fc.dictionary(fc.constantFrom('product', 'user', 'entitlement', 'entitlements', 'admins', 'bogus'), fc.oneof(fc.record({ data: fc.oneof(linkage, fc.array(linkage, { maxLength: 3 }), fc.constant(null)) }), jsonValue), { maxKeys: 3 }),
        jsonValue,
      ),
    },
    { requiredKeys: [] },
  );
  const document = fc.oneof(
    { weight: 5, arbitrary: fc.record({ data: fc.oneof(resource, fc.array(resource, { maxLength: 3 }), jsonValue) }).map((d) => JSON.stringify(d)) },
    { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({}) },
    {
      weight: 6,
      arbitrary: fc.record({
        bytes: document.map((d) => Buffer.from(d)),
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(JSONAPI, 'application/json') },
          {
            weight: 2,
            arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=utf-16', `${JSONAPI}; ext=x`, `${JSONAPI}; charset=utf-8`, 'text/plain', 'application/octet-stream', ''),
          },
        ),
        encoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'compress', 'bogus'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ bytes: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), contentType: fc.constantFrom(JSONAPI, 'application/octet-stream') }) },
  );
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function request(fixture: Fixture): fc.Arbitrary<Sent> {
  return fc
    .constantFrom(...ROUTES)
    .chain(([methods, template]) => {
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const routeType = [...template.split('/')].reverse().find((seg) => TYPES.includes(seg)) ?? 'releases';
      return fc.record({
        method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') }),
        segments: fc.tuple(...names.map((n) => pathSegment(fixture, n))),
        query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), text), fc.oneof(text, fc.constantFrom(fixture.productId, fixture.licenseKey, '1.0.0', 'linux/amd64', 'stable'))), { maxLength: 4 }),
        authorization: credentials(fixture),
        // mostly what real clients send, so that requests get past the media-type checks to validation
        accept: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(undefined, JSONAPI, 'application/json', '*/*') },
          { weight: 1, arbitrary: fc.constantFrom('text/html', `${JSONAPI}; charset=utf-8`, 'application/xml') },
        ),
        origin: fc.constantFrom(undefined, 'https://dashboard.example'),
        extra: fc.constantFrom<Record<string, string>>({}, { Prefer: 'no-redirect' }, { Range: 'bytes=0-10' }, { Range: 'bytes=999999-' }, { 'Content-Digest': 'sha-256=:AAAA:' }, { 'If-None-Match': '"x"' }),
        body: body(fixture, routeType),
      }).map(({ method, segments, query, authorization, accept, origin, extra, body: b }) => {
        let i = 0;
        const p = template.replace(/\{\w+\}/g, () => segments[i++]);
        const qs = query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
        const headers: Record<string, string> = { ...extra };
        // what can travel in a header at all: latin-1 without control characters
        if (authorization) headers.Authorization = authorization.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
        if (accept) headers.Accept = accept;
        if (origin) headers.Origin = origin;
        if (b.bytes !== undefined && method !== 'GET' && method !== 'HEAD') {
          if (b.contentType) headers['Content-Type'] = b.contentType;
          if (b.encoding) headers['Content-Encoding'] = b.encoding;
          return { method, path: qs ? `${p}?${qs}` : p, headers, body: b.bytes };
        }
        return { method, path: qs ? `${p}?${qs}` : p, headers };
      });
    });
}

function send(t: TestApp, agent: http.Agent, r: Sent): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: r.path, method: r.method, headers: { ...r.headers, 'Content-Length': String(r.body?.length ?? 0) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer in 20 s: ${r.method} ${r.path}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Why an answer breaks the property, or null. */
function problem(r: Sent, res: { status: number; headers: http.IncomingHttpHeaders; text: string }): string | null {
  if (res.status >= 500) return `${res.status}: ${res.text.slice(0, 300)}`;
  if (res.status < 400 || r.method === 'HEAD') return null;
  let doc: unknown;
  try {
    doc = JSON.parse(res.text);
  } catch {
    return `${res.status} without a JSON body: ${res.text.slice(0, 200)}`;
  }
  const pathOnly = r.path.split('?')[0];
  if (pathOnly.startsWith('/v3/')) {
    const d = doc as { code?: unknown; message?: unknown };
    return typeof d.code === 'string' && typeof d.message === 'string' ? null : `${res.status} without {code, message}: ${res.text.slice(0, 200)}`;
  }
  const errors = (doc as { errors?: Array<Record<string, unknown>> }).errors;
  if (!Array.isArray(errors) || !errors.length) return `${res.status} without errors[]: ${res.text.slice(0, 200)}`;
  for (const e of errors) {
    if (e.status !== String(res.status) || typeof e.code !== 'string' || typeof e.title !== 'string') return `${res.status} with a malformed error: ${JSON.stringify(e)}`;
  }
  return null;
}

describe('fuzz: no 5xx, an error document on every 4xx', () => {
  let t: TestApp;
  let fixture: Fixture;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    t = await startApp({ LOG_LEVEL: 'error' });
    const account = await createAccount(t);
    const product = await createProduct(t, account, { distributionStrategy: 'OPEN' });
    const entitlement = await createEntitlement(t, account);
    const release = await createRelease(t, account, product.id);
    await uploadArtifact(t, account, release.id, randomFile(1024));
    const license = await createLicense(t, account, product.id);
    const user = await createUser(t, account);
    fixture = {
      account,
      productId: product.id,
      releaseId: release.id,
      licenseId: license.id,
      licenseKey: license.key,
      userId: user.id,
      userToken: user.token,
      entitlementId: entitlement.id,
      artifactFilename: release.filename,
    };
  });
  afterAll(async () => {
    agent.destroy();
    await t.close();
  });

  it(`answers ${RUNS} generated requests (seed ${SEED}) without a 5xx`, async () => {
    let sent = 0;
    const statuses = new Map<number, number>();
    // the server runs in this process: its memory is this process's (Jest's own included)
    const mib = () => process.memoryUsage().rss / 2 ** 20;
    const heap = () => process.memoryUsage().heapUsed / 2 ** 20;
    (globalThis as { gc?: () => void }).gc?.();
    const startRss = mib();
    const startHeap = heap();
    let peakRss = startRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, mib())), 250);
    await fc.assert(
      fc.asyncProperty(request(fixture), async (r) => {
        const res = await send(t, agent, r);
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const why = problem(r, res);
        if (why) throw new Error(`${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.toString('utf8').slice(0, 200) ?? ''} -> ${why}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    ).finally(() => clearInterval(sampler));
    console.log(`fuzz: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    // settle: idle keep-alive sockets close, the catalogue's TTL and the collector have a chance to run
    await new Promise((resolve) => setTimeout(resolve, 6000));
    (globalThis as { gc?: () => void }).gc?.();
    const endRss = mib();
    console.log(`fuzz: RSS ${startRss.toFixed(0)} MiB at the start, peak ${peakRss.toFixed(0)} MiB, ${endRss.toFixed(0)} MiB after (${((endRss / startRss - 1) * 100).toFixed(0)} %)`);
    // what the JavaScript heap holds after a collection: retained objects, as opposed to pages the allocator keeps
    console.log(`fuzz: JavaScript heap in use ${startHeap.toFixed(0)} MiB at the start, ${heap().toFixed(0)} MiB after`);
    expect(sent).toBeGreaterThanOrEqual(RUNS);
    // the generator reaches past the edge: successes and several kinds of client errors
    expect([...statuses.keys()].filter((s) => s < 300).length).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(4);
  }, Math.max(120_000, RUNS * 60));
});
