// npm run test:browser (second part): the admin console and the customer portal in a real headless
// Chromium (Debian's chromium package), against the real server on a fresh PostgreSQL database.
// It signs in, creates a product and releases, publishes by dropping a file (the upload finishes,
// the release shows PUBLISHED), moves the rollout slider, yanks with confirmation, constrains a
// release, filters the releases table by platform (a release with many files found by its second
// file's platform), manages licenses and webhooks, sees the versions chart and today's point of
// the share-on-latest series filled by real update checks,
// downloads from the portal with a key (bytes compared) and checks that a key without the
// entitlement does not see the constrained file. It times the first page of a product with 100,000
// releases, checks the first page's script budget, runs axe-core on every page and writes a
// screenshot of every page at desktop and 390 px width (the folder is printed at the end).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import pg from 'pg';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MAIN = path.resolve('dist/src/main.js');
const SHOTS = path.resolve(process.env.CONSOLE_SCREENSHOTS ?? 'test/browser/screenshots');
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCRIPT_BUDGET = 300 * 1024;
const BIG_RELEASES = 100_000;
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const { freeLoopbackPort } = createRequire(import.meta.url)(path.resolve('dist/src/database/embedded-postgres.js'));

const report = [];
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`test:browser (console) FAILED: ${message}`);
};
const check = (ok, message) => ok || fail(message);
const step = (message) => console.log(`  - ${message}`);

/** Polls `test` until it holds (true) or `ms` pass (false). */
async function until(test, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function waitFor(url, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- a fresh database on the machine's PostgreSQL (an embedded one when none answers) ----
const dbName = `shipgate_console_${process.pid}_${Date.now()}`;
let databaseUrl = process.env.DATABASE_URL;
let admin = null;
if (!databaseUrl) {
  admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  } catch {
    await admin.end().catch(() => undefined);
    admin = null; // the server starts an embedded PostgreSQL under DATA_DIR
  }
}

const port = await freeLoopbackPort();
const origin = `http://127.0.0.1:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-console-'));
const rootToken = randomBytes(24).toString('hex');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME ?? dataDir,
  PORT: String(port),
  DATA_DIR: dataDir,
  PUBLIC_URL: origin,
  ROOT_TOKEN: rootToken,
  LOG_LEVEL: 'warn',
  RATE_LIMIT: 'off',
  WEBHOOKS_ALLOW_PRIVATE: 'true',
  ANALYTICS_FLUSH_MS: '200',
  PASSWORD_HASH_COST: '4',
};
if (databaseUrl) env.DATABASE_URL = databaseUrl;
const server = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'inherit', 'inherit'] });

// a webhook receiver that always fails, so deliveries wait for a retry
const hooks = [];
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    hooks.push(req.headers['webhook-id']);
    res.writeHead(500).end('no');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));

/** A JSON:API call from the test itself (seeding and update checks). */
async function api(method, url, { token, license, body, headers = {} } = {}) {
  const res = await fetch(`${origin}${url}`, {
    method,
    redirect: 'manual',
    headers: {
      Accept: 'application/vnd.api+json',
      'Keygen-Version': '1.1',
      ...(body ? { 'Content-Type': 'application/vnd.api+json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : license ? { Authorization: `License ${license}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const browserArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let browser;
let context;
try {
  await waitFor(`${origin}/health/ready`, 60_000);
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });

  // ---- the account, and a product with 100,000 releases written straight into the database ----
  const email = 'admin@acme.test';
  const password = 'correct horse battery';
  const created = await api('POST', '/v1/accounts', {
    token: rootToken,
    body: { data: { type: 'accounts', attributes: { name: 'Acme', slug: 'acme' }, relationships: { admins: { data: [{ type: 'users', attributes: { email, password } }] } } } },
  });
  if (created.status !== 201) throw new Error(`account creation answered ${created.status}: ${JSON.stringify(created.json)}`);
  const accountId = created.json.data.id;
  const signin = await fetch(`${origin}/v1/accounts/acme/tokens`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` } });
  const adminToken = (await signin.json()).data.attributes.token;
  const big = await api('POST', '/v1/accounts/acme/products', { token: adminToken, body: { data: { type: 'products', attributes: { name: 'Big Catalogue', code: 'big' } } } });
  const bigId = big.json.data.id;
  const seeded = Date.now();
  // (with the embedded fallback the test has no connection of its own: the big table is then skipped, loudly)
  if (databaseUrl) {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO releases (id, account_id, product_id, version, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key,
         channel, status, created, updated, critical, multi_artifact)
       SELECT gen_random_uuid(), $1, $2, (i / 1000) || '.' || ((i / 10) % 100) || '.' || (i % 10), i / 1000, (i / 10) % 100, i % 10, true, '{}',
              'stable', 'PUBLISHED', now() - (($3 - i) * interval '1 minute'), now() - (($3 - i) * interval '1 minute'), false, true
         FROM generate_series(0, $3 - 1) AS i`,
      [accountId, bigId, BIG_RELEASES],
    );
    await db.query('ANALYZE releases');
    await db.end();
    step(`seeded ${BIG_RELEASES} releases in ${Date.now() - seeded} ms`);
  }

  // an OPEN product with one published file, for the portal's anonymous view
  const open = await api('POST', '/v1/accounts/acme/products', { token: adminToken, body: { data: { type: 'products', attributes: { name: 'Acme Viewer (free)', distributionStrategy: 'OPEN' } } } });
  const openRelease = await api('POST', '/v1/accounts/acme/releases', {
    token: adminToken,
    body: { data: { type: 'releases', attributes: { version: '3.1.0', channel: 'stable', status: 'PUBLISHED', description: 'A free viewer.' }, relationships: { product: { data: { type: 'products', id: open.json.data.id } } } } },
  });
  const viewerBytes = Buffer.from('viewer bytes\n');
  const viewerArtifact = await api('POST', '/v1/accounts/acme/artifacts', {
    token: adminToken,
    headers: { Prefer: 'no-redirect' },
    body: { data: { type: 'artifacts', attributes: { filename: 'viewer-3.1.0.zip', filetype: 'zip', filesize: viewerBytes.length, platform: 'linux' }, relationships: { release: { data: { type: 'releases', id: openRelease.json.data.id } } } } },
  });
  const put = await fetch(viewerArtifact.json.data.links.redirect, { method: 'PUT', body: viewerBytes });
  check(put.ok, `the OPEN product's upload answered ${put.status}`);

  // ---- the browser ----
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: browserArgs });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const foreign = [];
  const consoleErrors = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol !== 'data:' && url.protocol !== 'blob:') foreign.push(req.url());
  });
  page.on('console', (msg) => msg.type() === 'error' && !/status of (4|5)\d\d/.test(msg.text()) && consoleErrors.push(msg.text()));
  page.on('pageerror', (error) => consoleErrors.push(String(error)));

  /** axe-core in the page: no serious or critical violation. */
  async function scan(name, p) {
    await p.evaluate(AXE);
    const result = await p.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of bad) fail(`axe on ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    return result.violations.length;
  }
  const pages = [];
  /** A screenshot at desktop width and at 390 px, and an accessibility scan. */
  async function shoot(name, p = page) {
    await p.waitForLoadState('networkidle');
    const violations = await scan(name, p);
    const desktop = path.join(SHOTS, `${name}-desktop.png`);
    await p.screenshot({ path: desktop, fullPage: true });
    await p.setViewportSize({ width: 390, height: 844 });
    await p.waitForTimeout(150);
    const phone = path.join(SHOTS, `${name}-390.png`);
    await p.screenshot({ path: phone, fullPage: true });
    await scan(`${name} at 390 px`, p);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    const wide = await p.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
        .slice(0, 4)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}@${Math.round(e.getBoundingClientRect().right)}`),
    );
    check(overflow <= 1, `${name} scrolls sideways at 390 px (${overflow} px too wide: ${wide.join(', ')})`);
    await p.setViewportSize({ width: 1280, height: 900 });
    pages.push({ name, violations, desktop, phone });
  }
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 15_000 });
  const confirm = async (button) => {
    await page.getByRole('button', { name: button, exact: true }).first().click();
    await page.locator('dialog[open]').getByRole('button', { name: button, exact: true }).click();
  };

  // ---- sign in; the first page's script budget ----
  const scripts = [];
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script') scripts.push(res);
  });
  await page.goto(`${origin}/admin`, { waitUntil: 'networkidle' });
  await heading('Sign in to Shipgate');
  let scriptBytes = 0;
  for (const res of scripts) scriptBytes += zlib.gzipSync(await res.body(), { level: 9 }).length;
  report.push(`first load of /admin: ${scripts.length} script file(s), ${(scriptBytes / 1024).toFixed(1)} KB gzip (budget 300 KB)`);
  check(scripts.length > 0 && scriptBytes < SCRIPT_BUDGET, `the first page's scripts weigh ${scriptBytes} bytes gzip`);
  const csp = (await fetch(`${origin}/admin`)).headers.get('content-security-policy') ?? '';
  check(/script-src 'self'/.test(csp) && /default-src 'none'/.test(csp), `the console's CSP is missing or loose: ${csp}`);
  await shoot('01-sign-in');
  await page.getByLabel('Account (slug or id)').fill('acme');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  step(`a wrong password shows the API's detail: "${(await page.getByRole('alert').textContent()).trim()}"`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading('Products');
  check(await page.evaluate(() => document.cookie === '' && !!sessionStorage.getItem('shipgate.admin')), 'the token is not (only) in sessionStorage');
  step('signed in; the token is in sessionStorage, no cookie');

  // ---- a product and its first release, published by dropping a file ----
  const newProduct = page.getByRole('form', { name: 'New product' });
  await newProduct.getByLabel('Name').fill('Acme App');
  await newProduct.getByLabel('Code (optional)').fill('acme-app');
  await newProduct.getByRole('button', { name: 'Create product' }).click();
  await page.getByRole('link', { name: 'Acme App', exact: true }).click();
  await heading('Acme App');
  await page.getByText('No release matches.').waitFor();
  const appId = page.url().split('/').pop();
  await shoot('03-product-empty');

  async function createRelease(version, changelog) {
    const form = page.getByRole('form', { name: 'New release' });
    await form.getByLabel('Version').fill(version);
    await form.getByLabel('Changelog (optional)').fill(changelog);
    await form.getByRole('button', { name: 'Create draft release' }).click();
    await heading(`Version ${version}`);
    return page.url().split('/').pop();
  }
  /** Drops files on the release page's drop zone: a real drop event carrying a DataTransfer built in the page. */
  async function drop(files) {
    await page.getByTestId('dropzone').evaluate((zone, list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'application/octet-stream' }));
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') })));
  }
  const statusIs = (status) => page.getByTestId('release-status').filter({ hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: 20_000 });

  const v1Bytes = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < v1Bytes.length; i++) v1Bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  const v1 = await createRelease('1.0.0', 'First release.\n- exports PDF');
  await drop([{ name: 'acme-1.0.0-linux-amd64.tar.gz', bytes: v1Bytes }]);
  await page.locator('progress[aria-label="Upload of acme-1.0.0-linux-amd64.tar.gz"]').waitFor();
  await page.locator('[data-upload="done"]').waitFor({ timeout: 30_000 });
  await statusIs('PUBLISHED');
  const sha = createHash('sha256').update(v1Bytes).digest('hex');
  await page.locator('#artifacts').getByText(sha).waitFor();
  step('dropped a 3 MiB file: the progress bar reached Done, the release shows PUBLISHED and the server\'s SHA-256 matches');

  // rollout slider (keyboard) and the critical switch
  const slider = page.getByRole('slider');
  await slider.focus();
  await page.keyboard.press('Home');
  await page.getByText('Rollout: 0% of licenses').waitFor();
  const releaseNow = async () => (await api('GET', `/v1/accounts/acme/releases/${v1}`, { token: adminToken })).json.data.attributes;
  check(await until(async () => (await releaseNow()).rolloutPercentage === 0), `the slider did not set the rollout to 0 (${(await releaseNow()).rolloutPercentage})`);
  await page.getByRole('slider').focus();
  await page.keyboard.press('End');
  await page.getByText('Rollout: 100% of licenses').waitFor();
  await page.getByRole('switch', { name: 'Critical' }).check();
  const both = async () => {
    const a = await releaseNow();
    return a.rolloutPercentage === 100 && a.critical === true;
  };
  check(await until(both), `slider/switch did not reach the API: ${JSON.stringify(await releaseNow())}`);
  await page.getByRole('switch', { name: 'Critical' }).and(page.locator(':checked')).waitFor();
  step('moved the rollout slider to 0 % and back to 100 %, switched critical on');
  // the stepping-stone switch reaches the API, and back off
  await page.getByRole('switch', { name: 'Required (stepping stone)' }).check();
  check(await until(async () => (await releaseNow()).required === true), `the required switch did not reach the API: ${JSON.stringify(await releaseNow())}`);
  await page.getByRole('switch', { name: 'Required (stepping stone)' }).uncheck();
  check(await until(async () => (await releaseNow()).required === false), `switching required off did not reach the API: ${JSON.stringify(await releaseNow())}`);
  step('switched required (stepping stone) on and off again');
  await shoot('04-release');

  // a failing action shows the API's detail: publishing an empty draft
  await page.getByRole('link', { name: 'Releases', exact: true }).click();
  await heading('Acme App');
  const v2 = await createRelease('2.0.0', 'Second release.');
  await confirm('Publish');
  await statusIs('PUBLISHED');
  await drop([{ name: 'acme-2.0.0-linux-amd64.tar.gz', bytes: Buffer.from('two') }]);
  await page.locator('[data-upload="done"]').waitFor({ timeout: 30_000 });
  await confirm('Yank');
  await statusIs('YANKED');
  step('published 2.0.0, uploaded its file, yanked it after confirming');
  await page.getByRole('link', { name: 'Releases', exact: true }).click();
  await heading('Acme App');
  const filters = page.getByRole('form', { name: 'Filter releases' });
  await filters.getByLabel('Status').selectOption('YANKED');
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  const onlyYanked = async () => (await page.locator('#releases tbody tr td:first-child a').allTextContents()).join(',') === '2.0.0';
  check(await until(onlyYanked), `the status filter shows ${(await page.locator('#releases tbody tr td:first-child a').allTextContents()).join(',')}`);
  check(page.url().includes('status=YANKED'), 'the filter is not in the address (not shareable)');
  step('the status filter narrows the table to the yanked release');
  await page.locator('#releases').getByRole('link', { name: '2.0.0', exact: true }).click();
  await heading('Version 2.0.0');
  await page.getByRole('button', { name: 'Back to draft', exact: true }).click();
  await page.locator('dialog[open]').getByRole('button', { name: 'Move to draft' }).click();
  await statusIs('DRAFT');
  step('moved the yanked 2.0.0 back to draft after confirming');

  // ---- entitlements and licenses ----
  await page.getByRole('link', { name: 'Licenses', exact: true }).click();
  await heading('Licenses');
  await page.getByText('No licenses yet.').waitFor();
  const entForm = page.getByRole('form', { name: 'New entitlement' });
  await entForm.getByLabel('Entitlement name').fill('Pro features');
  await entForm.getByLabel('Entitlement code').fill('PRO');
  await entForm.getByRole('button', { name: 'Create entitlement' }).click();
  await page.getByText('Pro features · PRO').waitFor();
  async function createLicense(name) {
    const form = page.getByRole('form', { name: 'New license' });
    await form.getByLabel('Product').selectOption({ label: 'Acme App' });
    await form.getByLabel('Name (optional)').fill(name);
    await form.getByRole('button', { name: 'Create license' }).click();
    await page.getByText(`License key of ${name}.`).waitFor();
    return (await page.locator('[data-secret]').textContent()).trim();
  }
  const basicKey = await createLicense('Basic customer');
  const proKey = await createLicense('Pro customer');
  await createLicense('Former customer');
  await page.locator('#licenses').getByRole('link', { name: 'Pro customer', exact: true }).waitFor();
  await shoot('05-licenses');
  await page.locator('#licenses').getByRole('link', { name: 'Pro customer', exact: true }).click();
  await heading(/Pro customer/);
  await page.getByLabel('Attach entitlement').selectOption({ label: 'Pro features (PRO)' });
  await page.getByRole('button', { name: 'Attach', exact: true }).click();
  await page.getByRole('button', { name: 'Detach Pro features' }).waitFor();
  check(!(await page.getByText(proKey).count()), 'the license page shows the key without being asked');
  await page.getByRole('button', { name: 'Reveal key' }).click();
  await page.getByText(proKey).waitFor();
  // a version pin, saved and read back by the API; the explain page below shows its effect
  await page.getByRole('textbox', { name: 'Version pin' }).fill('<1.1');
  await page.getByRole('button', { name: 'Save pin' }).click();
  await page.getByText('Saved').waitFor();
  const proLicense = (await api('GET', `/v1/accounts/acme/licenses?limit=100`, { token: adminToken })).json.data.find((l) => l.attributes.name === 'Pro customer');
  check(proLicense.attributes.versionPin === '<1.1', `the pin did not reach the API: ${JSON.stringify(proLicense.attributes.versionPin)}`);
  step('pinned the Pro customer to <1.1');
  await shoot('06-license');
  await page.getByRole('link', { name: 'Licenses', exact: true }).first().click();
  await page.locator('#licenses').getByRole('link', { name: 'Former customer', exact: true }).click();
  await heading(/Former customer/);
  await confirm('Suspend');
  await page.getByRole('heading', { level: 1, name: /SUSPENDED/ }).waitFor();
  step('created an entitlement and three licenses (keys shown once), attached PRO to one, suspended another');

  // a release only PRO licenses may download
  await page.goto(`${origin}/admin/products/${appId}`);
  await heading('Acme App');
  const v11 = await createRelease('1.1.0', 'Pro-only build.');
  await page.getByLabel('Require entitlement').selectOption({ label: 'Pro features (PRO)' });
  await page.getByRole('button', { name: 'Add constraint' }).click();
  await page.getByText('Requires Pro features').waitFor();
  const proBytes = Buffer.from('pro build bytes\n');
  await drop([{ name: 'acme-1.1.0-pro-linux-amd64.tar.gz', bytes: proBytes }]);
  await page.locator('[data-upload="done"]').waitFor({ timeout: 30_000 });
  await statusIs('PUBLISHED');
  step('1.1.0 requires the PRO entitlement, its file uploaded and published');
  // a second file, for another platform: the releases table's platform filter finds 1.1.0 by it
  // (a release with many artifacts shows its first file's platform, linux/amd64, as its own)
  await drop([{ name: 'acme-1.1.0-pro-setup.exe', bytes: Buffer.from('pro windows build\n') }]);
  await page.locator('li.upload[data-upload="done"]', { hasText: 'acme-1.1.0-pro-setup.exe' }).waitFor({ timeout: 30_000 });
  await page.locator('#artifacts').getByText('windows/amd64').waitFor();
  await page.getByRole('link', { name: 'Releases', exact: true }).click();
  await heading('Acme App');
  const shownVersions = async () => (await page.locator('#releases tbody tr td:first-child a').allTextContents()).map((v) => v.trim());
  async function filterByPlatform(platform) {
    const form = page.getByRole('form', { name: 'Filter releases' });
    await form.getByLabel('Platform', { exact: true }).fill(platform);
    await form.getByRole('button', { name: 'Apply filters' }).click();
  }
  await filterByPlatform('windows');
  check(await until(async () => (await shownVersions()).join(',') === '1.1.0'), `the platform filter "windows" shows ${(await shownVersions()).join(',')} (expected 1.1.0, by its second file)`);
  check(page.url().includes('platform=windows'), 'the platform filter is not in the address');
  await filterByPlatform('linux');
  check(
    await until(async () => (await shownVersions()).sort().join(',') === '1.0.0,1.1.0,2.0.0'),
    `the platform filter "linux" shows ${(await shownVersions()).join(',')} (expected 1.0.0, 1.1.0 and 2.0.0, whose files are linux/amd64)`,
  );
  await filterByPlatform('darwin');
  await page.getByText('No release matches.').waitFor();
  step('the platform filter finds releases with many files by any of their files: windows -> 1.1.0, linux -> 1.0.0, 1.1.0, 2.0.0, darwin -> none');

  // ---- webhooks: an endpoint, its delivery log, a retry ----
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await heading('Webhooks');
  const hookForm = page.getByRole('form', { name: 'New webhook endpoint' });
  await hookForm.getByLabel('URL').fill(`http://127.0.0.1:${receiver.address().port}/hook`);
  await hookForm.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByText('Signing secret of the new endpoint.').waitFor();
  await api('POST', '/v1/accounts/acme/products', { token: adminToken, body: { data: { type: 'products', attributes: { name: 'Acme Labs', distributionStrategy: 'CLOSED' } } } });
  await page.getByRole('button', { name: 'Show deliveries' }).click();
  const deadline = Date.now() + 20_000;
  while (!(await page.locator('.deliveries tbody tr').count())) {
    if (Date.now() > deadline) throw new Error('no webhook delivery appeared');
    await page.getByRole('button', { name: 'Hide deliveries' }).click();
    await page.getByRole('button', { name: 'Show deliveries' }).click();
    await page.waitForTimeout(500);
  }
  const retry = page.waitForResponse((r) => r.url().includes('/actions/retry'));
  await page.locator('.deliveries').getByRole('button', { name: /^Retry/ }).first().click();
  check((await retry).status() < 300, `retry answered ${(await retry).status()}`);
  check(!(await page.locator('.endpoint [role=alert]').count()), 'the retry showed an error');
  step(`a webhook endpoint, its delivery log (${await page.locator('.deliveries tbody tr').count()} deliveries) and a retry`);
  await shoot('07-webhooks');

  // ---- the event log ----
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await heading('Event log');
  await page.getByRole('form', { name: 'Filter events' }).getByLabel('Event names').fill('release.yanked');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('#events').getByText('release.yanked').first().waitFor();
  const shownEvents = () => page.locator('#events tbody tr td:first-child').allTextContents();
  const onlyYanks = async () => {
    const names = await shownEvents();
    return names.length > 0 && names.every((e) => e.trim() === 'release.yanked');
  };
  check(await until(onlyYanks), `the event filter did not narrow the log to yanks: ${(await shownEvents()).join(', ')}`);
  await shoot('08-events');

  // ---- update checks by two customers, then the analytics charts ----
  const check1 = await api('GET', `/v1/accounts/acme/releases/actions/upgrade?product=${appId}&platform=linux&arch=amd64&version=1.0.0`, { license: basicKey });
  const check2 = await api('GET', `/v1/accounts/acme/releases/actions/upgrade?product=${appId}&platform=linux&arch=amd64&version=0.9.0`, { license: proKey });
  // an install without a key that already runs 1.1.0, the latest published release
  const check3 = await api('GET', `/v1/accounts/acme/releases/actions/upgrade?product=${appId}&platform=linux&arch=amd64&version=1.1.0&installId=browser-test-install`);
  check([check1, check2, check3].every((c) => [200, 204, 303].includes(c.status)), `update checks answered ${check1.status}, ${check2.status} and ${check3.status}`);
  await new Promise((r) => setTimeout(r, 1000)); // the analytics flush (ANALYTICS_FLUSH_MS=200)
  await page.goto(`${origin}/admin/products/${appId}/analytics`);
  await heading('Analytics');
  await page.locator('#versions-chart .bar[data-version="1.0.0"]').waitFor({ timeout: 15_000 });
  await page.locator('#versions-chart .bar[data-version="0.9.0"]').waitFor();
  await page.locator('.uplot canvas').first().waitFor();
  step(`the versions chart shows the versions of real update checks: ${(await page.locator('#versions-chart figcaption').textContent()).trim()}`);
  // the share on latest, day by day: today's point is the three installs that checked, one of them on 1.1.0
  const today = new Date().toISOString().slice(0, 10);
  await page.locator('#adoption-chart .uplot canvas').waitFor({ timeout: 15_000 });
  const todayRow = page.locator(`#adoption-table tr[data-day="${today}"] td`);
  await todayRow.first().waitFor({ state: 'attached' });
  const cells = (await todayRow.allTextContents()).map((c) => c.trim());
  check(JSON.stringify(cells) === JSON.stringify([today, '1.1.0', '3', '1', '33%']), `today's point of the share-on-latest series is ${JSON.stringify(cells)}, expected [${today}, 1.1.0, 3, 1, 33%]`);
  const adoptionLabel = await page.locator('#adoption-chart [role=img]').getAttribute('aria-label');
  check(adoptionLabel.includes(`${today} 33% of 3 on 1.1.0`), `the series' text alternative does not give today's point: ${adoptionLabel}`);
  step(`the share-on-latest series plots today's real checks: ${cells.join(' | ')}`);
  await shoot('09-analytics');

  // "why no update?" for the pinned Pro customer on 1.0.0: 1.1.0 is outside its pin
  await page.getByRole('link', { name: 'Why no update?', exact: true }).click();
  await heading('Why no update?');
  const explainForm = page.getByRole('form', { name: 'Explain the update decision' });
  await explainForm.getByLabel('License (id or key)').fill(proLicense.id);
  await explainForm.getByLabel('Product (id or code)').fill(appId);
  await explainForm.getByLabel('Current version').fill('1.0.0');
  await explainForm.getByLabel('Platform').fill('linux');
  await explainForm.getByLabel('Arch').fill('amd64');
  await explainForm.getByRole('button', { name: 'Explain' }).click();
  const pinnedRow = page.locator('#explain tbody tr', { hasText: '1.1.0' });
  await pinnedRow.waitFor();
  check((await pinnedRow.textContent()).includes('pin'), `explain does not say the pin holds 1.1.0 back: ${await pinnedRow.textContent()}`);
  step(`explain for the pinned license: ${(await pinnedRow.textContent()).trim()}`);
  await shoot('10-explain');

  // ---- the product with 100,000 releases: first page and next page ----
  if (!databaseUrl) fail('no PostgreSQL at TEST_DATABASE_ADMIN_URL or DATABASE_URL: the 100,000-release table was not measured');
  const t0 = Date.now();
  await page.goto(`${origin}/admin/products/${bigId}`);
  await page.locator('#releases tbody tr').first().waitFor({ timeout: 10_000 });
  const firstPageMs = Date.now() - t0;
  const firstVersion = await page.locator('#releases tbody tr td a').first().textContent();
  const t1 = Date.now();
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText(/page 2 ·/).waitFor();
  const nextPageMs = Date.now() - t1;
  const secondVersion = await page.locator('#releases tbody tr td a').first().textContent();
  check(firstVersion !== secondVersion, 'the next page shows the same releases');
  report.push(`releases table of a product with ${BIG_RELEASES} releases: first page shown ${firstPageMs} ms after navigation, next page ${nextPageMs} ms (${(await page.getByTestId('releases-count').textContent()).trim()})`);
  check(firstPageMs < 1000, `the first page of ${BIG_RELEASES} releases took ${firstPageMs} ms`);
  check(nextPageMs < 1000, `the next page of ${BIG_RELEASES} releases took ${nextPageMs} ms`);
  await page.getByRole('form', { name: 'Filter releases' }).getByLabel('Version (exact)').fill('99.99.9');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByText('1 releases').waitFor();
  await shoot('02-releases-100k');
  await page.goto(`${origin}/admin`);
  await heading('Products');
  await shoot('02-products');

  // ---- the customer portal ----
  const portalPage = await context.newPage(); // a new tab: a session of its own
  portalPage.on('pageerror', (error) => consoleErrors.push(String(error)));
  await portalPage.goto(`${origin}/portal/acme`);
  await portalPage.getByRole('heading', { name: 'Acme Viewer (free)' }).waitFor();
  check(!(await portalPage.getByText('Acme App').count()), 'the portal shows a LICENSED product without a key');
  check(!(await portalPage.getByText('Acme Labs').count()), 'the portal shows a CLOSED product');
  await shoot('11-portal-open', portalPage);
  step('the portal lists the OPEN product without signing in');

  await portalPage.getByRole('textbox', { name: 'License key' }).fill('not-a-key-at-all');
  await portalPage.getByRole('button', { name: 'Show my downloads' }).click();
  await portalPage.getByRole('alert').waitFor();
  await portalPage.getByRole('textbox', { name: 'License key' }).fill(basicKey);
  await portalPage.getByRole('button', { name: 'Show my downloads' }).click();
  await portalPage.getByRole('heading', { level: 1, name: /Your downloads/ }).waitFor();
  await portalPage.getByRole('heading', { name: 'Acme App' }).waitFor();
  await portalPage.locator('.artifact strong', { hasText: 'acme-1.0.0-linux-amd64.tar.gz' }).waitFor();
  check(!(await portalPage.locator('.artifact strong', { hasText: 'acme-1.1.0-pro-linux-amd64.tar.gz' }).count()), 'a key without the PRO entitlement sees the constrained file');
  check(!(await portalPage.locator('.artifact strong', { hasText: 'acme-2.0.0-linux-amd64.tar.gz' }).count()), 'the portal shows the file of 2.0.0 (a draft)');
  check(await portalPage.getByText(sha).count() > 0, 'the portal does not show the checksum');
  const [download] = await Promise.all([portalPage.waitForEvent('download'), portalPage.getByRole('button', { name: 'Download acme-1.0.0-linux-amd64.tar.gz' }).click()]);
  const got = fs.readFileSync(await download.path());
  check(download.suggestedFilename() === 'acme-1.0.0-linux-amd64.tar.gz', `the download is named ${download.suggestedFilename()}`);
  check(got.equals(v1Bytes), `the downloaded bytes differ (${got.length} bytes, expected ${v1Bytes.length})`);
  step(`with the basic key: downloaded ${got.length} bytes, identical to the dropped file; the PRO-only file and 2.0.0 (yanked, then back to draft) are not listed`);
  await shoot('12-portal-key', portalPage);

  await portalPage.getByRole('button', { name: 'Sign out' }).click();
  await portalPage.getByRole('textbox', { name: 'License key' }).fill(proKey);
  await portalPage.getByRole('button', { name: 'Show my downloads' }).click();
  await portalPage.locator('.artifact strong', { hasText: 'acme-1.1.0-pro-linux-amd64.tar.gz' }).waitFor();
  const [proDownload] = await Promise.all([portalPage.waitForEvent('download'), portalPage.getByRole('button', { name: 'Download acme-1.1.0-pro-linux-amd64.tar.gz' }).click()]);
  check(fs.readFileSync(await proDownload.path()).equals(proBytes), 'the PRO file\'s bytes differ');
  step('with the PRO key: the constrained file is listed and downloads');
  void v2;
  void v11;

  check(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
  check(consoleErrors.length === 0, `errors in the page: ${consoleErrors.join(' | ')}`);
  for (const p of pages) report.push(`screenshot ${p.name}: ${p.desktop} , ${p.phone} (axe: ${p.violations} minor/moderate violations, none serious)`);
} catch (error) {
  fail(error.stack ?? String(error));
  if (context) {
    for (const p of context.pages()) await p.screenshot({ path: path.join(SHOTS, `failure-${Date.now()}.png`), fullPage: true }).catch(() => undefined);
  }
} finally {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  receiver.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  if (admin) {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

for (const line of report) console.log(`test:browser (console): ${line}`);
console.log(`test:browser (console): screenshots in ${SHOTS}`);
if (failures.length) {
  console.error(`test:browser (console): ${failures.length} failure(s)`);
  process.exitCode = 1;
} else {
  console.log('test:browser (console): passed');
}
