import type { ProductReleases } from '../catalogue/product-releases';

/** Architecture names as updaters send them, to the name releases use. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  x64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
  i686: '386',
  '386': '386',
  ia32: '386',
  x86: '386',
  armv7: 'arm',
  armv7l: 'arm',
  arm: 'arm',
};

/** Operating system names as updaters send them (Tauri v2 says `macos`). */
const OS_ALIASES: Record<string, string> = { macos: 'darwin', darwin: 'darwin', osx: 'darwin', mac: 'darwin', linux: 'linux', windows: 'windows', win32: 'windows' };

export function normalizeArch(arch: string): string {
  return ARCH_ALIASES[arch.toLowerCase()] ?? arch.toLowerCase();
}

export function normalizeOs(os: string): string | undefined {
  return OS_ALIASES[os.toLowerCase()];
}

/**
 * Does a release platform (`os` or `os/arch`) serve this os and arch? A platform without an arch
 * serves every arch; `arch` undefined accepts every arch of the os.
 */
export function platformServes(platform: string, os: string, arch: string | undefined): boolean {
  const slash = platform.indexOf('/');
  const pOs = slash < 0 ? platform : platform.slice(0, slash);
  if (pOs !== os) return false;
  if (slash < 0 || arch === undefined) return true;
  return normalizeArch(platform.slice(slash + 1)) === arch;
}

/** The product's platforms (release lines) that serve an os and arch, computed once per load. */
export function platformsServing(product: ProductReleases, os: string, arch: string | undefined): readonly string[] {
  return product.memos.table('platforms').get(`${os}|${arch ?? '*'}`, () => [...product.lines.keys()].filter((p) => platformServes(p, os, arch)).sort());
}
