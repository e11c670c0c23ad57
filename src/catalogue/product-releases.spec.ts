import { randomUUID } from 'node:crypto';
import type { Release } from '../releases/release.entity';
import { parseStrictVersion, semverColumns } from '../releases/semver';
import { ProductReleases } from './product-releases';
import type { CatalogueRelease } from './product-releases';

/** Deterministic pseudo-random numbers. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const PLATFORMS = ['linux', 'darwin', 'windows/amd64'];
const VERSIONS = ['1.0.0', '1.0.1', '1.1.0', '1.1.0-beta.1', '1.1.0-beta.2', '2.0.0', '2.0.0+build.7', '2.0.0+build.9', '10.0.0-rc.1'];

function entry(rnd: () => number, id: string = randomUUID()): CatalogueRelease {
  const version = VERSIONS[Math.floor(rnd() * VERSIONS.length)];
  const platform = PLATFORMS[Math.floor(rnd() * PLATFORMS.length)];
  const release = {
    id,
    accountId: 'a',
    productId: 'p',
    version,
    platform,
    filetype: 'tar.gz',
    filename: `${id}.tar.gz`,
    name: null,
    description: null,
    signature: null,
    checksum: null,
    metadata: {},
    critical: rnd() < 0.2,
    // few distinct times: ties are broken by id, as in SQL
    created: new Date(1_700_000_000_000 + Math.floor(rnd() * 5) * 1000),
    ...semverColumns(parseStrictVersion(version)!),
  } as unknown as Release;
  return { release, entitlementIds: [], artifact: null };
}

/** What a reader sees: the sorted lines and lists as id sequences, and the maps' keys. */
function shape(p: ProductReleases): unknown {
  const lines: Record<string, string[]> = {};
  for (const [platform, line] of p.lines) lines[platform] = line.map((e) => e.release.id);
  const criticals: Record<string, string[]> = {};
  for (const [platform, line] of p.criticals) criticals[platform] = line.map((e) => e.release.id);
  return {
    lines,
    criticals,
    newest: p.newestFirst.map((e) => e.release.id),
    ids: [...p.byId.keys()].sort(),
    filenames: [...p.byFilename.keys()].sort(),
  };
}

describe('ProductReleases.apply: a change put in place equals a fresh load of the same releases', () => {
  it('after 400 random inserts, replacements and deletions, in batches of 1-5', () => {
    const rnd = random(7);
    let current = new Map<string, CatalogueRelease>();
    for (let i = 0; i < 60; i++) {
      const e = entry(rnd);
      current.set(e.release.id, e);
    }
    const held = new ProductReleases('a', 'p', [...current.values()]);
    for (let step = 0; step < 400; step++) {
      const ids: string[] = [];
      const fresh: CatalogueRelease[] = [];
      const n = 1 + Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) {
        const op = rnd();
        const existing = [...current.keys()];
        if (op < 0.4 || !existing.length) {
          const e = entry(rnd);
          ids.push(e.release.id);
          fresh.push(e);
        } else if (op < 0.75) {
          const id = existing[Math.floor(rnd() * existing.length)];
          if (ids.includes(id)) continue;
          ids.push(id);
          fresh.push(entry(rnd, id)); // the same release with other columns (a PATCH, a yank)
        } else {
          const id = existing[Math.floor(rnd() * existing.length)];
          if (ids.includes(id)) continue;
          ids.push(id);
        }
      }
      const before = held.generation;
      const memos = held.memos;
      held.apply(ids, fresh);
      current = new Map(current);
      for (const id of ids) current.delete(id);
      for (const e of fresh) current.set(e.release.id, e);
      expect(shape(held)).toEqual(shape(new ProductReleases('a', 'p', [...current.values()])));
      // every memo of the old generation is dropped
      expect(held.generation).not.toBe(before);
      expect(held.memos).not.toBe(memos);
    }
  });

  it('keeps its byte estimate equal to a fresh load of the same releases', () => {
    const rnd = random(11);
    const entries = Array.from({ length: 30 }, () => entry(rnd));
    const held = new ProductReleases('a', 'p', entries);
    const added = entry(rnd);
    held.apply([entries[0].release.id, added.release.id], [added]);
    expect(held.bytes).toBe(new ProductReleases('a', 'p', [...entries.slice(1), added]).bytes);
  });
});
