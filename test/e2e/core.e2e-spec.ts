import { DataSource } from 'typeorm';
import { ROOT_TOKEN, JSONAPI, startApp, TestApp } from '../support/app';
import { api, bearer, createAccount, createUser, TestAccount, uniqueSlug } from '../support/factories';

function accountBody(slug: string, admin: Record<string, unknown> = { email: `boss@${slug}.test`, password: 'long-enough-pw' }) {
  return {
    data: {
      type: 'accounts',
      attributes: { name: 'Example', slug },
      relationships: { admins: { data: [{ type: 'users', attributes: admin }] } },
    },
  };
}

describe('core: accounts, users, tokens and the JSON:API edge', () => {
  let t: TestApp;
  let acme: TestAccount;
  let other: TestAccount;

  beforeAll(async () => {
    t = await startApp();
    acme = await createAccount(t);
    other = await createAccount(t);
  });
  afterAll(() => t.close());

  describe('account creation', () => {
    it('refuses a request without credentials (401 TOKEN_MISSING)', async () => {
      const res = await api(t).post('/v1/accounts', accountBody(uniqueSlug()));
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
    });

    it('refuses a wrong root token (401 TOKEN_INVALID) and creates nothing', async () => {
      const slug = uniqueSlug();
      const res = await api(t, bearer('not-the-root-token-at-all')).post('/v1/accounts', accountBody(slug));
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('TOKEN_INVALID');
      const retry = await api(t, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody(slug));
      expect(retry.status).toBe(201);
    });

    it('creates the account and its first admin with the root token', async () => {
      const slug = uniqueSlug();
      const res = await api(t, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody(slug));
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toContain(JSONAPI);
      expect(res.headers.location).toBe(`/v1/accounts/${res.body.data.id}`);
      expect(res.body.data).toMatchObject({ type: 'accounts', attributes: { name: 'Example', slug } });
      expect(res.body.included[0]).toMatchObject({ type: 'users', attributes: { email: `boss@${slug}.test`, role: 'admin' } });
      expect(JSON.stringify(res.body)).not.toContain('long-enough-pw');
      const token = await t.http.post(`/v1/accounts/${slug}/tokens`).auth(`boss@${slug}.test`, 'long-enough-pw');
      expect(token.status).toBe(201);
      expect(token.body.data.attributes.kind).toBe('admin-token');
    });

    it("refuses what PostgreSQL cannot store in the first admin's attributes as in any attribute, and creates nothing", async () => {
      const slug = uniqueSlug();
      const root = api(t, bearer(ROOT_TOKEN));
      let deep: unknown = 'x';
      for (let i = 0; i < 40; i++) deep = [deep];
      const cases: Array<[Record<string, unknown>, number, string, string]> = [
        [{ email: `boss@${slug}.test`, password: 'long-enough-pw', firstName: 'Bo\u0000ss' }, 422, 'FIRST_NAME_INVALID', '/data/relationships/admins/data/0/attributes/firstName'],
        [{ email: `boss@${slug}.test`, password: 'long-enough-pw', lastName: deep }, 422, 'LAST_NAME_INVALID', '/data/relationships/admins/data/0/attributes/lastName'],
        [{ email: `boss@${slug}.test`, password: 'long-enough-pw', 'first\u0000Name': 'Boss' }, 400, 'PARAMETER_UNPERMITTED', '/data/relationships/admins/data/0/attributes'],
      ];
      for (const [admin, status, code, pointer] of cases) {
        const res = await root.post('/v1/accounts', accountBody(slug, admin));
        expect(res.status).toBe(status);
        expect(res.body.errors[0]).toMatchObject({ code, source: { pointer } });
      }
      expect((await root.get(`/v1/accounts/${slug}`)).status).toBe(404);
    });

    it('rejects a duplicate slug with 422 SLUG_TAKEN', async () => {
      const res = await api(t, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody(acme.slug));
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'SLUG_TAKEN', source: { pointer: '/data/attributes/slug' } });
    });

    it('validates slug and admin with a pointer per field', async () => {
      const res = await api(t, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody('Not A Slug', { email: 'nope', password: 'short' }));
      expect(res.status).toBe(422);
      const pointers = res.body.errors.map((e: { source: { pointer: string } }) => e.source.pointer);
      expect(pointers).toEqual(
        expect.arrayContaining([
          '/data/attributes/slug',
          '/data/relationships/admins/data/0/attributes/email',
          '/data/relationships/admins/data/0/attributes/password',
        ]),
      );
      expect(res.body.errors.find((e: { source: { pointer: string } }) => e.source.pointer === '/data/attributes/slug').code).toBe('SLUG_INVALID');
    });

    it('rejects a UUID-shaped slug', async () => {
      const res = await api(t, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody('0b6c4a1e-3f0e-4a53-9a5e-6d1c2f3e4a5b'));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].code).toBe('SLUG_INVALID');
    });

    it('is disabled when the server has no ROOT_TOKEN', async () => {
      const closed = await startApp({ ROOT_TOKEN: '' });
      try {
        const res = await api(closed, bearer(ROOT_TOKEN)).post('/v1/accounts', accountBody(uniqueSlug()));
        expect(res.status).toBe(403);
        expect(res.body.errors[0].code).toBe('ACCOUNT_CREATION_DISABLED');
      } finally {
        await closed.close();
      }
    });

    it('shows the account by id or slug to its admin only', async () => {
      const byId = await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}`);
      const bySlug = await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.slug}`);
      expect(byId.status).toBe(200);
      expect(bySlug.body.data.id).toBe(acme.id);
      const user = await createUser(t, acme);
      expect((await api(t, bearer(user.token)).get(`/v1/accounts/${acme.id}`)).status).toBe(403);
    });

    it('answers 404 NOT_FOUND for an unknown account', async () => {
      const res = await api(t, bearer(acme.adminToken)).get('/v1/accounts/no-such-account/users');
      expect(res.status).toBe(404);
      expect(res.body.errors[0].code).toBe('NOT_FOUND');
    });
  });

  describe('credentials', () => {
    it('accepts a bearer token in the header, ?token= and ?auth=token:', async () => {
      expect((await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}/users`)).status).toBe(200);
      expect((await api(t).get(`/v1/accounts/${acme.id}/users?token=${acme.adminToken}`)).status).toBe(200);
      expect((await api(t).get(`/v1/accounts/${acme.id}/users?auth=token:${acme.adminToken}`)).status).toBe(200);
    });

    it('answers many concurrent requests with the same token (each gets its own answer)', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}/users`)));
      expect(results.map((r) => r.status)).toEqual(Array(25).fill(200));
      const mixed = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api(t, bearer(i % 2 ? acme.adminToken : 'admin-0000')).get(`/v1/accounts/${acme.id}/users`)),
      );
      expect(mixed.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 200 : 401)));
    });

    it('requires credentials on closed routes (401 TOKEN_MISSING)', async () => {
      const res = await api(t).get(`/v1/accounts/${acme.id}/users`);
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('TOKEN_MISSING');
    });

    it('refuses an unknown token and a malformed header (401 TOKEN_INVALID)', async () => {
      for (const header of ['Bearer admin-deadbeef', 'Token abc', 'Bearer']) {
        const res = await api(t, header).get(`/v1/accounts/${acme.id}/users`);
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('TOKEN_INVALID');
      }
    });

    it("refuses another account's token (401 TOKEN_INVALID), even by slug", async () => {
      for (const path of [`/v1/accounts/${acme.id}/users`, `/v1/accounts/${acme.slug}/users`]) {
        const res = await api(t, bearer(other.adminToken)).get(path);
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('TOKEN_INVALID');
      }
    });

    it('refuses an unknown license key (401 LICENSE_INVALID) in every form', async () => {
      for (const [header, query] of [
        ['License 000000-000000-000000-000000-000000-000000', ''],
        [undefined, '?key=000000-000000-000000-000000-000000-000000'],
        [undefined, '?auth=license:000000-000000-000000-000000-000000-000000'],
      ] as const) {
        const res = await api(t, header).get(`/v1/accounts/${acme.id}/users${query}`);
        expect(res.status).toBe(401);
        expect(res.body.errors[0].code).toBe('LICENSE_INVALID');
      }
    });

    it('never echoes a secret in an error', async () => {
      const res = await api(t, bearer('admin-supersecretvalue')).get(`/v1/accounts/${acme.id}/users`);
      expect(JSON.stringify(res.body)).not.toContain('supersecretvalue');
    });
  });

  describe('tokens', () => {
    it('issues a token for HTTP Basic credentials, shown once and stored as a digest', async () => {
      const user = await createUser(t, acme);
      const res = await t.http.post(`/v1/accounts/${acme.id}/tokens`).auth(user.email, user.password);
      expect(res.status).toBe(201);
      expect(res.headers.location).toMatch(new RegExp(`/v1/accounts/${acme.id}/tokens/`));
      const secret: string = res.body.data.attributes.token;
      expect(secret).toMatch(/^user-[0-9a-f]{64}$/);
      expect(res.body.data.relationships.bearer.data).toEqual({ type: 'users', id: user.id });
      const shown = await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}/tokens/${res.body.data.id}`);
      expect(shown.status).toBe(200);
      expect(shown.body.data.attributes).not.toHaveProperty('token');
      const rows = await t.app.get((await import('typeorm')).DataSource).query('SELECT digest FROM tokens WHERE id = $1', [res.body.data.id]);
      expect(rows[0].digest).not.toContain(secret);
      expect(rows[0].digest).toHaveLength(64);
    });

    it('refuses wrong Basic credentials with 401 and no token', async () => {
      const res = await t.http.post(`/v1/accounts/${acme.id}/tokens`).auth(acme.adminEmail, 'wrong-password');
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('CREDENTIALS_INVALID');
      const unknown = await t.http.post(`/v1/accounts/${acme.id}/tokens`).auth('nobody@example.test', 'whatever1');
      expect(unknown.status).toBe(401);
    });

    it('refuses Basic credentials of another account', async () => {
      const res = await t.http.post(`/v1/accounts/${acme.id}/tokens`).auth(other.adminEmail, other.adminPassword);
      expect(res.status).toBe(401);
    });

    it('revokes a token: it stops working at once', async () => {
      const user = await createUser(t, acme);
      const me = api(t, bearer(user.token));
      const list = await me.get(`/v1/accounts/${acme.id}/tokens`);
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(1);
      expect((await me.get(`/v1/accounts/${acme.id}/users/${user.id}`)).status).toBe(200);
      const del = await me.delete(`/v1/accounts/${acme.id}/tokens/${list.body.data[0].id}`);
      expect(del.status).toBe(204);
      const after = await me.get(`/v1/accounts/${acme.id}/users/${user.id}`);
      expect(after.status).toBe(401);
      expect(after.body.errors[0].code).toBe('TOKEN_INVALID');
    });

    it("lets a user see only its own tokens; another user's token is 404", async () => {
      const a = await createUser(t, acme);
      const b = await createUser(t, acme);
      const bTokens = await api(t, bearer(b.token)).get(`/v1/accounts/${acme.id}/tokens`);
      const res = await api(t, bearer(a.token)).get(`/v1/accounts/${acme.id}/tokens/${bTokens.body.data[0].id}`);
      expect(res.status).toBe(404);
      expect((await api(t, bearer(a.token)).delete(`/v1/accounts/${acme.id}/tokens/${bTokens.body.data[0].id}`)).status).toBe(404);
      expect((await api(t, bearer(b.token)).get(`/v1/accounts/${acme.id}/users/${b.id}`)).status).toBe(200);
    });

    it('expires a token at its expiry', async () => {
      const user = await createUser(t, acme);
      // an hour ahead: still valid when the next request arrives, however busy the machine
      const expiry = new Date(Date.now() + 3_600_000).toISOString();
      const res = await t.http
        .post(`/v1/accounts/${acme.id}/tokens`)
        .auth(user.email, user.password)
        .set('Content-Type', JSONAPI)
        .send({ data: { type: 'tokens', attributes: { name: 'short-lived', expiry } } });
      expect(res.status).toBe(201);
      expect(res.body.data.attributes).toMatchObject({ name: 'short-lived', expiry });
      const token = res.body.data.attributes.token;
      expect((await api(t, bearer(token)).get(`/v1/accounts/${acme.id}/users/${user.id}`)).status).toBe(200);
      // the hour has passed: the stored expiry is now a second ago (the server compares it with its clock on every request)
      const [, moved] = await t.app.get(DataSource).query(`UPDATE tokens SET expiry = now() - interval '1 second' WHERE id = $1`, [res.body.data.id]);
      expect(moved).toBe(1);
      const later = await api(t, bearer(token)).get(`/v1/accounts/${acme.id}/users/${user.id}`);
      expect(later.status).toBe(401);
      expect(later.body.errors[0].code).toBe('TOKEN_INVALID');
    });

    it('rejects an expiry in the past', async () => {
      const res = await t.http
        .post(`/v1/accounts/${acme.id}/tokens`)
        .auth(acme.adminEmail, acme.adminPassword)
        .set('Content-Type', JSONAPI)
        .send({ data: { type: 'tokens', attributes: { expiry: '2001-01-01T00:00:00Z' } } });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'EXPIRY_INVALID', source: { pointer: '/data/attributes/expiry' } });
    });
  });

  describe('users', () => {
    it('creates, reads, updates and deletes users as an admin; passwords are never returned', async () => {
      const admin = api(t, bearer(acme.adminToken));
      const created = await admin.post(`/v1/accounts/${acme.id}/users`, {
        data: { type: 'users', attributes: { email: 'Jane@Example.test', password: 'jane-password', firstName: 'Jane' } },
      });
      expect(created.status).toBe(201);
      expect(created.body.data.attributes).toMatchObject({ email: 'jane@example.test', firstName: 'Jane', role: 'user' });
      expect(created.body.data.attributes).not.toHaveProperty('password');
      expect(JSON.stringify(created.body)).not.toContain('jane-password');
      const id = created.body.data.id;
      const patched = await admin.patch(`/v1/accounts/${acme.id}/users/${id}`, { data: { type: 'users', attributes: { lastName: 'Doe' } } });
      expect(patched.status).toBe(200);
      expect(patched.body.data.attributes).toMatchObject({ firstName: 'Jane', lastName: 'Doe', fullName: 'Jane Doe' });
      expect((await admin.delete(`/v1/accounts/${acme.id}/users/${id}`)).status).toBe(204);
      expect((await admin.get(`/v1/accounts/${acme.id}/users/${id}`)).status).toBe(404);
    });

    it('rejects a duplicate email, case-insensitively, with 422 EMAIL_TAKEN', async () => {
      const res = await api(t, bearer(acme.adminToken)).post(`/v1/accounts/${acme.id}/users`, {
        data: { type: 'users', attributes: { email: acme.adminEmail.toUpperCase(), password: 'whatever-pw' } },
      });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'EMAIL_TAKEN', source: { pointer: '/data/attributes/email' } });
    });

    it('allows the same email in another account', async () => {
      const res = await api(t, bearer(other.adminToken)).post(`/v1/accounts/${other.id}/users`, {
        data: { type: 'users', attributes: { email: acme.adminEmail, password: 'whatever-pw' } },
      });
      expect(res.status).toBe(201);
    });

    it('lets a user read itself but not others, and not change its role', async () => {
      const a = await createUser(t, acme);
      const b = await createUser(t, acme);
      const asA = api(t, bearer(a.token));
      expect((await asA.get(`/v1/accounts/${acme.id}/users/${a.id}`)).status).toBe(200);
      expect((await asA.get(`/v1/accounts/${acme.id}/users/${b.id}`)).status).toBe(404);
      const list = await asA.get(`/v1/accounts/${acme.id}/users`);
      expect(list.body.data.map((u: { id: string }) => u.id)).toEqual([a.id]);
      const promote = await asA.patch(`/v1/accounts/${acme.id}/users/${a.id}`, { data: { type: 'users', attributes: { role: 'admin' } } });
      expect(promote.status).toBe(403);
      const still = await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}/users/${a.id}`);
      expect(still.body.data.attributes.role).toBe('user');
      const create = await asA.post(`/v1/accounts/${acme.id}/users`, { data: { type: 'users', attributes: { email: 'x@y.test' } } });
      expect(create.status).toBe(403);
    });

    it('refuses a PATCH whose data.id names another user or account (409), and takes back what was read', async () => {
      const admin = api(t, bearer(acme.adminToken));
      const a = await createUser(t, acme);
      const b = await createUser(t, acme);
      const wrong = await admin.patch(`/v1/accounts/${acme.id}/users/${a.id}`, { data: { type: 'users', id: b.id, attributes: { lastName: 'Wrong' } } });
      expect(wrong.status).toBe(409);
      expect(wrong.body.errors[0]).toMatchObject({ code: 'CONFLICT', source: { pointer: '/data/id' } });
      for (const id of [a.id, b.id]) expect((await admin.get(`/v1/accounts/${acme.id}/users/${id}`)).body.data.attributes.lastName).not.toBe('Wrong');
      // read-modify-write: the document as read (read-only attributes included), one attribute changed
      const read = (await admin.get(`/v1/accounts/${acme.id}/users/${a.id}`)).body.data;
      const right = await admin.patch(`/v1/accounts/${acme.id}/users/${a.id}`, { data: { ...read, attributes: { ...read.attributes, lastName: 'Right' } } });
      expect(right.status).toBe(200);
      expect(right.body.data.attributes.lastName).toBe('Right');

      const account = await admin.patch(`/v1/accounts/${acme.id}`, { data: { type: 'accounts', id: other.id, attributes: { name: 'Wrong' } } });
      expect(account.status).toBe(409);
      expect(account.body.errors[0]).toMatchObject({ code: 'CONFLICT', source: { pointer: '/data/id' } });
      expect((await admin.get(`/v1/accounts/${acme.id}`)).body.data.attributes.name).not.toBe('Wrong');
      const renamed = await admin.patch(`/v1/accounts/${acme.id}`, { data: { type: 'accounts', id: acme.id, attributes: { name: 'Acme Renamed' } } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.data.attributes.name).toBe('Acme Renamed');
    });

    it("hides another account's users (404)", async () => {
      const res = await api(t, bearer(acme.adminToken)).get(`/v1/accounts/${acme.id}/users/${other.adminId}`);
      expect(res.status).toBe(404);
    });

    it('paginates with links and meta', async () => {
      const slugAccount = await createAccount(t);
      for (let i = 0; i < 4; i++) await createUser(t, slugAccount);
      const admin = api(t, bearer(slugAccount.adminToken));
      const res = await admin.get(`/v1/accounts/${slugAccount.id}/users?page[size]=2&page[number]=2`);
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(2);
      expect(res.body.meta).toEqual({ count: 5, pages: 3 });
      expect(res.body.links.next).toContain('page[number]=3');
      expect(res.body.links.prev).toContain('page[number]=1');
      expect(res.body.links.last).toContain('page[number]=3');
      const seen: string[] = [];
      let next: string | null = `/v1/accounts/${slugAccount.id}/users?page[cursor]=&page[size]=2`;
      while (next) {
        const page = await admin.get(next);
        expect(page.status).toBe(200);
        seen.push(...page.body.data.map((u: { id: string }) => u.id));
        next = page.body.links.next;
      }
      expect(new Set(seen).size).toBe(5);
      const sparse = await admin.get(`/v1/accounts/${slugAccount.id}/users?fields[users]=email&sort=email`);
      expect(Object.keys(sparse.body.data[0].attributes)).toEqual(['email']);
      const emails = sparse.body.data.map((u: { attributes: { email: string } }) => u.attributes.email);
      expect(emails).toEqual([...emails].sort());
    });
  });

  describe('the JSON:API edge', () => {
    const usersPath = () => `/v1/accounts/${acme.id}/users`;

    it('answers 415 for a body in another media type or with foreign parameters', async () => {
      const plain = await t.http.post(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Content-Type', 'text/plain').send('hello');
      expect(plain.status).toBe(415);
      expect(plain.body.errors[0]).toMatchObject({ status: '415', code: 'MEDIA_TYPE_UNSUPPORTED', source: { header: 'Content-Type' } });
      const charset = await t.http
        .post(usersPath())
        .set('Authorization', bearer(acme.adminToken))
        .set('Content-Type', `${JSONAPI}; charset=utf-8`)
        .send(JSON.stringify({ data: { type: 'users', attributes: { email: 'a@b.test' } } }));
      expect(charset.status).toBe(415);
      const withExt = await t.http
        .post(usersPath())
        .set('Authorization', bearer(acme.adminToken))
        .set('Content-Type', `${JSONAPI}; ext="https://jsonapi.org/ext/atomic"`)
        .send(JSON.stringify({ data: { type: 'users', attributes: { email: `ext-${Date.now()}@b.test` } } }));
      expect(withExt.status).toBe(201);
    });

    it('answers 406 when Accept rules out JSON:API', async () => {
      const res = await t.http.get(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Accept', 'text/html');
      expect(res.status).toBe(406);
      expect(res.body.errors[0].code).toBe('MEDIA_TYPE_UNACCEPTABLE');
      const ok = await t.http.get(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Accept', 'application/json');
      expect(ok.status).toBe(200);
    });

    it('answers 400 for malformed JSON and for a body that is not a JSON:API document', async () => {
      const bad = await t.http.post(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Content-Type', JSONAPI).send('{"data": ');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].code).toBe('JSON_INVALID');
      const notDoc = await api(t, bearer(acme.adminToken)).post(usersPath(), { email: 'x@y.test' });
      expect(notDoc.status).toBe(400);
      expect(notDoc.body.errors[0].code).toBe('DOCUMENT_INVALID');
    });

    it('answers 400 PARAMETER_UNPERMITTED with a pointer for unknown or read-only attributes', async () => {
      for (const attribute of ['favouriteColour', 'created', 'passwordDigest']) {
        const res = await api(t, bearer(acme.adminToken)).post(usersPath(), {
          data: { type: 'users', attributes: { email: 'p@q.test', [attribute]: 'x' } },
        });
        expect(res.status).toBe(400);
        expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_UNPERMITTED', source: { pointer: `/data/attributes/${attribute}` } });
      }
    });

    it('answers 422 with a pointer per invalid field', async () => {
      const res = await api(t, bearer(acme.adminToken)).post(usersPath(), {
        data: { type: 'users', attributes: { email: 'not-an-email', role: 'overlord', password: 'x' } },
      });
      expect(res.status).toBe(422);
      const byPointer = Object.fromEntries(res.body.errors.map((e: { source: { pointer: string }; code: string }) => [e.source.pointer, e.code]));
      expect(byPointer).toEqual({
        '/data/attributes/email': 'EMAIL_INVALID',
        '/data/attributes/role': 'ROLE_INVALID',
        '/data/attributes/password': 'PASSWORD_INVALID',
      });
      const missing = await api(t, bearer(acme.adminToken)).post(usersPath(), { data: { type: 'users', attributes: {} } });
      expect(missing.body.errors[0]).toMatchObject({ code: 'EMAIL_MISSING', source: { pointer: '/data/attributes/email' } });
    });

    it('answers 409 when the resource type does not match the endpoint', async () => {
      const res = await api(t, bearer(acme.adminToken)).post(usersPath(), { data: { type: 'products', attributes: { email: 'a@b.test' } } });
      expect(res.status).toBe(409);
      expect(res.body.errors[0].source.pointer).toBe('/data/type');
    });

    it('answers 413 for a body over 1 MiB', async () => {
      const huge = JSON.stringify({ data: { type: 'users', attributes: { email: 'a@b.test', firstName: 'x'.repeat(1024 * 1024 + 10) } } });
      const res = await t.http.post(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Content-Type', JSONAPI).send(huge);
      expect(res.status).toBe(413);
      expect(res.body.errors[0].code).toBe('REQUEST_TOO_LARGE');
    });

    it('answers 400 PARAMETER_INVALID with source.parameter for bad query parameters', async () => {
      const admin = api(t, bearer(acme.adminToken));
      for (const [query, parameter] of [
        ['page[size]=0', 'page[size]'],
        ['page[size]=101', 'page[size]'],
        ['page[number]=0', 'page[number]'],
        ['page[number]=abc', 'page[number]'],
        ['limit=1000', 'limit'],
        ['sort=favouriteColour', 'sort'],
        ['include=licenses', 'include'],
        ['fields[users]=password', 'fields[users]'],
        ['fields[nothing]=x', 'fields[nothing]'],
        ['page[cursor]=not-an-id', 'page[cursor]'],
        ['order=sideways', 'order'],
      ]) {
        const res = await admin.get(`${usersPath()}?${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter } });
      }
    });

    it('answers 404 for unknown routes and non-UUID ids, never 500', async () => {
      const admin = api(t, bearer(acme.adminToken));
      const route = await admin.get(`/v1/accounts/${acme.id}/nothing-here`);
      expect(route.status).toBe(404);
      expect(route.body.errors[0].code).toBe('NOT_FOUND');
      expect((await admin.get(`${usersPath()}/not-a-uuid`)).status).toBe(404);
      expect((await admin.get(`/v1/accounts/${acme.id}/tokens/not-a-uuid`)).status).toBe(404);
    });

    it("refuses a cursor naming another account's row, revealing nothing of it", async () => {
      const admin = api(t, bearer(acme.adminToken));
      const res = await admin.get(`${usersPath()}?sort=email&page[cursor]=${other.adminId}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'page[cursor]' } });
      const own = await admin.get(`${usersPath()}?sort=email&page[cursor]=${acme.adminId}`);
      expect(own.status).toBe(200);
    });

    it('refuses NUL characters in paths, queries, credentials and attributes without a 500', async () => {
      const admin = api(t, bearer(acme.adminToken));
      expect((await admin.get('/v1/accounts/a%00b/users')).status).toBe(400);
      expect((await admin.get(`${usersPath()}?sort=email%00`)).status).toBe(400);
      expect((await api(t).get(`${usersPath()}?key=abc%00`)).status).toBe(400);
      const basic = await t.http.post(`/v1/accounts/${acme.id}/tokens`).set('Authorization', `Basic ${Buffer.from('a\u0000b:pw').toString('base64')}`);
      expect(basic.status).toBe(401);
      const attr = await admin.post(usersPath(), { data: { type: 'users', attributes: { email: 'nul@example.test', firstName: 'a\u0000b' } } });
      expect(attr.status).toBe(422);
      expect(attr.body.errors[0]).toMatchObject({ code: 'FIRST_NAME_INVALID', source: { pointer: '/data/attributes/firstName' } });
    });

    it('refuses absurdly deep attribute values with 422, not a stack overflow', async () => {
      // written by hand: JSON.stringify itself overflows at this depth
      const deep = `${'['.repeat(5000)}"x"${']'.repeat(5000)}`;
      const raw = `{"data":{"type":"users","attributes":{"email":"deep@example.test","firstName":${deep}}}}`;
      const res = await t.http.post(usersPath()).set('Authorization', bearer(acme.adminToken)).set('Content-Type', JSONAPI).send(raw);
      expect(res.status).toBe(422);
      expect(res.body.errors[0].source.pointer).toBe('/data/attributes/firstName');
    });

    it('refuses timestamps that JavaScript and PostgreSQL read differently (ISO weeks, Feb 30)', async () => {
      for (const expiry of ['2030-W01', '2030-02-30T00:00:00Z']) {
        const res = await t.http
          .post(`/v1/accounts/${acme.id}/tokens`)
          .auth(acme.adminEmail, acme.adminPassword)
          .set('Content-Type', JSONAPI)
          .send({ data: { type: 'tokens', attributes: { expiry } } });
        expect({ expiry, status: res.status }).toEqual({ expiry, status: 422 });
        expect(res.body.errors[0].code).toBe('EXPIRY_INVALID');
      }
    });

    it('carries the request id in the header and in error documents', async () => {
      const res = await api(t).get(usersPath());
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.body.meta.id).toBe(res.headers['x-request-id']);
      expect(res.body.errors[0]).toEqual(expect.objectContaining({ status: '401', code: 'TOKEN_MISSING', title: expect.any(String) }));
    });
  });
});
