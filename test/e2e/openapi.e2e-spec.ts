import { validate } from '@readme/openapi-parser';
import { startApp, TestApp } from '../support/app';

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

  it('serves a reference page whose assets come from this server', async () => {
    const page = await t.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    const init = await t.http.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)/);
  });
});
