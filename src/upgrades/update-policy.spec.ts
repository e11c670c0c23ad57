import semver from 'semver';
import { parseStrictVersion, semverColumns } from '../releases/semver';
import { compilePin, pinAdmits } from './update-policy';

/** A license's pin admits exactly what node-semver's satisfies says (prereleases included), for the ranges vendors write. */
describe('compilePin / pinAdmits', () => {
  const versions = ['0.9.0', '1.0.0', '1.4.2', '2.0.0-rc.1', '2.0.0', '2.3.9', '2.4.0-beta.2', '2.4.0', '2.4.7', '2.5.0-0', '2.5.0', '2.10.1', '3.0.0-alpha.1', '3.0.0', '3.1.4', '10.0.0'];
  const ranges = ['~2.4', '^2', '<3', '>=2.4.0 <2.5.0', '2.4.x || 3.1.x', '2.x', '*', '=2.4.7', '2.4.7', '>2.0.0-rc.1', '^0.9', '1.0.0 - 2.4.0', '~2.4.0-beta.1'];

  it.each(ranges)('%s', (range) => {
    const pin = compilePin(range)!;
    expect(pin).not.toBeNull();
    for (const v of versions) {
      expect([v, pinAdmits(pin, semverColumns(parseStrictVersion(v)!))]).toEqual([v, semver.satisfies(v, range, { includePrerelease: true })]);
    }
  });

  it('refuses what is not a range, and keeps one compiled pin per text', () => {
    expect(compilePin('not a range')).toBeNull();
    expect(compilePin('~2.4')).toBe(compilePin('~2.4'));
    expect(pinAdmits(null, semverColumns(parseStrictVersion('9.9.9')!))).toBe(true);
  });
});
