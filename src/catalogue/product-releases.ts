import type { Artifact } from '../releases/artifact.entity';
import type { Release } from '../releases/release.entity';
import { compareLineOrder } from '../releases/semver';
import { Memos } from './memos';

/** A release as the catalogue keeps it: the row, the entitlements its constraints require, its file. */
export interface CatalogueRelease {
  readonly release: Release;
  /** Entitlement ids of the release's constraints (a license must hold them all). */
  readonly entitlementIds: readonly string[];
  readonly artifact: Artifact | null;
}

/** Rough heap bytes of one kept release, for the memory budget (measured: see README, Performance). */
function estimateBytes(entry: CatalogueRelease): number {
  const r = entry.release;
  let strings = r.version.length + r.platform.length + r.filename.length + r.filetype.length;
  strings += (r.name?.length ?? 0) + (r.description?.length ?? 0) + (r.signature?.length ?? 0) + (r.checksum?.length ?? 0);
  strings += r.semverPreKey.join('').length + r.semverBuildKey.join('').length;
  const metadata = Object.keys(r.metadata).length ? JSON.stringify(r.metadata).length * 3 : 0;
  const artifact = entry.artifact ? 900 + entry.artifact.filename.length * 2 : 0;
  return 1400 + strings * 2 + metadata + artifact + entry.entitlementIds.length * 120;
}

/** Line order: highest precedence first (then build metadata, the newest row, the id). */
function lineOrder(a: CatalogueRelease, b: CatalogueRelease): number {
  return compareLineOrder(b.release, a.release);
}

/** Newest first, then the highest id (the default order of release lists). */
function newestOrder(a: CatalogueRelease, b: CatalogueRelease): number {
  return b.release.created.getTime() - a.release.created.getTime() || (a.release.id < b.release.id ? 1 : a.release.id > b.release.id ? -1 : 0);
}

/** The index at which `entry` sits (or would sit) in `sorted`, by binary search: O(log n). */
function positionOf(sorted: readonly CatalogueRelease[], entry: CatalogueRelease, order: (a: CatalogueRelease, b: CatalogueRelease) => number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (order(sorted[mid], entry) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

let loads = 0;

/**
 * Every release of one product (all statuses), indexed for the hot path: by id, by filename, and
 * per platform a release line sorted the way update checks read it (highest semver precedence
 * first, then build metadata, then the newest row), so that the next release is the first match.
 *
 * Built whole by a load, then kept current one release at a time (`apply`, from the change
 * notifications): each change finds its place by binary search and moves the others with one
 * array copy, and gives the product a new generation, which drops every memo of the old one.
 */
export class ProductReleases {
  /** Changes with every load and every applied change: what was computed from the releases is keyed by it. */
  generation = ++loads;
  readonly byId = new Map<string, CatalogueRelease>();
  readonly byFilename = new Map<string, CatalogueRelease>();
  readonly lines = new Map<string, CatalogueRelease[]>();
  /** Newest first (the default order of release lists). */
  readonly newestFirst: CatalogueRelease[];
  /** Rough heap bytes, for the catalogue's budget. */
  bytes = 512;
  /** Answers computed from this generation (MEMO_KINDS): dropped with it when the product changes. */
  memos = new Memos();

  constructor(
    readonly accountId: string,
    readonly productId: string,
    entries: CatalogueRelease[],
  ) {
    for (const e of entries) this.lineOf(this.index(e)).push(e);
    for (const line of this.lines.values()) line.sort(lineOrder);
    this.newestFirst = [...entries].sort(newestOrder);
  }

  /**
   * Replaces the entries of these release ids with `fresh` (an id of `ids` missing from `fresh`
   * was deleted), then starts a new generation.
   */
  apply(ids: Iterable<string>, fresh: readonly CatalogueRelease[]): void {
    for (const id of ids) {
      const old = this.byId.get(id);
      if (old) this.remove(old);
    }
    for (const entry of fresh) {
      const line = this.lineOf(this.index(entry));
      line.splice(positionOf(line, entry, lineOrder), 0, entry);
      this.newestFirst.splice(positionOf(this.newestFirst, entry, newestOrder), 0, entry);
    }
    this.generation = ++loads;
    this.memos = new Memos();
  }

  /** Adds an entry to the maps and its bytes to the budget (the sorted arrays are the caller's). */
  private index(e: CatalogueRelease): CatalogueRelease {
    this.byId.set(e.release.id, e);
    this.byFilename.set(e.release.filename, e);
    this.bytes += estimateBytes(e) + 64;
    return e;
  }

  private lineOf(e: CatalogueRelease): CatalogueRelease[] {
    let line = this.lines.get(e.release.platform);
    if (!line) this.lines.set(e.release.platform, (line = []));
    return line;
  }

  private remove(e: CatalogueRelease): void {
    const r = e.release;
    this.byId.delete(r.id);
    if (this.byFilename.get(r.filename) === e) this.byFilename.delete(r.filename);
    const line = this.lines.get(r.platform);
    if (line) {
      const at = positionOf(line, e, lineOrder);
      if (line[at] === e) line.splice(at, 1);
      if (!line.length) this.lines.delete(r.platform);
    }
    const at = positionOf(this.newestFirst, e, newestOrder);
    if (this.newestFirst[at] === e) this.newestFirst.splice(at, 1);
    this.bytes -= estimateBytes(e) + 64;
  }
}
