import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { TestApp } from './app';
import { bearer, TestAccount } from './factories';
import { createReleaseV11, uploadArtifactV11, v11Client } from './v11.factories';

/** Packages and real package-manager clients (pip, npm, curl) for e2e tests. */

export const run = promisify(execFile);

/** The machine's Python (pyenv's, else the first python3 on PATH). */
export const PYTHON = fs.existsSync('/root/.pyenv/shims/python3') ? '/root/.pyenv/shims/python3' : 'python3';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `shipgate-${prefix}-`));
}

/** `POST /packages` as the admin; throws unless 201. */
export async function createPackage(t: TestApp, account: TestAccount, productId: string, attributes: Record<string, unknown>): Promise<{ id: string; attributes: Record<string, unknown> }> {
  const res = await v11Client(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/packages`, {
    data: { type: 'packages', attributes: { name: attributes.key, ...attributes }, relationships: { product: { data: { type: 'products', id: productId } } } },
  });
  if (res.status !== 201) throw new Error(`package creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** A PUBLISHED 1.1 release of a package with these files uploaded; returns the release id and the artifact ids by filename. */
export async function publishPackageRelease(
  t: TestApp,
  account: TestAccount,
  productId: string,
  packageId: string,
  version: string,
  files: Array<{ file: string; metadata?: Record<string, unknown> }>,
  attributes: Record<string, unknown> = {},
): Promise<{ id: string; artifacts: Record<string, string> }> {
  const channel = version.includes('-') ? version.split('-')[1].split('.')[0] : 'stable';
  const res = await v11Client(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases`, {
    data: {
      type: 'releases',
      attributes: { version, channel, status: 'PUBLISHED', ...attributes },
      relationships: { product: { data: { type: 'products', id: productId } }, package: { data: { type: 'packages', id: packageId } } },
    },
  });
  if (res.status !== 201) throw new Error(`release creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const artifacts: Record<string, string> = {};
  for (const f of files) {
    const filename = path.basename(f.file);
    artifacts[filename] = await uploadArtifactV11(t, account, res.body.data.id, { filename, metadata: f.metadata ?? {} }, fs.readFileSync(f.file));
  }
  return { id: res.body.data.id, artifacts };
}

export { createReleaseV11 };

/**
 * A pure-Python wheel built with the standard library's zipfile (no `wheel` package here): a
 * module `<import name>` whose `__version__` is the version, with METADATA, WHEEL and RECORD.
 */
export async function buildWheel(dir: string, name: string, version: string, requiresPython?: string): Promise<string> {
  const script = `
import base64, hashlib, sys, zipfile
name, version, rp, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
mod = name.replace('-', '_')
dist = f"{mod}-{version}.dist-info"
files = {
  f"{mod}/__init__.py": f"__version__ = '{version}'\\n",
  f"{dist}/METADATA": "Metadata-Version: 2.1\\nName: " + name + "\\nVersion: " + version + "\\n" + (f"Requires-Python: {rp}\\n" if rp else ""),
  f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: shipgate-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
path = f"{out}/{mod}-{version}-py3-none-any.whl"
with zipfile.ZipFile(path, 'w') as z:
  for p, text in files.items():
    data = text.encode()
    z.writestr(p, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record.append(f"{p},sha256={digest},{len(data)}")
  record.append(f"{dist}/RECORD,,")
  z.writestr(f"{dist}/RECORD", "\\n".join(record) + "\\n")
print(path)
`;
  const { stdout } = await run(PYTHON, ['-c', script, name, version, requiresPython ?? '', dir]);
  return stdout.trim();
}

/** An sdist (`<name>-<version>.tar.gz`) of the same module (pip never needs it when a wheel fits). */
export async function buildSdist(dir: string, name: string, version: string): Promise<string> {
  const script = `
import io, sys, tarfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
mod = name.replace('-', '_')
base = f"{mod}-{version}"
path = f"{out}/{base}.tar.gz"
with tarfile.open(path, 'w:gz') as t:
  for p, text in {f"{base}/PKG-INFO": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n", f"{base}/{mod}/__init__.py": f"__version__ = '{version}'\\n"}.items():
    data = text.encode(); info = tarfile.TarInfo(p); info.size = len(data); t.addfile(info, io.BytesIO(data))
print(path)
`;
  const { stdout } = await run(PYTHON, ['-c', script, name, version, dir]);
  return stdout.trim();
}

/** A real `npm pack` of a tiny package `name@version` whose main module exports its version. */
export async function npmPack(dir: string, name: string, version: string): Promise<string> {
  const src = fs.mkdtempSync(path.join(dir, 'src-'));
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name, version, main: 'index.js', description: `${name} for tests`, license: 'MIT' }, null, 2));
  fs.writeFileSync(path.join(src, 'index.js'), `module.exports = ${JSON.stringify(version)};\n`);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: src, env: { ...process.env, npm_config_cache: path.join(dir, '.npm-cache'), npm_config_update_notifier: 'false' } });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  return path.join(dir, packed.filename);
}
