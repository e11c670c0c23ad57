import * as fs from 'node:fs';
import * as path from 'node:path';
import { consoleDirectory, consolePolicy } from '../../src/console/console';
import { startApp, TestApp } from '../support/app';

/**
 * How the server serves the admin console and the customer portal (the pages themselves are
 * driven in Chromium by test/browser/console.browser.mjs): the HTML shells for every path under
 * /admin and /portal/, hashed assets under /console/, a strict CSP, and nothing else changed.
 * `npm test` builds first (pretest), so dist/console exists.
 */
describe('serving the console and the portal', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('answers the console for /admin and every path under it, with a strict CSP and no caching of the shell', async () => {
    for (const url of ['/admin', '/admin/', '/admin/products/5a1d8c5e-3f0b-4a8e-9a57-2f1f7c3b9d10', '/admin/licenses?x=1']) {
      const res = await t.http.get(url);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<div id="app">');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    expect((await t.http.head('/admin')).status).toBe(200);
  });

  it('answers the portal for /portal/<account>, and its assets from /console/ with a long cache', async () => {
    const res = await t.http.get('/portal/acme');
    expect(res.status).toBe(200);
    const asset = res.text.match(/src="(\/console\/assets\/[^"]+\.js)"/)![1];
    const js = await t.http.get(asset);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toMatch(/max-age=31536000/);
    expect((await t.http.get('/console/assets/missing.js')).status).toBe(404);
    expect((await t.http.get('/console/../package.json')).status).toBe(404);
  });

  it('leaves other paths to the API', async () => {
    expect((await t.http.get('/administrator')).body.errors[0].code).toBe('NOT_FOUND');
    expect((await t.http.get('/health')).body).toEqual({ status: 'ok' });
    expect((await t.http.post('/admin')).status).toBe(404);
    expect((await t.http.get('/portal/')).status).toBe(404);
  });

  it('lets the pages reach PUBLIC_URL and the S3 endpoint that upload URLs point at, nothing else', () => {
    expect(consolePolicy({ publicUrl: 'https://dl.example.com/base', storageDriver: 'local' })).toMatch(/connect-src 'self' https:\/\/dl\.example\.com;/);
    const s3 = consolePolicy({ publicUrl: 'https://dl.example.com', storageDriver: 's3', s3: { bucket: 'b', region: 'r', forcePathStyle: false, endpoint: 'https://s3.example.net' } });
    expect(s3).toContain("connect-src 'self' https://dl.example.com https://s3.example.net https://*.s3.example.net;");
    expect(fs.existsSync(path.join(consoleDirectory()!, 'portal.html'))).toBe(true);
  });
});
