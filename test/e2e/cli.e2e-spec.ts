import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApp, TestApp } from '../support/app';
import { createLicense, createProduct, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';

/** The built command (npm test builds first), run as a child process like a CI job would. */
const CLI = path.resolve('dist/src/cli/main.js');

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

  function shipgate(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { ...env(), ...extraEnv }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  const admin = () => api(t, bearer(account.adminToken));
  const releasesOf = async () => (await admin().get(`/v1/accounts/${account.id}/releases?product=${product.id}&page[size]=100`)).body.data as Array<{ id: string; attributes: Record<string, unknown> }>;

  function file(name: string, bytes: Buffer): string {
    const p = path.join(workDir, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true);
    t = await startApp();
    account = await createAccount(t);
    product = await createProduct(t, account, { code: 'acme-app' });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-cli-'));
    productToken = 'unset';
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('prints its help', async () => {
    const run = await shipgate(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['publish', 'yank', 'publish-release', 'releases', 'check-update', 'tokens']) expect(run.stdout).toContain(command);
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

  it('exits non-zero with the server\'s error detail', async () => {
    const badToken = await shipgate(['releases', 'list'], { SHIPGATE_TOKEN: 'prod-nope' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^shipgate: 401 TOKEN_INVALID: /m);
    const unknownProduct = await shipgate(['publish', path.join(workDir, 'app-1.1.0.tar.gz'), '--product', 'no-such-product', '--version', '2.0.0', '--platform', 'linux/amd64']);
    expect(unknownProduct.code).toBe(1);
    expect(unknownProduct.stderr).toMatch(/404 NOT_FOUND/);
    const badVersion = await shipgate(['publish', path.join(workDir, 'app-1.1.0.tar.gz'), '--product', 'acme-app', '--version', 'v2', '--platform', 'linux/amd64']);
    expect(badVersion.code).toBe(1);
    expect(badVersion.stderr).toContain('not a semver version');
    const noUrl = await shipgate(['releases', 'list'], { SHIPGATE_URL: '' });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('SHIPGATE_URL');
  });
});
