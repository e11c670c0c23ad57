import type { Artifact } from '../artifacts/artifact.entity';
import type { Release } from '../releases/release.entity';
import { innerMap } from '../common/maps';
import { compareLineOrder } from '../releases/semver';

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
  /**
   * Results computed from this load (customers' sorted lists), dropped with it when the product
   * reloads; bounded by MEMO_ENTRIES.
   */
  private readonly memo = new Map<string, CatalogueRelease[]>();
  private readonly answers = new Map<string, unknown>();
  private readonly grouped = new Map<string, Map<string, unknown>>();
  private keptAnswers = 0;

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

  /**
   * One answer computed from this load (an update check's highest visible release for a class of
   * callers and a set of filters), dropped with it; bounded by ANSWER_ENTRIES.
   */
  answer<T>(key: string, compute: () => T): T {
    if (this.answers.has(key)) return this.answers.get(key) as T;
    if (this.answers.size >= ANSWER_ENTRIES) this.answers.clear();
    const value = compute();
    this.answers.set(key, value);
    return value;
  }

  /**
   * As answer, for answers of one class of callers (`group`, a string the caller keeps, such as a
   * visibility class) and one `key` within it: no key is built from the two.
   */
  answerFor<T>(group: string, key: string, compute: () => T): T {
    const answers = this.grouped.get(group);
    if (answers?.has(key)) return answers.get(key) as T;
    const value = compute();
    this.keepOne();
    // looked up again: keepOne may have dropped the group
    innerMap(this.grouped, group).set(key, value);
    return value;
  }

  /**
   * Counts one more answer kept from this load (answerFor, and what its callers keep inside those
   * answers); past ANSWER_ENTRIES, everything answerFor kept is dropped and computed again.
   */
  keepOne(): void {
    if (++this.keptAnswers <= ANSWER_ENTRIES) return;
    this.grouped.clear();
    this.keptAnswers = 1;
  }

  memoized(key: string, compute: () => CatalogueRelease[]): CatalogueRelease[] {
    let value = this.memo.get(key);
    if (!value) {
      if (this.memo.size >= MEMO_ENTRIES) this.memo.clear();
      this.memo.set(key, (value = compute()));
    }
    return value;
  }
}

/** Distinct (visibility class, filters, sort) lists kept per product load. */
const MEMO_ENTRIES = 256;
/** Distinct (visibility class, line, filters) update-check answers kept per product load (each of answer's and answerFor's). */
const ANSWER_ENTRIES = 8192;
