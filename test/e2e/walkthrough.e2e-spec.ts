import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';

/**
 * The walk-through (docs/walkthrough.md) works verbatim: its `<!-- walkthrough -->` shell blocks, pasted in
 * order into one bash (`-euo pipefail`) against the built server (as `npm start` runs it), exit 0
 * and leave behind what a reader would see.
 */

const WALKTHROUGH = path.resolve('docs/walkthrough.md');
const MAIN = path.resolve('dist/src/main.js');
const ROOT_TOKEN = 'change-me-to-a-long-secret'; // the one the walk-through uses
/** On a line of its own (the page may mention the marker in prose). */
const MARKER = /^<!-- walkthrough -->[ \t]*$/m;
/** The script runs in a few seconds; a busy machine may take many times longer. */
const SCRIPT_TIMEOUT_MS = 120_000;

/** The ```sh blocks after a marker line, in order; a marker not followed by a ```sh block is an error. */
function walkthroughBlocks(markdown: string): string[] {
  const parts = markdown.split(MARKER).slice(1);
  return parts.map((part, i) => {
    const m = /^\r?\n```sh\r?\n([\s\S]*?)\r?\n```/.exec(part);
    if (!m) throw new Error(`walk-through marker #${i + 1} is not followed by a \`\`\`sh block`);
    return m[1];
  });
}

const startsServer = (block: string) => /\bnpm start\b|\bdocker\b/.test(block);

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function waitForHealth(url: string, ms: number, output: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not become ready at ${url}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runBash(script: string, cwd: string, base: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, LANG: 'C.UTF-8', BASE: base },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SCRIPT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

describe('docs/walkthrough.md (pasted verbatim into bash against the built server)', () => {
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let port: number;
  let workDir: string;
  let dataDir: string;
  let databaseName: string;
  let adminUrl: string;

  beforeAll(async () => {
    // a database of its own next to the worker's one (named after it, so the run's teardown drops it
    // even if this file cannot): the walk-through creates the account `acme`
    const runUrl = new URL(process.env.DATABASE_URL!);
    databaseName = `${runUrl.pathname.slice(1)}_readme`;
    const admin = new URL(runUrl.toString());
    admin.pathname = '/postgres';
    adminUrl = admin.toString();
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${databaseName}`);
    } finally {
      await client.end();
    }
    const dbUrl = new URL(runUrl.toString());
    dbUrl.pathname = `/${databaseName}`;

    port = await freeLoopbackPort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-readme-data-'));
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-readme-work-'));
    server = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dataDir,
        PORT: String(port),
        DATABASE_URL: dbUrl.toString(),
        DATA_DIR: dataDir,
        ROOT_TOKEN,
        PUBLIC_URL: `http://localhost:${port}`,
        LOG_LEVEL: 'log', // request lines too: the log is checked for secrets below
        LOG_FORMAT: 'json',
        PASSWORD_HASH_COST: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d) => (serverOutput += d));
    server.stderr!.on('data', (d) => (serverOutput += d));
    await waitForHealth(`http://127.0.0.1:${port}/health/ready`, 30_000, () => serverOutput);
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await exited(server);
    }
    if (databaseName) {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    }
    for (const dir of [workDir, dataDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the marked blocks: the account setup first, every feature section, no server start', () => {
    const markdown = fs.readFileSync(WALKTHROUGH, 'utf8');
    const blocks = walkthroughBlocks(markdown);
    expect(blocks.length).toBeGreaterThanOrEqual(25);
    expect(blocks[0]).toBe('BASE=${BASE:-http://localhost:3000}');
    expect(blocks[1]).toContain('POST $BASE/v1/accounts');
    expect(blocks.join('\n')).not.toContain('localhost:3000/');
    for (const route of ['/products', '/entitlements', '/licenses', '/releases', '/artifact', '/constraints', '/actions/upgrade', '/v3/', '/actions/yank', '/health']) {
      expect(blocks.some((b) => b.includes(route))).toBe(true);
    }
    // the block that starts the server is shown, not marked
    expect(markdown).toContain('ROOT_TOKEN=change-me-to-a-long-secret npm start');
    expect(blocks.filter(startsServer)).toEqual([]);
  });

  it('runs every block in order, exits 0, and leaves what a reader would see', async () => {
    const blocks = walkthroughBlocks(fs.readFileSync(WALKTHROUGH, 'utf8')).filter((b) => !startsServer(b));
    // the shell's variables at the end (tokens, keys, URLs) are checked against the server's log
    const script = blocks.join('\n\n') + '\n( set -o posix; set ) > .walkthrough-variables\n';
    const result = await runBash(script, workDir, `http://localhost:${port}`);

    // on failure, the whole transcript (and the server's log) is in the assertion message
    const transcript = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}\n--- server\n${serverOutput}`;
    expect({ code: result.code, timedOut: result.timedOut, transcript }).toEqual({ code: 0, timedOut: false, transcript });

    const out = result.stdout;
    // the licensing steps
    expect(out).toMatch(/^license [0-9A-F]{6}(-[0-9A-F]{6}){5}: ACTIVE, expires null, RESTRICT_ACCESS$/m);
    expect(out).toContain('releases with the expired trial key: 403 LICENSE_EXPIRED');
    expect(out).toContain('releases with the suspended key: 403 LICENSE_SUSPENDED');
    expect(out).toContain('after reinstate (product token): ACTIVE'); // a product token manages its product's licenses
    // publishing: upload -> PUBLISHED, the rules, the list
    expect(out).toContain('release 1.0.0: PUBLISHED');
    expect(out).toContain('artifact app-1.1.0.tar.gz: UPLOADED, 1048576 bytes');
    expect(out).toContain('422 VERSION_INVALID at /data/attributes/version');
    expect(out).toMatch(/^page 1 of 2 \(3 releases\), 2 artifacts included, next: \S+page\[number\]=2/m);
    // visibility and constraints
    expect(out).toContain('anonymous, release of a LICENSED product: HTTP 404');
    expect(out).toContain('license without PRO, release 1.1.0: HTTP 404');
    expect(out).toContain('license with PRO sees release 1.1.0');
    // the downloads saved the files under their own names, with the uploaded bytes
    expect(fs.readFileSync(path.join(workDir, 'downloads', 'app-1.0.0.tar.gz'), 'utf8')).toBe('hello');
    const uploaded = fs.readFileSync(path.join(workDir, 'build', 'app-1.1.0.tar.gz'));
    expect(uploaded.length).toBe(1048576);
    expect(fs.readFileSync(path.join(workDir, 'app-1.1.0.tar.gz')).equals(uploaded)).toBe(true);
    expect(out).toContain(`url: http://localhost:${port}/v3/`);
    expect(out).toContain('bytes 0-1023 of the signed URL: HTTP 206, 1024 bytes');
    expect(out).toMatch(/^two ranges: HTTP 206, multipart\/byteranges; boundary=[0-9a-f]{32}$/m);
    // the upgrade found 1.1.0 before the yank, and nothing after it
    expect(out).toMatch(new RegExp(`^HTTP 303 -> http://localhost:${port}/v1/accounts/[0-9a-f-]{36}/artifacts/[0-9a-f-]{36}/app-1\\.1\\.0\\.tar\\.gz\\?expires=\\d+&g=[0-9a-f]+(&l=[0-9a-f-]{36})?&signature=[0-9a-f]+$`, 'm'));
    expect(out).toContain('upgrade: 1.0.0 -> 1.1.0');
    expect(out).toContain('from 1.0.0 on beta: 2.0.0-beta.1');
    expect(out).toMatch(/^release 1\.1\.0: YANKED at \d{4}-\d\d-\d\dT/m);
    expect(out).toContain('upgrade check after yank: HTTP 204');
    expect(out).toContain('v3 update check after yank: HTTP 204');
    expect(out.indexOf('upgrade: 1.0.0 -> 1.1.0')).toBeLessThan(out.indexOf('upgrade check after yank: HTTP 204'));
    // the status machine and the clean-up
    expect(out).toContain('release 1.1.0: PUBLISHED, yanked: null');
    expect(out).toContain('beta after deleting its artifact: NOT_PUBLISHED');
    expect(out).toContain('publish: 422 ARTIFACT_NOT_UPLOADED');
    expect(out).toContain('delete: 422 PRODUCT_HAS_RELEASES');
    expect(out).toContain('delete ?force=true: HTTP 204');
    // no request made the server fail (the error filter logs every unexpected error as "<METHOD> <path> failed: ...")
    expect(serverOutput).not.toMatch(/ failed: |database unavailable/);

    // the server's log: one JSON object per line, a request line per request, and no secret
    // every curl of the walk-through made one request (plus this test's readiness polls)
    const curls = blocks.reduce((n, b) => n + (b.match(/\bcurl\b/g) ?? []).length, 0);
    expect(curls).toBeGreaterThan(50);
    // the log reaches us through a pipe, written at least every second: waited for (complete lines only)
    const requestLines = () =>
      serverOutput
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as { msg: string; route?: string; reqId?: string })
        .filter((l) => l.msg === 'request');
    const written = () => serverOutput.endsWith('\n') && requestLines().length >= curls;
    for (const until = Date.now() + 30_000; !written() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    const requests = requestLines();
    expect(requests.length).toBeGreaterThanOrEqual(curls);
    expect(serverOutput.endsWith('\n')).toBe(true);
    expect(new Set(requests.map((l) => l.reqId)).size).toBe(requests.length);
    const variables = Object.fromEntries(
      fs.readFileSync(path.join(workDir, '.walkthrough-variables'), 'utf8').split('\n').map((l) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2].replace(/^'|'$/g, '')]),
    );
    const secrets = new Set<string>([ROOT_TOKEN]);
    for (const [name, value] of Object.entries(variables)) if (/TOKEN|KEY|URL|PASSWORD|SECRET/.test(name) && value.length >= 8 && name !== 'BASE') secrets.add(value);
    for (const block of blocks) for (const m of block.matchAll(/"password":"([^"]+)"|-u [^:\s]+:(\S+)/g)) secrets.add(m[1] ?? m[2]);
    for (const m of out.matchAll(/signature=([0-9a-f]{16,})/g)) secrets.add(m[1]);
    for (const name of ['ADMIN_TOKEN', 'PRODUCT_TOKEN', 'JANE_TOKEN', 'LICENSE_KEY', 'TRIAL_KEY', 'DOWNLOAD_URL']) expect(secrets.has(variables[name])).toBe(true);
    expect(secrets.size).toBeGreaterThanOrEqual(10);
    for (const secret of secrets) {
      expect({ secret, found: serverOutput.includes(secret) }).toEqual({ secret, found: false });
      // the secret part of a signed URL too
      const signature = /signature=([0-9a-f]+)/.exec(secret)?.[1];
      if (signature) expect(serverOutput.includes(signature)).toBe(false);
    }
    expect(serverOutput).not.toContain('?');
  }, SCRIPT_TIMEOUT_MS + 60_000);
});
