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

/**
 * Every release of one product (all statuses), indexed for the hot path: by id, by filename, and
 * per platform a release line sorted the way update checks read it (highest semver precedence
 * first, then build metadata, then the newest row), so that the next release is the first match.
 */
let loads = 0;

export class ProductReleases {
  /** Differs for every load: what was computed from one load is keyed by it. */
  readonly generation = ++loads;
  readonly byId = new Map<string, CatalogueRelease>();
  readonly byFilename = new Map<string, CatalogueRelease>();
  readonly lines = new Map<string, CatalogueRelease[]>();
  /** Newest first (the default order of release lists). */
  readonly newestFirst: CatalogueRelease[];
  readonly bytes: number;
  /** Answers computed from this load (MEMO_KINDS): dropped with it when the product changes. */
  readonly memos = new Memos();

  constructor(
    readonly accountId: string,
    readonly productId: string,
    entries: CatalogueRelease[],
  ) {
    let bytes = 512;
    for (const e of entries) {
      this.byId.set(e.release.id, e);
      this.byFilename.set(e.release.filename, e);
      let line = this.lines.get(e.release.platform);
      if (!line) this.lines.set(e.release.platform, (line = []));
      line.push(e);
      bytes += estimateBytes(e) + 64;
    }
    for (const line of this.lines.values()) line.sort((a, b) => compareLineOrder(b.release, a.release));
    this.newestFirst = [...entries].sort(
      (a, b) => b.release.created.getTime() - a.release.created.getTime() || (a.release.id < b.release.id ? 1 : a.release.id > b.release.id ? -1 : 0),
    );
    this.bytes = bytes;
  }
}
