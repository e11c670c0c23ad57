import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Each app gets its own Redis key prefix, so that parallel runs on one Redis never share counters. */
function storeEnv(store: 'memory' | 'redis', prefix = `test-${randomUUID().slice(0, 8)}:`): Record<string, string> {
  return store === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {};
}

const LIMITS = {
  RATE_LIMIT_ANONYMOUS_PER_MIN: '5',
  RATE_LIMIT_FAILED_AUTH_PER_15MIN: '3',
  RATE_LIMIT_SIGNIN_PER_15MIN: '2',
  RATE_LIMIT_CREDENTIAL_PER_MIN: '4',
};

function expect429(res: { status: number; headers: Record<string, string>; body: { errors?: Array<{ code: string; status: string }> } }) {
  expect(res.status).toBe(429);
  expect(res.body.errors?.[0]).toMatchObject({ status: '429', code: 'RATE_LIMITED' });
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.headers['ratelimit-remaining']).toBe('0');
}

describe.each(['memory', 'redis'] as const)('rate limits (%s store)', (store) => {
  // a fresh app per test: each starts with empty counters (a fresh Redis prefix)
  let t: TestApp;
  let setup: TestApp;
  let account: TestAccount;
  let licenseKey: string;

  beforeAll(async () => {
    // accounts and licenses are made through an unlimited app on the same database
    setup = await startApp();
    account = await createAccount(setup);
    const product = await createProduct(setup, account, { distributionStrategy: 'OPEN' });
    licenseKey = (await createLicense(setup, account, product.id)).key;
  });
  afterAll(async () => setup.close());
  afterEach(async () => t?.close());

  it('counts anonymous requests per address and answers 429 with Retry-After and RateLimit-* beyond the limit', async () => {
    t = await startApp({ ...LIMITS, ...storeEnv(store) });
    const path = `/v1/accounts/${account.id}/releases`;
    for (let i = 0; i < 5; i++) {
      const res = await api(t).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(res.headers['ratelimit-remaining']).toBe(String(4 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    expect429(await api(t).get(path));
    // health checks and a valid credential are not anonymous
    expect((await t.http.get('/health')).status).toBe(200);
    expect((await api(t, licenseAuth(licenseKey)).get(path)).status).toBe(200);
  });

  it('stops credential guessing: after the failed-check limit every credential from that address is 429, the right one too', async () => {
    t = await startApp({ ...LIMITS, ...storeEnv(store) });
    const path = `/v1/accounts/${account.id}/releases`;
    for (let i = 0; i < 3; i++) {
      const res = await api(t, licenseAuth(`WRONG-KEY-${i}-000000`)).get(path);
      expect(res.status).toBe(401);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(res.headers['ratelimit-remaining']).toBe(String(2 - i));
    }
    expect429(await api(t, licenseAuth('WRONG-KEY-X-000000')).get(path));
    expect429(await api(t, licenseAuth(licenseKey)).get(path));
    expect429(await api(t, bearer('not-a-token')).get(path));
    // the /v3 routes count too (an unknown product id is a failed check)
    expect((await t.http.get(`/v3/releases/update?productId=${randomUUID()}&platform=linux&version=1.0.0&key=${licenseKey}`)).status).toBe(429);
  });

  it('limits failed sign-ins per email from an address (before the password is even hashed), not other emails', async () => {
    t = await startApp({ ...LIMITS, RATE_LIMIT_FAILED_AUTH_PER_15MIN: '100', ...storeEnv(store) });
    const user = await createUser(setup, account);
    const tokens = `/v1/accounts/${account.id}/tokens`;
    expect((await t.http.post(tokens).auth(user.email, 'wrong-password-1')).status).toBe(401);
    expect((await t.http.post(tokens).auth(user.email, 'wrong-password-2')).status).toBe(401);
    expect429(await t.http.post(tokens).auth(user.email, 'wrong-password-3'));
    expect429(await t.http.post(tokens).auth(user.email, user.password));
    // the admin's email is not locked by the user's failures
    expect((await t.http.post(tokens).auth(account.adminEmail, account.adminPassword)).status).toBe(201);
  });

  it('limits failed sign-ins per email and client network: a guesser elsewhere cannot lock the user out', async () => {
    t = await startApp({ ...LIMITS, RATE_LIMIT_SIGNIN_PER_15MIN: '10', RATE_LIMIT_FAILED_AUTH_PER_15MIN: '100', RATE_LIMIT_ANONYMOUS_PER_MIN: '100', TRUST_PROXY: 'loopback', ...storeEnv(store) });
    const user = await createUser(setup, account);
    const signIn = (ip: string, password: string) => t.http.post(`/v1/accounts/${account.id}/tokens`).set('X-Forwarded-For', ip).auth(user.email, password);
    // network A guesses 12 times: 10 wrong passwords are checked, then A is refused for this email
    for (let i = 0; i < 10; i++) expect((await signIn('203.0.113.5', `wrong-password-${i}`)).status).toBe(401);
    expect429(await signIn('203.0.113.5', 'wrong-password-10'));
    expect429(await signIn('203.0.113.5', user.password));
    // the user, elsewhere, still signs in (IPv4 and IPv6)
    expect((await signIn('198.51.100.9', user.password)).status).toBe(201);
    expect((await signIn('2001:db8:77:1::5', user.password)).status).toBe(201);
    // an IPv6 guesser is one network per /64: rotating addresses inside it gains no guesses
    for (let i = 1; i <= 10; i++) expect((await signIn(`2001:db8:66:1::${i.toString(16)}`, `wrong-password-${i}`)).status).toBe(401);
    expect429(await signIn('2001:db8:66:1:ffff:ffff:ffff:ff', user.password));
    expect((await signIn('2001:db8:66:2::1', user.password)).status).toBe(201);
  });

  it('keys per-address limits by client network: all addresses of an IPv6 /64 share a budget, IPv4 addresses do not', async () => {
    t = await startApp({ ...LIMITS, TRUST_PROXY: 'loopback', ...storeEnv(store) });
    const path = `/v1/accounts/${account.id}/releases`;
    const get = (ip: string, authorization?: string) => (authorization ? api(t, authorization) : api(t)).get(path).set('X-Forwarded-For', ip);
    // failed credential checks: three addresses of one /64 use up its budget of 3
    for (let i = 1; i <= 3; i++) expect((await get(`2001:db8:1:2::${i}`, licenseAuth(`WRONG-KEY-${i}-000000`))).status).toBe(401);
    expect429(await get('2001:db8:1:2:ffff::1', licenseAuth(licenseKey)));
    expect((await get('2001:db8:1:3::1', licenseAuth(licenseKey))).status).toBe(200);
    // requests without a credential: five per minute per /64, per IPv4 address
    for (let i = 1; i <= 5; i++) expect((await get(`2001:db8:9:9::${i}`)).status).toBe(200);
    expect429(await get('2001:db8:9:9::6'));
    for (let i = 0; i < 5; i++) expect((await get('203.0.113.20')).status).toBe(200);
    expect429(await get('203.0.113.20'));
    expect((await get('203.0.113.21')).status).toBe(200);
    // an IPv4-mapped IPv6 address is the IPv4 address
    expect429(await get('::ffff:203.0.113.20'));
  });

  it('limits requests per valid credential, each credential on its own', async () => {
    t = await startApp({ ...LIMITS, ...storeEnv(store) });
    const path = `/v1/accounts/${account.id}/releases`;
    for (let i = 0; i < 4; i++) {
      const res = await api(t, bearer(account.adminToken)).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('4');
    }
    expect429(await api(t, bearer(account.adminToken)).get(path));
    expect((await api(t, licenseAuth(licenseKey)).get(path)).status).toBe(200);
  });

  it('RATE_LIMIT=off lifts every limit', async () => {
    t = await startApp({ ...LIMITS, RATE_LIMIT: 'off', ...storeEnv(store) });
    const path = `/v1/accounts/${account.id}/releases`;
    for (let i = 0; i < 8; i++) {
      const res = await api(t).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('never limits signed download URLs', async () => {
    t = await startApp({ ...LIMITS, RATE_LIMIT_ANONYMOUS_PER_MIN: '1', ...storeEnv(store) });
    // a (forged) signed URL of an unknown artifact answers 404, never 429, however often it is asked
    for (let i = 0; i < 4; i++) {
      const res = await t.http.get(`/v1/accounts/${account.id}/artifacts/${randomUUID()}/app.tar.gz?expires=1&g=x&signature=${'0'.repeat(64)}`);
      expect(res.status).toBe(404);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('rate limits shared through Redis', () => {
  let setup: TestApp;
  let account: TestAccount;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    setup = await startApp();
    account = await createAccount(setup);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await setup.close();
  });

  it('two instances on one Redis share one budget (in memory each would allow twice as much)', async () => {
    const env = { ...LIMITS, RATE_LIMIT_ANONYMOUS_PER_MIN: '4', ...storeEnv('redis') };
    const [a, b] = [await startApp(env), await startApp(env)];
    apps.push(a, b);
    const path = `/v1/accounts/${account.id}/releases`;
    expect((await api(a).get(path)).status).toBe(200);
    expect((await api(b).get(path)).status).toBe(200);
    expect((await api(a).get(path)).status).toBe(200);
    const last = await api(b).get(path);
    expect(last.status).toBe(200);
    expect(last.headers['ratelimit-remaining']).toBe('0');
    expect429(await api(a).get(path));
    expect429(await api(b).get(path));
  });

  it('keeps serving (counting per instance) when Redis does not answer', async () => {
    // a port nobody listens on
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const c = await startApp({ ...LIMITS, REDIS_URL: `redis://127.0.0.1:${port}` });
    apps.push(c);
    const path = `/v1/accounts/${account.id}/releases`;
    for (let i = 0; i < 5; i++) expect((await api(c).get(path)).status).toBe(200);
    expect429(await api(c).get(path));
  });
});

describe('password checks under load', () => {
  // a slow hash (cost 13: hundreds of ms) and one check at a time with a queue of one: the pool fills at once
  const SLOW = { PASSWORD_HASH_COST: '13', PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1', TRUST_PROXY: 'loopback' };
  let t: TestApp;
  afterEach(async () => t?.close());

  const signIn = (account: TestAccount, ip: string, email: string, password: string) =>
    t.http.post(`/v1/accounts/${account.id}/tokens`).set('X-Forwarded-For', ip).auth(email, password);

  /** Wrong passwords for unknown emails from distinct addresses, all at once; resolves with the first 503. */
  function flood(account: TestAccount, count: number) {
    // each request awaited once (a supertest request sends itself again on every then)
    const answers = Array.from({ length: count }, async (_, i) => await signIn(account, `192.0.2.${i + 1}`, `nobody-${i}@example.test`, 'guess-guess'));
    const first503 = Promise.any(answers.map(async (a) => ((await a).status === 503 ? a : Promise.reject(new Error('not 503')))));
    return { all: Promise.all(answers), first503 };
  }

  it('checks passwords on a bounded pool: beyond its queue a sign-in is 503 with Retry-After, the unknown email like a known one', async () => {
    t = await startApp(SLOW);
    const account = await createAccount(t);
    const { all, first503 } = flood(account, 6);
    const busy = await first503;
    expect(busy.body.errors[0]).toMatchObject({ status: '503', code: 'PASSWORD_HASHING_BUSY' });
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const statuses = (await all).map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(1);
  });

  it('answers a failed sign-in no sooner than SIGNIN_FAILURE_DELAY_MS after it arrived (wrong password, limited, busy alike)', async () => {
    t = await startApp({ SIGNIN_FAILURE_DELAY_MS: '400', RATE_LIMIT_SIGNIN_PER_15MIN: '1', TRUST_PROXY: 'loopback' });
    const account = await createAccount(t);
    const timed = async (password: string) => {
      const started = Date.now();
      const res = await signIn(account, '203.0.113.9', account.adminEmail, password);
      return { status: res.status, ms: Date.now() - started };
    };
    const wrong = await timed('wrong-password');
    expect(wrong.status).toBe(401);
    expect(wrong.ms).toBeGreaterThanOrEqual(400);
    const limited = await timed(account.adminPassword);
    expect(limited.status).toBe(429);
    expect(limited.ms).toBeGreaterThanOrEqual(400);
    // a success is not held (nothing asserted on its speed: this machine may be busy)
    expect((await signIn(account, '198.51.100.20', account.adminEmail, account.adminPassword)).status).toBe(201);
  });

  it('lets a user who signed in from this network before pass the queue of other sign-ins', async () => {
    t = await startApp(SLOW);
    const account = await createAccount(t);
    expect((await signIn(account, '198.51.100.7', account.adminEmail, account.adminPassword)).status).toBe(201);
    const { all, first503 } = flood(account, 4);
    await first503; // the pool is full: one check running, one waiting
    expect((await signIn(account, '198.51.100.7', account.adminEmail, account.adminPassword)).status).toBe(201);
    await all;
  });
});
