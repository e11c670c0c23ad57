import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPERATIONS } from '../../src/openapi/reference';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, createProductToken } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser } from '../support/factories';
import { constrainRelease } from '../support/release.factories';
import { releaseWithFile } from '../support/upgrade.factories';

type Schema = Record<string, unknown>;
type Media = { schema?: Schema; example?: unknown; examples?: unknown };
type Operation = { summary?: string; operationId?: string; requestBody?: { content?: Record<string, Media> }; responses: Record<string, { content?: Record<string, Media> }> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const SUBSCHEMAS = ['properties', 'patternProperties', '$defs'];

/** Every schema in the document, with where it is (JSON pointer). */
function allSchemas(doc: { paths: Record<string, Record<string, Operation>>; components: { schemas?: Record<string, Schema> } }): [string, Schema][] {
  const out: [string, Schema][] = [];
  const visit = (schema: Schema, at: string) => {
    out.push([at, schema]);
    for (const key of SUBSCHEMAS) for (const [name, child] of Object.entries((schema[key] ?? {}) as Record<string, Schema>)) visit(child, `${at}/${key}/${name}`);
    for (const key of ['items', 'additionalProperties', 'not', 'contains']) if (schema[key] && typeof schema[key] === 'object') visit(schema[key] as Schema, `${at}/${key}`);
    for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems']) ((schema[key] ?? []) as Schema[]).forEach((child, i) => visit(child, `${at}/${key}/${i}`));
  };
  for (const [name, schema] of Object.entries(doc.components.schemas ?? {})) visit(schema, `#/components/schemas/${name}`);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      for (const [mt, media] of Object.entries(op.requestBody?.content ?? {})) if (media.schema) visit(media.schema, `${method.toUpperCase()} ${path} request ${mt}`);
      for (const [status, r] of Object.entries(op.responses ?? {})) for (const [mt, media] of Object.entries(r.content ?? {})) if (media.schema) visit(media.schema, `${method.toUpperCase()} ${path} ${status} ${mt}`);
      for (const p of (op as { parameters?: { schema?: Schema; name: string }[] }).parameters ?? []) if (p.schema) visit(p.schema, `${method.toUpperCase()} ${path} parameter ${p.name}`);
    }
  }
  return out;
}

/** `schema` with its $refs to components replaced by the components themselves (for ajv). */
function dereferenced(schema: unknown, components: Record<string, Schema>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => dereferenced(s, components));
  if (!schema || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref) return dereferenced(components[ref.split('/').pop()!], components);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, dereferenced(v, components)]));
}

/** Every "METHOD /path" the express router would answer, in OpenAPI's template syntax. */
function routerRoutes(t: TestApp): string[] {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const express = t.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  const routes: string[] = [];
  // a layer that is a router of its own (the reference page's) contributes its routes
  const layers = express.router.stack.flatMap((layer) => layer.handle?.stack ?? [layer]);
  for (const layer of layers) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}').replace(/\*(\w+)/g, '{$1}');
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let document: { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>>; components: { securitySchemes: Record<string, unknown> } };

  beforeAll(async () => {
    t = await startApp();
    const res = await t.http.get('/openapi.json');
    expect(res.status).toBe(200);
    document = res.body;
  });
  afterAll(() => t.close());

  it('is OpenAPI 3.1 and passes a validator', async () => {
    expect(document.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy
    const result = await validate(structuredClone(document) as never);
    expect(result).toMatchObject({ valid: true });
  });

  it('documents every route of the router, and no route the router lacks', () => {
    const routes = routerRoutes(t).filter((r) => !r.startsWith('GET /docs/')); // the page's own assets
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.length).toBeGreaterThan(50);
    expect([...new Set(routes)].sort()).toEqual([...new Set(documented)].sort());
  });

  it('names every path parameter, an error shape for every operation, and the credential schemes', () => {
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['basic', 'bearer', 'keyQuery', 'license', 'tokenQuery']);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const op of Object.values(item)) {
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const name of names) expect(op.parameters?.some((p) => p.in === 'path' && p.name === name)).toBe(true);
        expect(op.security).toBeDefined();
        if (path.startsWith('/v1') || path.startsWith('/v3')) expect(op.responses.default).toBeDefined();
      }
    }
    const releases = document.paths['/v1/accounts/{account}/releases'];
    expect(Object.keys(releases).sort()).toEqual(['get', 'post']);
    expect(JSON.stringify(releases.post)).toContain('"version"');
    expect(releases.get.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['account', 'page[size]', 'sort']));
  });

  it('has a summary for every operation, from the reference table, which names no operation the document lacks', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item as Record<string, Operation>).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as const));
    expect(operations.length).toBeGreaterThan(80);
    const without = operations.filter(([, op]) => !op.summary?.trim()).map(([key]) => key);
    expect(without).toEqual([]);
    expect(Object.keys(OPERATIONS).filter((key) => !operations.some(([k]) => k === key))).toEqual([]);
  });

  it('has an example for every request and response body, and each JSON example is valid against its schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const components = (document as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas;
    const missing: string[] = [];
    const invalid: string[] = [];
    let bodies = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        const media: [string, Media][] = [
          ...Object.entries(op.requestBody?.content ?? {}).map(([mt, m]): [string, Media] => [`${method.toUpperCase()} ${path} request ${mt}`, m]),
          ...Object.entries(op.responses).flatMap(([status, r]) => Object.entries(r.content ?? {}).map(([mt, m]): [string, Media] => [`${method.toUpperCase()} ${path} ${status} ${mt}`, m])),
        ];
        for (const [where, m] of media) {
          bodies++;
          const example = m.example;
          if (example === undefined || example === null || example === '' || (typeof example === 'object' && Object.keys(example).length === 0)) {
            missing.push(where);
            continue;
          }
          if (/json/.test(where.split(' ').pop()!) && m.schema) {
            const validate = ajv.compile(dereferenced(m.schema, components) as Schema);
            if (!validate(example)) invalid.push(`${where}: ${ajv.errorsText(validate.errors)}`);
          }
        }
      }
    }
    expect(bodies).toBeGreaterThan(150);
    expect(missing).toEqual([]);
    expect(invalid).toEqual([]);
  });

  it('has no empty schema {} (every attribute of every resource is typed)', () => {
    const empty = allSchemas(document as never)
      .filter(([, schema]) => Object.keys(schema).length === 0)
      .map(([at]) => at);
    expect(empty).toEqual([]);
  });

  it('describes what the server answers: live documents of every resource type validate against the published schemas', async () => {
    const app = await startApp({ WEBHOOKS_ALLOW_PRIVATE: 'true' });
    try {
      const res = await app.http.get('/openapi.json');
      const doc = res.body as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      const account = await createAccount(app);
      const admin = api(app, bearer(account.adminToken));
      const a = `/v1/accounts/${account.id}`;
      // first: the changes below are delivered to it
      await admin.post(`${a}/webhook-endpoints`, { data: { type: 'webhook-endpoints', attributes: { url: 'http://127.0.0.1:9/hooks' } } });
      const product = await createProduct(app, account, { code: 'described' });
      const entitlement = await createEntitlement(app, account);
      const license = await createLicense(app, account, product.id);
      const release = await releaseWithFile(app, account, product.id, '1.0.0');
      await constrainRelease(app, account, release.id, [entitlement.id]);
      await createProductToken(app, account, product.id);
      const user = await createUser(app, account);

      const live: [string, string][] = [
        ['/v1/accounts/{account}', a],
        ['/v1/accounts/{account}/users', `${a}/users`],
        ['/v1/accounts/{account}/users/{id}', `${a}/users/${user.id}`],
        ['/v1/accounts/{account}/tokens', `${a}/tokens`],
        ['/v1/accounts/{account}/products', `${a}/products`],
        ['/v1/accounts/{account}/entitlements', `${a}/entitlements`],
        ['/v1/accounts/{account}/licenses', `${a}/licenses`],
        ['/v1/accounts/{account}/releases', `${a}/releases?include=artifact`],
        ['/v1/accounts/{account}/releases/{id}', `${a}/releases/${release.id}`],
        ['/v1/accounts/{account}/releases/{release}/constraints', `${a}/releases/${release.id}/constraints`],
        ['/v1/accounts/{account}/events', `${a}/events?page[size]=100`],
        ['/v1/accounts/{account}/webhook-endpoints', `${a}/webhook-endpoints`],
        ['/v1/accounts/{account}/webhook-deliveries', `${a}/webhook-deliveries`],
        ['/v1/accounts/{account}/me', `${a}/me`],
        ['/v1/accounts/{account}/products/{product}/analytics/versions', `${a}/products/${product.id}/analytics/versions`],
        ['/v1/accounts/{account}/products/{product}/analytics/adoption', `${a}/products/${product.id}/analytics/adoption?days=3`],
        ['/health/ready', '/health/ready'],
      ];
      const failures: string[] = [];
      for (const [template, url] of live) {
        const answer = url.startsWith('/v1') ? await admin.get(url).set('Prefer', 'no-redirect') : await app.http.get(url);
        expect({ url, status: answer.status }).toEqual({ url, status: 200 });
        const media = Object.values(doc.paths[template].get.responses['200'].content ?? {})[0];
        const validate = ajv.compile(dereferenced(media.schema, doc.components.schemas) as Schema);
        if (!validate(answer.body)) failures.push(`${url}: ${ajv.errorsText(validate.errors)}`);
        // something to check (analytics count update checks, which this test makes none of)
        if (!url.includes('/analytics/')) expect({ url, size: JSON.stringify(answer.body.data ?? answer.body).length > 10 }).toEqual({ url, size: true });
      }
      const validateKey = await app.http.post(`${a}/licenses/actions/validate-key`).set('Content-Type', 'application/vnd.api+json').send({ meta: { key: license.key } });
      const keySchema = Object.values(doc.paths['/v1/accounts/{account}/licenses/actions/validate-key'].post.responses['200'].content ?? {})[0].schema;
      const validate = ajv.compile(dereferenced(keySchema, doc.components.schemas) as Schema);
      if (!validate(validateKey.body)) failures.push(`validate-key: ${ajv.errorsText(validate.errors)}`);
      expect(failures).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('serves a reference page whose assets come from this server', async () => {
    const page = await t.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    const init = await t.http.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    // the page embeds the document, whose examples show URLs: only the rest of the script is checked
    const strings = new Set<string>();
    const collect = (x: unknown): void => {
      if (typeof x === 'string') strings.add(JSON.stringify(x).slice(1, -1));
      else if (x && typeof x === 'object') Object.values(x).forEach(collect);
    };
    collect(document);
    let script = init.text;
    for (const text of [...strings].filter((s) => /https?:/.test(s)).sort((a, b) => b.length - a.length)) script = script.split(text).join('');
    expect(script).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)/);
  });
});
