import { compareVersionOrder, parseStrictVersion, semverColumns } from '../releases/semver';
import { latestAtEnds } from './latest-by-day';
import type { PublishedSpan } from './latest-by-day';

const VERSIONS = ['0.9.0', '1.0.0', '1.0.1', '1.1.0-beta.1', '1.1.0-beta.2', '1.1.0', '1.1.0+build.7', '2.0.0-rc.1', '2.0.0', '10.0.0'];

function span(version: string, started: number, ended: number | null): PublishedSpan {
  const c = semverColumns(parseStrictVersion(version)!);
  return { version, started, ended, ...c };
}

/** The rule itself, one end at a time: the highest version among the spans alive at the end. */
function bruteForce(spans: PublishedSpan[], ends: number[]): Array<string | null> {
  return ends.map((end) => {
    const alive = spans.filter((s) => s.started < end && (s.ended === null || s.ended >= end));
    return alive.length ? alive.reduce((a, b) => (compareVersionOrder(a, b) >= 0 ? a : b)).version : null;
  });
}

describe('latestAtEnds', () => {
  it('gives the highest version published at each end: yanked and drafted releases leave, republished ones come back', () => {
    const spans = [span('1.0.0', 10, null), span('2.0.0', 25, 40), span('1.1.0', 30, null), span('2.0.0', 55, null), span('0.9.0', 0, 5)];
    expect(latestAtEnds(spans, [5, 6, 20, 26, 40, 41, 50, 60])).toEqual(['0.9.0', null, '1.0.0', '2.0.0', '2.0.0', '1.1.0', '1.1.0', '2.0.0']);
  });

  it('agrees with the rule on generated spans', () => {
    let seed = 20261203;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let round = 0; round < 300; round++) {
      const spans = Array.from({ length: Math.floor(rnd() * 30) }, () => {
        const started = Math.floor(rnd() * 100);
        return span(VERSIONS[Math.floor(rnd() * VERSIONS.length)], started, rnd() < 0.5 ? null : started + Math.floor(rnd() * 40));
      });
      const ends = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 130)).sort((a, b) => a - b);
      expect({ round, latest: latestAtEnds(spans, ends) }).toEqual({ round, latest: bruteForce(spans, ends) });
    }
  });
});
