// npm run test:browser: renders /docs in a real headless Chromium (Debian's chromium package) and
// checks that the API reference shows the release endpoints, with no request to another host.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MAIN = path.resolve('dist/src/main.js');

// the built server's own helper (test:browser builds first)
const { freeLoopbackPort } = createRequire(import.meta.url)(path.resolve('dist/src/database/embedded-postgres.js'));

async function waitFor(url, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function fail(message) {
  console.error(`test:browser FAILED: ${message}`);
  process.exitCode = 1;
}

const port = await freeLoopbackPort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-browser-'));
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-chromium-'));
const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? dataDir, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
const server = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'inherit', 'inherit'] });
let context;
try {
  await waitFor(`http://127.0.0.1:${port}/health/ready`, 60_000);
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (req) => {
    const host = new URL(req.url()).hostname;
    if (!['127.0.0.1', 'localhost'].includes(host) && !req.url().startsWith('data:')) foreign.push(req.url());
  });
  await page.goto(`http://127.0.0.1:${port}/docs`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent.replace(/\u200b/g, '').trim()));
  const title = await page.$eval('.info .title', (e) => e.textContent);
  for (const wanted of ['/v1/accounts/{account}/releases', '/v1/accounts/{account}/releases/actions/upgrade', '/v3/releases/update', '/v1/accounts/{account}/releases/{id}/artifact']) {
    if (!paths.includes(wanted)) fail(`the page does not show ${wanted} (it shows ${paths.length} paths)`);
  }
  if (!/Shipgate/.test(title)) fail(`unexpected title ${title}`);
  if (foreign.length) fail(`the page loaded from other hosts: ${foreign.join(', ')}`);
  if (!process.exitCode) console.log(`test:browser: /docs rendered ${paths.length} operations in Chromium, release endpoints included, no foreign requests`);
} catch (error) {
  fail(error.stack ?? String(error));
} finally {
  await context?.close().catch(() => undefined);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
