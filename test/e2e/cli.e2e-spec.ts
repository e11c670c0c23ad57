import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { ROOT_TOKEN, startApp, TestApp } from '../support/app';
import { createLicense, createProduct, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';

/** The built command (npm test builds first), run as a child process like a CI job would. */
const CLI = path.resolve('dist/src/cli/main.js');
/** `npm run setup` without npm (its prestart only builds, which npm test has done). */
const SETUP = path.resolve('dist/src/setup.js');
const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;

/** A licensed download as a client makes it: the 303 to a signed URL, then the file (from `base`, whatever PUBLIC_URL says). */
async function download(base: string, path: string, key: string): Promise<string> {
  const redirect = await fetch(`${base}${path}`, { headers: { Authorization: `License ${key}` }, redirect: 'manual' });
  expect(redirect.status).toBe(303);
  const file = await fetch(redirect.headers.get('location')!.replace(/^https?:\/\/[^/]+/, base));
  expect(file.status).toBe(200);
  return file.text();
}

/** Runs `script` in bash and prints the variables it names, one `NAME=value` a line. */
function bash(script: string, names: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-euo', 'pipefail', '-c', `${script}\n${names.map((n) => `printf '%s=%s\\n' ${n} "$${n}"`).join('\n')}`], { env: { PATH: process.env.PATH ?? '' } }, (error, stdout) => {
      if (error) return reject(error);
      resolve(Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])));
    });
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the shipgate command', () => {
  let t: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let productToken: string;
  let workDir: string;
  const env = () => ({ PATH: process.env.PATH ?? '', HOME: workDir, SHIPGATE_URL: t.baseUrl, SHIPGATE_ACCOUNT: account.slug, SHIPGATE_TOKEN: productToken });

  function shipgate(args: string[], extraEnv: Record<string, string> = {}, script = CLI): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [script, ...args], { env: { ...env(), ...extraEnv }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  const admin = () => api(t, bearer(account.adminToken));
  /** The release of many artifacts of `version` (API 1.1) and its artifacts, by filename, as the admin sees them. */
  async function v11Release(version: string) {
    const release = await admin().get(`/v1/accounts/${account.id}/releases/${version}?product=${product.id}`).set('Keygen-Version', '1.1');
    if (release.status !== 200) return { status: release.status, release: undefined, artifacts: {} };
    const list = await admin().get(`/v1/accounts/${account.id}/releases/${release.body.data.id}/artifacts?page[size]=100`).set('Keygen-Version', '1.1');
    const artifacts = Object.fromEntries((list.body.data as Array<{ id: string; attributes: Record<string, unknown> }>).map((a) => [a.attributes.filename, a.attributes]));
    return { status: release.status, release: release.body.data as { id: string; attributes: Record<string, unknown> }, artifacts };
  }
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const releasesOf = async () => (await admin().get(`/v1/accounts/${account.id}/releases?product=${product.id}&page[size]=100`)).body.data as Array<{ id: string; attributes: Record<string, unknown> }>;

  function file(name: string, bytes: Buffer): string {
    const p = path.join(workDir, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true);
    // upload URLs (API 1.1) point at PUBLIC_URL: this server's own address
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
    product = await createProduct(t, account, { code: 'acme-app' });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-cli-'));
    productToken = 'unset';
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('prints its help, and its version with --version', async () => {
    const run = await shipgate(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['publish', 'yank', 'publish-release', 'releases', 'check-update', 'tokens', 'products', 'licenses', 'setup']) expect(run.stdout).toContain(command);
    expect(run.stdout).toContain('Exit codes');
    for (const flag of ['--version', '-V']) {
      const version = await shipgate([flag]);
      expect(version).toEqual({ code: 0, stdout: `shipgate ${VERSION}\n`, stderr: '' });
    }
  });

  it('creates a product token, by product code, as an admin', async () => {
    const run = await shipgate(['tokens', 'create', '--product', 'acme-app', '--name', 'ci'], { SHIPGATE_TOKEN: account.adminToken });
    expect(run.stderr).toContain('product-token');
    expect(run.code).toBe(0);
    productToken = run.stdout.trim();
    expect(productToken).toMatch(/^prod-[0-9a-f]{64}$/);
    const mine = await shipgate(['tokens', 'create', '--email', account.adminEmail, '--password', account.adminPassword]);
    expect(mine.code).toBe(0);
    expect(mine.stdout.trim()).toMatch(/^admin-/);
  });

  it('publishes a 50 MB file with progress, by product code, and the release is published with its digest', async () => {
    const bytes = randomBytes(50 * 1024 * 1024);
    const run = await shipgate(['publish', file('app-1.0.0.tar.gz', bytes), '--product', 'acme-app', '--version', '1.0.0', '--platform', 'linux/amd64']);
    expect(run.stderr).not.toContain('shipgate:');
    expect(run.code).toBe(0);
    // not a terminal: one plain line per 10 %
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('upload app-1.0.0.tar.gz'));
    expect(lines[0]).toBe('upload app-1.0.0.tar.gz 0% (0.0 of 50.0 MB)');
    expect(lines.at(-1)).toBe('upload app-1.0.0.tar.gz 100% (50.0 of 50.0 MB)');
    expect(lines.length).toBe(11);
    expect(run.stdout).toMatch(/status\s+PUBLISHED/);
    const [release] = await releasesOf();
    expect(release.attributes).toMatchObject({ version: '1.0.0', status: 'PUBLISHED', filesize: bytes.length, checksum: createHash('sha256').update(bytes).digest('hex') });
    expect(run.stdout).toContain(release.id);
  });

  it('re-publishes idempotently: the same file is reused, another file for the same version is refused', async () => {
    const again = await shipgate(['publish', path.join(workDir, 'app-1.0.0.tar.gz'), '--product', 'acme-app', '--version', '1.0.0', '--platform', 'linux/amd64', '--json']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already published with this file');
    expect(again.stderr).not.toContain('upload app');
    expect(JSON.parse(again.stdout).data.attributes.status).toBe('PUBLISHED');
    expect(await releasesOf()).toHaveLength(1);

    const other = await shipgate(['publish', file('other.tar.gz', randomBytes(1000)), '--product', 'acme-app', '--version', '1.0.0', '--platform', 'linux/amd64', '--filename', 'app-1.0.0.tar.gz']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^shipgate: release .* already holds another file/m);
    expect(await releasesOf()).toHaveLength(1);
  });

  it('reuses a release created earlier whose upload never happened', async () => {
    const created = await api(t, bearer(productToken)).post(`/v1/accounts/${account.id}/releases`, {
      data: {
        type: 'releases',
        attributes: { version: '1.0.1', channel: 'stable', platform: 'linux/amd64', filename: 'app-1.0.1.tar.gz', filetype: 'tar.gz' },
        relationships: { product: { data: { type: 'products', id: product.id } } },
      },
    });
    expect(created.status).toBe(201);
    const run = await shipgate(['publish', file('app-1.0.1.tar.gz', randomBytes(2048)), '--product', product.id, '--version', '1.0.1', '--platform', 'linux/amd64']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`reusing release ${created.body.data.id}`);
    expect((await releasesOf()).find((r) => r.id === created.body.data.id)!.attributes.status).toBe('PUBLISHED');
  });

  it('yanks the previous release with --yank-previous, lists releases, yanks and publishes by version', async () => {
    const run = await shipgate(['publish', file('app-1.1.0.tar.gz', randomBytes(4096)), '--product', 'acme-app', '--version', '1.1.0', '--platform', 'linux/amd64', '--yank-previous']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('yanked the previous release 1.0.1');
    const byVersion = Object.fromEntries((await releasesOf()).map((r) => [r.attributes.version, r.attributes.status]));
    expect(byVersion).toEqual({ '1.0.0': 'PUBLISHED', '1.0.1': 'YANKED', '1.1.0': 'PUBLISHED' });

    const table = await shipgate(['releases', 'list', '--product', 'acme-app']);
    expect(table.code).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^VERSION\s+CHANNEL\s+PLATFORM\s+FILETYPE\s+STATUS/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['1.1.0', '1.0.1', '1.0.0']);
    const json = await shipgate(['releases', 'list', '--status', 'YANKED', '--json']);
    expect(JSON.parse(json.stdout).data.map((r: { attributes: { version: string } }) => r.attributes.version)).toEqual(['1.0.1']);

    const yank = await shipgate(['yank', '1.1.0', '--product', 'acme-app']);
    expect(yank.code).toBe(0);
    expect(yank.stdout).toMatch(/status\s+YANKED/);
    const back = await shipgate(['publish-release', '1.1.0', '--product', 'acme-app', '--platform', 'linux/amd64']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/status\s+PUBLISHED/);
  });

  it('checks updates as a license key would', async () => {
    const license = await createLicense(t, account, product.id);
    const update = await shipgate(['check-update', '--product', 'acme-app', '--platform', 'linux/amd64', '--version', '1.0.0', '--key', license.key]);
    expect(update.code).toBe(0);
    expect(update.stdout).toContain('Update available: 1.0.0 -> 1.1.0');
    expect(update.stdout).toMatch(/Download: http.*\/artifacts\/.*app-1\.1\.0\.tar\.gz\?expires=/);
    const none = await shipgate(['check-update', '--product', 'acme-app', '--platform', 'linux/amd64', '--version', '1.1.0', '--json'], { SHIPGATE_LICENSE_KEY: license.key });
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ update: false, current: '1.1.0' });
  });

  it('takes enum values in any case', async () => {
    const yanked = await shipgate(['releases', 'list', '--status', 'yanked', '--channel', 'STABLE', '--json']);
    expect(yanked.code).toBe(0);
    expect(JSON.parse(yanked.stdout).data.map((r: { attributes: { version: string } }) => r.attributes.version)).toEqual(['1.0.1']);
    const wrong = await shipgate(['releases', 'list', '--status', 'gone']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("option '--status <status>' argument 'gone' is invalid. must be one of NOT_PUBLISHED, PUBLISHED, YANKED");
  });

  it('exits with a code per kind of failure (docs/cli.md), with the server\'s error detail or the reason', async () => {
    // 2: the command line
    const unknownOption = await shipgate(['releases', 'list', '--colour']);
    expect(unknownOption.code).toBe(2);
    const limit = await shipgate(['releases', 'list', '--limit', '500']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain("option '--limit <n>' argument '500' is invalid. must be an integer from 1 to 100");
    expect(limit.stderr).not.toContain('page[size]');
    const noUrl = await shipgate(['releases', 'list'], { SHIPGATE_URL: '' });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('SHIPGATE_URL');
    const badVersion = await shipgate(['publish', path.join(workDir, 'app-1.1.0.tar.gz'), '--product', 'acme-app', '--version', 'v2', '--platform', 'linux/amd64']);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain('not a semver version');
    // 3: the credential
    const badToken = await shipgate(['releases', 'list'], { SHIPGATE_TOKEN: 'prod-nope' });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toMatch(/^shipgate: 401 TOKEN_INVALID: /m);
    // 4: not found
    const unknownProduct = await shipgate(['publish', path.join(workDir, 'app-1.1.0.tar.gz'), '--product', 'no-such-product', '--version', '2.0.0', '--platform', 'linux/amd64']);
    expect(unknownProduct.code).toBe(4);
    expect(unknownProduct.stderr).toMatch(/404 NOT_FOUND/);
    // 1: a file that cannot be read, with the reason
    const missing = await shipgate(['publish', path.join(workDir, 'missing.tar.gz'), '--product', 'acme-app', '--version', '2.0.0', '--platform', 'linux/amd64']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`shipgate: cannot read ${path.join(workDir, 'missing.tar.gz')}: no such file or directory (ENOENT)`);
    // 5: the network
    const closed = await freeLoopbackPort();
    const network = await shipgate(['releases', 'list'], { SHIPGATE_URL: `http://127.0.0.1:${closed}` });
    expect(network.code).toBe(5);
    expect(network.stderr).toContain(`shipgate: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`);
    // 6: the server failed
    const failing = http.createServer((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/vnd.api+json' });
      res.end(JSON.stringify({ errors: [{ status: '503', code: 'DATABASE_UNAVAILABLE', title: 'Service unavailable', detail: 'The database is unavailable' }] }));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    try {
      const server = await shipgate(['releases', 'list'], { SHIPGATE_URL: `http://127.0.0.1:${(failing.address() as { port: number }).port}` });
      expect(server.code).toBe(6);
      expect(server.stderr).toContain('shipgate: 503 DATABASE_UNAVAILABLE: The database is unavailable');
    } finally {
      failing.close();
    }
  });

  describe('publish with several files: one release of many artifacts (API 1.1)', () => {
    const exe = randomBytes(3 * 1024 * 1024);
    const blockmap = randomBytes(20_000);
    const dmg = randomBytes(2 * 1024 * 1024);
    const args = () => [
      'publish',
      file('Acme Setup 3.0.0.exe', exe),
      file('Acme Setup 3.0.0.exe.blockmap', blockmap),
      `${file('Acme-3.0.0-arm64.dmg', dmg)}@darwin/arm64`,
      '--product', 'acme-app', '--version', '3.0.0', '--platform', 'windows', '--arch', 'amd64', '--tag', 'latest-desktop',
    ];

    it('creates the release, uploads every file with its progress lines, and the release holds them UPLOADED with their digests and platforms', async () => {
      const run = await shipgate(args());
      expect(run.stderr).not.toContain('shipgate:');
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^created release \S+ \(3\.0\.0, PUBLISHED\)$/m);
      // not a terminal: each file's plain lines, 0 % to 100 %
      for (const name of ['Acme Setup 3.0.0.exe', 'Acme Setup 3.0.0.exe.blockmap', 'Acme-3.0.0-arm64.dmg']) {
        const lines = run.stderr.split('\n').filter((l) => l.startsWith(`upload ${name} `));
        expect(lines[0]).toMatch(/ 0% \(0\.0 of /);
        expect(lines.at(-1)).toMatch(/ 100% \(/);
      }
      const { release, artifacts } = await v11Release('3.0.0');
      expect(release!.attributes).toMatchObject({ version: '3.0.0', channel: 'stable', status: 'PUBLISHED', tag: 'latest-desktop' });
      expect(artifacts).toEqual({
        'Acme Setup 3.0.0.exe': expect.objectContaining({ status: 'UPLOADED', platform: 'windows', arch: 'amd64', filetype: 'exe', filesize: exe.length, sha256: sha256(exe) }),
        'Acme Setup 3.0.0.exe.blockmap': expect.objectContaining({ status: 'UPLOADED', platform: 'windows', arch: 'amd64', filetype: 'blockmap', sha256: sha256(blockmap) }),
        'Acme-3.0.0-arm64.dmg': expect.objectContaining({ status: 'UPLOADED', platform: 'darwin', arch: 'arm64', filetype: 'dmg', sha256: sha256(dmg) }),
      });
      expect(run.stdout).toContain(`release ${release!.id}`);
      expect(run.stdout).toMatch(/^ {2}artifacts 3$/m);
      expect(run.stdout).toMatch(new RegExp(`^ {4}Acme Setup 3\\.0\\.0\\.exe\\s+windows/amd64\\s+${exe.length} bytes\\s+UPLOADED\\s+sha256 ${sha256(exe)}$`, 'm'));
      // a license downloads what was published, byte for byte
      const license = await createLicense(t, account, product.id);
      const redirect = await fetch(`${t.baseUrl}/v1/accounts/${account.slug}/artifacts/Acme-3.0.0-arm64.dmg?product=acme-app`, {
        headers: { Authorization: `License ${license.key}`, 'Keygen-Version': '1.1' },
        redirect: 'manual',
      });
      expect(redirect.status).toBe(303);
      expect(sha256(Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer()))).toBe(sha256(dmg));
    });

    it('re-runs idempotently: the files already uploaded are skipped, a new one is added, another file under a taken name is refused', async () => {
      const again = await shipgate(args());
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/^reusing release \S+ \(3\.0\.0, PUBLISHED\)$/m);
      expect(again.stderr.match(/is already uploaded with this content: skipped/g)).toHaveLength(3);
      expect(again.stderr).not.toMatch(/^upload /m);
      expect(Object.keys((await v11Release('3.0.0')).artifacts)).toHaveLength(3);

      const yml = Buffer.from('version: 3.0.0\npath: Acme Setup 3.0.0.exe\n');
      const more = await shipgate([...args(), file('latest.yml', yml), '--json']);
      expect(more.code).toBe(0);
      expect(more.stderr).toMatch(/^upload latest\.yml 100%/m);
      expect(more.stderr).not.toMatch(/^upload Acme/m);
      const doc = JSON.parse(more.stdout);
      expect(doc.data.attributes.version).toBe('3.0.0');
      expect(doc.included.map((a: { attributes: { filename: string } }) => a.attributes.filename).sort()).toEqual(['Acme Setup 3.0.0.exe', 'Acme Setup 3.0.0.exe.blockmap', 'Acme-3.0.0-arm64.dmg', 'latest.yml']);
      expect((await v11Release('3.0.0')).artifacts['latest.yml']).toMatchObject({ status: 'UPLOADED', sha256: sha256(yml), platform: 'windows' });

      const changed = await shipgate(['publish', file('latest.yml', Buffer.from('version: 3.0.1\n')), '--artifacts', '--product', 'acme-app', '--version', '3.0.0']);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toMatch(/^shipgate: latest\.yml: release 3\.0\.0 already holds another file of this name \(sha256 [0-9a-f]{64}\); versions are immutable/m);
      expect((await v11Release('3.0.0')).artifacts['latest.yml']).toMatchObject({ sha256: sha256(yml) });
    });

    it('a file that cannot be read: reported with exit code 1, the other files still published, no artifact for it', async () => {
      const present = randomBytes(10_000);
      const missing = path.join(workDir, 'Acme-3.1.0.AppImage');
      const run = await shipgate(['publish', file('Acme Setup 3.1.0.exe', present), missing, '--product', 'acme-app', '--version', '3.1.0', '--platform', 'windows']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`shipgate: cannot read ${missing}: no such file or directory (ENOENT)`);
      expect(run.stderr).toMatch(/^shipgate: 1 of 2 files not published to release 3\.1\.0: Acme-3\.1\.0\.AppImage$/m);
      const { artifacts } = await v11Release('3.1.0');
      expect(Object.keys(artifacts)).toEqual(['Acme Setup 3.1.0.exe']);
      expect(artifacts['Acme Setup 3.1.0.exe']).toMatchObject({ status: 'UPLOADED', sha256: sha256(present), platform: 'windows', arch: null });

      // nothing readable: the server is not asked (no release)
      const none = await shipgate(['publish', missing, path.join(workDir, 'nope.zip'), '--product', 'acme-app', '--version', '3.2.0']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^shipgate: no file can be read \(Acme-3\.1\.0\.AppImage, nope\.zip\): nothing was published$/m);
      expect((await v11Release('3.2.0')).status).toBe(404);
    });

    it('one file with --artifacts; a version taken by a release of one file gets a release of many artifacts beside it; flags of the other kind are usage errors', async () => {
      const zip = randomBytes(1000);
      const run = await shipgate(['publish', '--artifacts', `${file('acme-1.1.0-linux.zip', zip)}@linux/amd64`, '--product', 'acme-app', '--version', '1.1.0', '--draft']);
      expect(run.stderr).not.toContain('shipgate:');
      expect(run.code).toBe(0);
      const { release, artifacts } = await v11Release('1.1.0');
      expect(release!.attributes.status).toBe('DRAFT');
      expect(artifacts).toEqual({ 'acme-1.1.0-linux.zip': expect.objectContaining({ status: 'UPLOADED', platform: 'linux', arch: 'amd64', sha256: sha256(zip) }) });
      // the release of one file of that version is untouched
      expect((await releasesOf()).filter((r) => r.attributes.version === '1.1.0').map((r) => r.attributes.filename).sort()).toEqual(['acme-1.1.0-linux.zip', 'app-1.1.0.tar.gz']);

      const exe = path.join(workDir, 'Acme Setup 3.0.0.exe');
      for (const [argv, message] of [
        [[exe, exe, '--filename', 'x.exe'], '--filename: only for one file'],
        [[exe, '--platform', 'windows', '--tag', 'x'], '--tag: only for a release of many artifacts'],
        [[exe], "required option '--platform <platform>' not specified"],
        [[exe, path.join(workDir, 'sub', 'Acme Setup 3.0.0.exe')], 'would both be Acme Setup 3.0.0.exe'],
        [[exe, exe, '--platform', 'linux/amd64', '--arch', 'arm64'], 'disagree'],
        [[exe, exe, '--concurrency', '20'], "option '--concurrency <n>' argument '20' is invalid"],
      ] as Array<[string[], string]>) {
        const wrong = await shipgate(['publish', ...argv, '--product', 'acme-app', '--version', '9.0.0']);
        expect({ argv, code: wrong.code, stderr: wrong.stderr }).toEqual({ argv, code: 2, stderr: expect.stringContaining(message) });
      }
      expect((await v11Release('9.0.0')).status).toBe(404);
    });
  });

  it('pins Keygen-Version 1.0 for the commands of releases of one file, whatever the account\'s default', async () => {
    const setVersion = (apiVersion: string) => admin().patch(`/v1/accounts/${account.id}`, { data: { type: 'accounts', id: account.id, attributes: { apiVersion } } });
    expect((await setVersion('1.1')).status).toBe(200);
    try {
      const run = await shipgate(['publish', file('app-1.3.0.tar.gz', randomBytes(1000)), '--product', 'acme-app', '--version', '1.3.0', '--platform', 'linux/amd64']);
      expect(run.stderr).not.toContain('shipgate:');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/file\s+app-1\.3\.0\.tar\.gz \(tar\.gz, 1000 bytes\)/);
      const table = await shipgate(['releases', 'list', '--product', 'acme-app', '--limit', '1']);
      expect(table.stdout.split('\n')[1]).toMatch(/^1\.3\.0\s+stable\s+linux\/amd64\s+tar\.gz\s+PUBLISHED/);
    } finally {
      await setVersion('1.0');
    }
  });

  it('creates a product (prints its id) and a license by product code (prints its key)', async () => {
    const created = await shipgate(['products', 'create', '--name', 'Acme Tools', '--code', 'acme-tools', '--distribution', 'open'], { SHIPGATE_TOKEN: account.adminToken });
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('created product Acme Tools (acme-tools), OPEN');
    const productId = created.stdout.trim();
    const product = await admin().get(`/v1/accounts/${account.id}/products/${productId}`);
    expect(product.body.data.attributes).toMatchObject({ name: 'Acme Tools', code: 'acme-tools', distributionStrategy: 'OPEN' });

    const license = await shipgate(['licenses', 'create', '--product', 'acme-tools', '--name', 'Jane', '--expiry', '2030-01-01T00:00:00Z', '--expiration-strategy', 'revoke_access'], {
      SHIPGATE_TOKEN: account.adminToken,
    });
    expect(license.code).toBe(0);
    const key = license.stdout.trim();
    expect(key).toMatch(/^[0-9A-F]{6}(-[0-9A-F]{6}){5}$/);
    const listed = await admin().get(`/v1/accounts/${account.id}/licenses?product=${productId}`);
    expect(listed.body.data.map((l: { attributes: Record<string, unknown> }) => l.attributes)).toEqual([
      expect.objectContaining({ key, name: 'Jane', expiry: '2030-01-01T00:00:00.000Z', expirationStrategy: 'REVOKE_ACCESS' }),
    ]);
    const taken = await shipgate(['products', 'create', '--name', 'Again', '--code', 'acme-tools'], { SHIPGATE_TOKEN: account.adminToken });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^shipgate: 422 CODE_TAKEN: /m);
  });

  it('setup creates an account, its admin and a token with the server\'s ROOT_TOKEN, and prints shell lines', async () => {
    const slug = `setup-${Date.now()}`;
    const run = await shipgate(['setup', '--account', slug, '--email', `admin@${slug}.test`, '--demo'], { SHIPGATE_ACCOUNT: '', SHIPGATE_TOKEN: '', SHIPGATE_ROOT_TOKEN: ROOT_TOKEN });
    expect(run.stderr).not.toContain('shipgate:');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/the admin's password, shown once: \S{12,}/);
    const vars = await bash(run.stdout, ['BASE', 'ADMIN_TOKEN', 'SHIPGATE_URL', 'SHIPGATE_ACCOUNT', 'SHIPGATE_TOKEN', 'PRODUCT_ID', 'LICENSE_KEY']);
    expect(vars).toMatchObject({ BASE: t.baseUrl, SHIPGATE_URL: t.baseUrl, SHIPGATE_ACCOUNT: slug, SHIPGATE_TOKEN: vars.ADMIN_TOKEN });
    const me = await api(t, bearer(vars.ADMIN_TOKEN)).get(`/v1/accounts/${slug}/me`);
    expect(me.body.data.attributes).toMatchObject({ email: `admin@${slug}.test`, role: 'admin' });
    // the demo: a licensed download of release 1.0.0 works with the printed key
    expect(await download(t.baseUrl, `/v1/accounts/${slug}/artifacts/demo-app-1.0.0.txt?product=demo-app`, vars.LICENSE_KEY)).toBe('Hello from Shipgate: demo-app 1.0.0\n');

    const again = await shipgate(['setup', '--account', slug, '--email', `admin@${slug}.test`], { SHIPGATE_ROOT_TOKEN: ROOT_TOKEN });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`the account ${slug} exists already`);
    const wrongRoot = await shipgate(['setup', '--account', `${slug}-2`, '--email', 'a@b.test'], { SHIPGATE_ROOT_TOKEN: 'not-the-root-token-0000' });
    expect(wrongRoot.code).toBe(3);
    const noRoot = await shipgate(['setup', '--account', `${slug}-2`, '--email', 'a@b.test']);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr).toContain('no root token');
  });

  it('npm run setup asks a running server with its ROOT_TOKEN, and refuses without one', async () => {
    const slug = `npmsetup-${Date.now()}`;
    const run = await shipgate(['--account', slug, '--email', `admin@${slug}.test`, '--password', 'a-long-password', '--url', t.baseUrl], { ROOT_TOKEN }, SETUP);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`setting up on the server at ${t.baseUrl}`);
    expect(run.stderr).not.toContain('password, shown once');
    const vars = await bash(run.stdout, ['ADMIN_TOKEN']);
    expect((await api(t, bearer(vars.ADMIN_TOKEN)).get(`/v1/accounts/${slug}/me`)).status).toBe(200);
    const refused = await shipgate(['--account', `${slug}-2`, '--email', 'a@b.test', '--url', t.baseUrl], {}, SETUP);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('needs its ROOT_TOKEN');
  });

  it('npm run setup without a server works on the server\'s database, and the server started after serves the licensed download', async () => {
    // a database of its own, as a fresh installation has
    const runUrl = new URL(process.env.DATABASE_URL!);
    const name = `shipgate_setup_${Date.now()}_${process.pid}`;
    const adminUrl = new URL(runUrl.toString());
    adminUrl.pathname = '/postgres';
    const pg = new Client({ connectionString: adminUrl.toString() });
    await pg.connect();
    await pg.query(`CREATE DATABASE ${name}`);
    const dbUrl = new URL(runUrl.toString());
    dbUrl.pathname = `/${name}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-setup-'));
    let server: TestApp | undefined;
    try {
      const port = await freeLoopbackPort();
      const env = { DATABASE_URL: dbUrl.toString(), DATA_DIR: dataDir, PORT: String(port), PASSWORD_HASH_COST: '4' };
      const run = await shipgate(['--account', 'acme', '--email', 'admin@acme.test', '--demo'], { ...env, SHIPGATE_URL: '' }, SETUP);
      expect(run.stderr).not.toContain('setup:');
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`no server answers at http://127.0.0.1:${port}: setting up on its database (DATABASE_URL)`);
      const vars = await bash(run.stdout, ['BASE', 'ADMIN_TOKEN', 'LICENSE_KEY']);
      expect(vars.BASE).toBe(`http://localhost:${port}`);

      server = await startApp({ ...env, ROOT_TOKEN: 'another-root-token-0123456789' });
      expect((await api(server, bearer(vars.ADMIN_TOKEN)).get('/v1/accounts/acme/me')).status).toBe(200);
      expect(await download(server.baseUrl, '/v1/accounts/acme/artifacts/demo-app-1.0.0.txt?product=demo-app', vars.LICENSE_KEY)).toBe('Hello from Shipgate: demo-app 1.0.0\n');
    } finally {
      await server?.close();
      await pg.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await pg.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
