import * as semver from 'semver';
import { identifierKey, parseLooseVersion, parseStrictVersion, semverColumns, versionFitsChannel } from './semver';

/** Compares two versions the way the SQL ordering does: the encoded column tuple. */
function keyCompare(a: string, b: string): number {
  const ca = semverColumns(parseStrictVersion(a)!);
  const cb = semverColumns(parseStrictVersion(b)!);
  const tuple = (c: typeof ca) => [c.semverMajor, c.semverMinor, c.semverPatch, c.semverIsRelease ? 1 : 0];
  const ta = tuple(ca);
  const tb = tuple(cb);
  for (let i = 0; i < ta.length; i++) if (ta[i] !== tb[i]) return ta[i] < tb[i] ? -1 : 1;
  const pa = ca.semverPreKey;
  const pb = cb.semverPreKey;
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return Buffer.compare(Buffer.from(pa[i]), Buffer.from(pb[i]));
  }
  return Math.sign(pa.length - pb.length);
}

describe('semver', () => {
  it('accepts only strict semver 2.0 exactly as written', () => {
    expect(parseStrictVersion('1.2.3')?.version).toBe('1.2.3');
    expect(parseStrictVersion('1.2.3-beta.1+build.5')).not.toBeNull();
    for (const bad of ['v1.2.3', '=1.2.3', ' 1.2.3', '1.2', '01.2.3', '1.2.3-', 'latest', '1.2.3-01']) {
      expect(parseStrictVersion(bad)).toBeNull();
    }
  });

  it('reads Cryptlex versions loosely', () => {
    expect(parseLooseVersion('2.1')?.version).toBe('2.1.0');
    expect(parseLooseVersion('2')?.version).toBe('2.0.0');
    expect(parseLooseVersion('v3.0.1')?.version).toBe('3.0.1');
    expect(parseLooseVersion('nope')).toBeNull();
  });

  it('encodes prerelease identifiers so that byte order is semver precedence', () => {
    const versions = [
      '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11',
      '1.0.0-rc.1', '1.0.0', '1.0.1-2', '1.0.1-10', '1.0.1-a', '1.0.1', '1.10.0', '2.0.0-0', '2.0.0', '10.0.0',
    ];
    const shuffled = [...versions].reverse();
    expect([...shuffled].sort(keyCompare)).toEqual(versions);
    for (let i = 0; i < versions.length; i++) {
      for (let j = 0; j < versions.length; j++) {
        expect(keyCompare(versions[i], versions[j])).toBe(semver.compare(versions[i], versions[j]));
      }
    }
    expect(identifierKey('9') < identifierKey('10')).toBe(true);
    expect(identifierKey('999') < identifierKey('a')).toBe(true);
  });

  it('ties a version to its channel', () => {
    expect(versionFitsChannel(parseStrictVersion('1.0.0')!, 'stable')).toBe(true);
    expect(versionFitsChannel(parseStrictVersion('1.0.0-beta.1')!, 'stable')).toBe(false);
    expect(versionFitsChannel(parseStrictVersion('1.0.0-beta.1')!, 'beta')).toBe(true);
    expect(versionFitsChannel(parseStrictVersion('1.0.0-rc1')!, 'rc')).toBe(true);
    expect(versionFitsChannel(parseStrictVersion('1.0.0-alpha.1')!, 'beta')).toBe(false);
    expect(versionFitsChannel(parseStrictVersion('1.0.0')!, 'dev')).toBe(false);
  });
});
