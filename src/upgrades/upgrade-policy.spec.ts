import { randomUUID } from 'node:crypto';
import type { ViewerFacts } from '../access/viewer';
import { ProductReleases } from '../catalogue/product-releases';
import type { CatalogueRelease } from '../catalogue/product-releases';
import type { Channel, Release } from '../releases/release.entity';
import { comparePrecedence, parseStrictVersion, semverColumns } from '../releases/semver';
import { CHANGELOG_MAX, walkLine } from './upgrade-finder';

/** Deterministic pseudo-random numbers. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function release(version: string, channel: Channel, critical: boolean): CatalogueRelease {
  const id = randomUUID();
  const row = {
    id,
    accountId: 'a',
    productId: 'p',
    version,
    channel,
    platform: 'linux',
    filetype: 'tar.gz',
    filename: `${id}.tar.gz`,
    status: 'PUBLISHED',
    critical,
    rolloutPercentage: 100,
    multiArtifact: false,
    description: `notes of ${version}`,
    metadata: {},
    created: new Date(1_700_000_000_000),
    ...semverColumns(parseStrictVersion(version)!),
  } as unknown as Release;
  return { release: row, entitlementIds: [], artifact: null };
}

const admin: ViewerFacts = { bearer: { kind: 'admin', accountId: 'a', userId: 'u', tokenId: 't' }, licenses: [], strategyOf: () => 'LICENSED' };

/** What the policy is by definition: every stable release above `from` up to the offered one. */
function reference(entries: readonly CatalogueRelease[], offered: string, from: string): { critical: boolean; changelog: string[] } {
  const top = semverColumns(parseStrictVersion(offered)!);
  const current = semverColumns(parseStrictVersion(from)!);
  const between = entries
    .filter((e) => e.release.channel === 'stable' && comparePrecedence(e.release, current) > 0 && comparePrecedence(e.release, top) <= 0)
    .sort((a, b) => comparePrecedence(b.release, a.release));
  return { critical: between.some((e) => e.release.critical), changelog: between.slice(0, CHANGELOG_MAX).map((e) => e.release.version) };
}

describe('walkLine: an offer’s critical flag and changelog', () => {
  /**
   * Stable releases 1.0.0-1.0.99 with a few critical ones, and below the top a long stretch of beta
   * releases a stable check cannot see (some critical): `stretch` decides whether the changelog walk
   * stays short or gives the work to the class's whole view.
   */
  function product(stretch: number, seed: number): { held: ProductReleases; entries: CatalogueRelease[] } {
    const rnd = random(seed);
    const entries: CatalogueRelease[] = [];
    for (let i = 0; i < 100; i++) entries.push(release(`1.0.${i}`, 'stable', rnd() < 0.05));
    for (let i = 0; i < stretch; i++) entries.push(release(`1.0.99-beta.${i}`, 'beta', rnd() < 0.3));
    for (let i = 0; i < 3; i++) entries.push(release(`1.1.${i}`, 'stable', false));
    return { held: new ProductReleases('a', 'p', entries), entries };
  }

  it.each([
    ['a short walk', 10],
    ['a walk past its limit (the class’s view answers)', 6000],
  ])('equals the definition, with %s, from every caller version; and after changes put in place', (_, stretch) => {
    const { held, entries } = product(stretch, stretch);
    const check = (): void => {
      for (let i = 0; i < 100; i += 7) {
        const from = parseStrictVersion(`1.0.${i}`)!;
        const offer = walkLine(admin, held, { productId: 'p', platform: 'linux', channel: 'stable' }, from)!;
        const expected = reference(entries, offer.release.version, `1.0.${i}`);
        expect({ critical: offer.critical, changelog: offer.changelog.map((c) => c.version) }).toEqual(expected);
      }
    };
    check();
    // a critical release published below the top, then one made critical by a change of its row
    const added = release('1.0.150', 'stable', true);
    held.apply([added.release.id], [added]);
    entries.push(added);
    check();
    const flipped = entries.findIndex((e) => e.release.version === '1.0.3');
    const replaced = { ...entries[flipped], release: { ...entries[flipped].release, critical: true } as Release };
    held.apply([replaced.release.id], [replaced]);
    entries[flipped] = replaced;
    check();
    expect(walkLine(admin, held, { productId: 'p', platform: 'linux', channel: 'stable' }, parseStrictVersion('1.0.0')!)!.critical).toBe(true);
  });

  it('gives callers at least CHANGELOG_MAX versions behind one offer (serialized once for all of them), and each nearer caller its own', () => {
    const { held } = product(10, 7);
    const line = { productId: 'p', platform: 'linux', channel: 'stable' as const };
    const from = (v: string) => walkLine(admin, held, line, parseStrictVersion(v)!)!;
    const near = from('1.0.90');
    const far = [from('1.0.1'), from('1.0.20'), from('1.0.40')];
    expect(far.every((o) => o === far[0] && o.changelog.length === CHANGELOG_MAX)).toBe(true);
    expect(near).not.toBe(far[0]);
    expect(near.changelog.map((c) => c.version)).toEqual(['1.1.2', '1.1.1', '1.1.0', ...Array.from({ length: 9 }, (_, i) => `1.0.${99 - i}`)]);
  });
});
