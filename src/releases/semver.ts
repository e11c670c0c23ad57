import * as semver from 'semver';
import type { SemVer } from 'semver';
import type { Channel } from './release.entity';

export interface SemverColumns {
  semverMajor: number;
  semverMinor: number;
  semverPatch: number;
  semverPrerelease: string | null;
  semverBuild: string | null;
  semverIsRelease: boolean;
  semverPreKey: string[];
  semverBuildKey: string[];
}

/**
 * A strict semver 2.0 version exactly as written: no leading `v` or `=`, no surrounding spaces.
 * Returns null when invalid.
 */
export function parseStrictVersion(input: string): SemVer | null {
  if (typeof input !== 'string' || input.length > 255) return null;
  const parsed = semver.parse(input, { loose: false });
  if (!parsed) return null;
  const canonical = parsed.version + (parsed.build.length ? `+${parsed.build.join('.')}` : '');
  return canonical === input ? parsed : null;
}

/**
 * Cryptlex clients send versions loosely: `2.1` means `2.1.0`, `v2.1.3` is accepted.
 * Returns null when nothing version-like can be read.
 */
export function parseLooseVersion(input: string): SemVer | null {
  if (typeof input !== 'string') return null;
  if (!input.trim() || input.length > 255) return null;
  const trimmed = input.trim();
  const strict = semver.parse(trimmed, { loose: true });
  if (strict) return strict;
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(trimmed);
  if (!m) return null;
  return semver.parse(`${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}${m[4] ?? ''}${m[5] ?? ''}`);
}

/**
 * Encodes one identifier so that byte order equals semver order: numeric identifiers sort below
 * alphanumeric ones and compare by value (length first, then digits); alphanumeric compare in ASCII.
 */
export function identifierKey(identifier: string | number): string {
  const id = String(identifier);
  if (/^\d+$/.test(id)) return `0${String(id.length).padStart(3, '0')}${id}`;
  return `1${id}`;
}

export function semverColumns(version: SemVer): SemverColumns {
  return {
    semverMajor: version.major,
    semverMinor: version.minor,
    semverPatch: version.patch,
    semverPrerelease: version.prerelease.length ? version.prerelease.join('.') : null,
    semverBuild: version.build.length ? version.build.join('.') : null,
    semverIsRelease: version.prerelease.length === 0,
    semverPreKey: version.prerelease.map(identifierKey),
    semverBuildKey: version.build.map(identifierKey),
  };
}

/** The read-only `semver` attribute of a release. */
export function semverAttribute(c: Pick<SemverColumns, 'semverMajor' | 'semverMinor' | 'semverPatch' | 'semverPrerelease' | 'semverBuild'>) {
  return { major: c.semverMajor, minor: c.semverMinor, patch: c.semverPatch, prerelease: c.semverPrerelease, build: c.semverBuild };
}

/**
 * A stable version has no prerelease tag; any other channel's prerelease starts with the
 * channel's name (`1.2.0-beta.3` on beta, `2.0.0-rc1` on rc).
 */
export function versionFitsChannel(version: SemVer, channel: Channel): boolean {
  if (channel === 'stable') return version.prerelease.length === 0;
  const first = version.prerelease[0];
  return typeof first === 'string' && first.toLowerCase().startsWith(channel);
}

/** Channels are inclusive: a client on `beta` also takes rc and stable releases. */
export const INCLUSIVE_CHANNELS: Record<Channel, Channel[]> = {
  stable: ['stable'],
  rc: ['stable', 'rc'],
  beta: ['stable', 'rc', 'beta'],
  alpha: ['stable', 'rc', 'beta', 'alpha'],
  dev: ['dev'],
};

/** The ORDER BY columns of semver precedence (build metadata breaks ties), for a releases alias. */
export function precedenceColumns(alias: string): string[] {
  return [
    `${alias}.semver_major`,
    `${alias}.semver_minor`,
    `${alias}.semver_patch`,
    `${alias}.semver_is_release`,
    `${alias}.semver_pre_key`,
    `${alias}.semver_build_key`,
  ];
}

/**
 * SQL for "this release's version is greater than `version`" (semver precedence, build ignored),
 * as a row comparison that the releases_precedence index serves.
 */
export function greaterThanSql(alias: string, version: SemVer, prefix = 'gt'): { sql: string; params: Record<string, unknown> } {
  const c = semverColumns(version);
  return {
    sql:
      `(${alias}.semver_major, ${alias}.semver_minor, ${alias}.semver_patch, ${alias}.semver_is_release, ${alias}.semver_pre_key) > ` +
      `(:${prefix}Major, :${prefix}Minor, :${prefix}Patch, :${prefix}IsRelease, CAST(:${prefix}PreKey AS text[]))`,
    params: {
      [`${prefix}Major`]: c.semverMajor,
      [`${prefix}Minor`]: c.semverMinor,
      [`${prefix}Patch`]: c.semverPatch,
      [`${prefix}IsRelease`]: c.semverIsRelease,
      [`${prefix}PreKey`]: c.semverPreKey,
    },
  };
}

/** Upgrade `constraint`: `M` keeps major M; `M.m` keeps major M and minor >= m. */
export interface UpgradeConstraint {
  major: number;
  minor?: number;
}

export function parseUpgradeConstraint(raw: string): UpgradeConstraint | null {
  const m = /^(\d{1,9})(?:\.(\d{1,9}))?$/.exec(raw);
  if (!m) return null;
  return { major: Number(m[1]), minor: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Compares two encoded keys as PostgreSQL compares `text[] COLLATE "C"` (element by element, then length). */
function compareKeys(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

export type PrecedenceColumns = Pick<SemverColumns, 'semverMajor' | 'semverMinor' | 'semverPatch' | 'semverIsRelease' | 'semverPreKey'>;

/**
 * Semver precedence of two releases (negative: `a` is lower), build metadata ignored: the same
 * comparison as greaterThanSql, in memory.
 */
export function comparePrecedence(a: PrecedenceColumns, b: PrecedenceColumns): number {
  return (
    a.semverMajor - b.semverMajor ||
    a.semverMinor - b.semverMinor ||
    a.semverPatch - b.semverPatch ||
    Number(a.semverIsRelease) - Number(b.semverIsRelease) ||
    compareKeys(a.semverPreKey, b.semverPreKey)
  );
}

type VersionColumns = PrecedenceColumns & Pick<SemverColumns, 'semverBuildKey'>;

/** The order of precedenceColumns (precedence, then build metadata), as SQL sorts them ascending. */
export function compareVersionOrder(a: VersionColumns, b: VersionColumns): number {
  return comparePrecedence(a, b) || compareKeys(a.semverBuildKey, b.semverBuildKey);
}

/**
 * compareVersionOrder plus the tie-breaks of a release line (created, then id), ascending; a line
 * lists releases in the reverse of this order.
 */
export function compareLineOrder(a: VersionColumns & { created: Date; id: string }, b: VersionColumns & { created: Date; id: string }): number {
  return (
    compareVersionOrder(a, b) ||
    a.created.getTime() - b.created.getTime() ||
    (a.id === b.id ? 0 : a.id < b.id ? -1 : 1)
  );
}
