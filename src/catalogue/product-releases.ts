import type { Artifact } from '../releases/artifact.entity';
import type { Release } from '../releases/release.entity';
import { compareLineOrder, comparePrecedence } from '../releases/semver';
import type { PrecedenceColumns } from '../releases/semver';
import { createdMs, KeptArtifact } from './kept-rows';
import { Memos } from './memos';

/**
 * A release as the catalogue keeps it: the row, the entitlements its constraints require, its
 * file. A 1.1 release (many artifacts) also has `offers`: one entry per UPLOADED artifact, whose
 * `release` shows that artifact's platform and file (KeptOffer) and whose entitlements are the
 * release's and the artifact's; release lines hold the offers, as the artifact_offers view does.
 */
export interface CatalogueRelease {
  readonly release: Release;
  /** Entitlement ids of the release's constraints (and, on an offer, of its artifact's): a license must hold them all. */
  readonly entitlementIds: readonly string[];
  /** A 1.0 release's file; a 1.1 release's first artifact (what 1.0 shows); an offer's artifact. */
  readonly artifact: Artifact | null;
  /** A 1.1 release's offers (undefined on a 1.0 release and on an offer). */
  readonly offers?: readonly CatalogueRelease[];
  /**
   * A 1.1 release's artifacts that are not yanked, whatever their upload status, oldest first
   * (undefined on a 1.0 release and on an offer): what the list's `platform` filter reads
   * (`ListedRelease`).
   */
  readonly liveArtifacts?: readonly Artifact[];
}

/** The entries of a release in release lines: a 1.0 release itself, a 1.1 release's offers. */
function lineEntries(e: CatalogueRelease): readonly CatalogueRelease[] {
  return e.offers ?? [e];
}

/**
 * Heap bytes of one kept release (kept-rows.ts), for the memory budget: its row and entry with
 * their places in the maps and lines, its strings, its artifacts and offers. Fitted to heap
 * snapshots of `npm run bench:publishing`'s catalogue (docs/operations.md): about 1.1 KiB for a
 * 1.0 release with its file, 2.8 KiB for a 1.1 release with three artifacts.
 */
function estimateBytes(entry: CatalogueRelease): number {
  const r = entry.release;
  let bytes = RELEASE_BYTES + text(r.version) + text(r.filename) + text(r.signature) + text(r.checksum) + list(entry.entitlementIds);
  if (r.name !== null || r.description !== null || r.semverPrerelease !== null || r.semverBuild !== null || r.yanked !== null || r.tag !== null) {
    bytes += REST_BYTES + text(r.name) + text(r.description) + text(r.semverPrerelease) + text(r.semverBuild);
  }
  bytes += json(r.metadata) + keys(r.semverPreKey) + keys(r.semverBuildKey);
  const offers = entry.offers ?? [];
  if (entry.artifact && !offers.some((o) => o.artifact === entry.artifact)) bytes += artifactBytes(entry.artifact, r);
  if (offers.length) bytes += list(offers);
  for (const o of offers) bytes += OFFER_BYTES + artifactBytes(o.artifact!, r) + (o.entitlementIds === entry.entitlementIds ? 0 : list(o.entitlementIds));
  // a 1.1 release's artifacts not yanked (for the list filters): the array, and those kept for it alone (waiting, failed)
  const live = entry.liveArtifacts ?? [];
  if (live.length) bytes += list(live);
  for (const a of live) if (a.status !== 'UPLOADED' && a !== entry.artifact) bytes += artifactBytes(a, r);
  return bytes;
}

/** A kept release: its row (with its times), id and entry, and its places in the maps and arrays of its product and the catalogue. */
const RELEASE_BYTES = 508;
/** A release's fields that most leave empty, when it has some (kept-rows.ts). */
const REST_BYTES = 88;
/** An offer of a 1.1 release: the offer, its entry, its places in byArtifact and its line. */
const OFFER_BYTES = 150;
/** A kept artifact: its row (with its times) and id. */
const ARTIFACT_BYTES = 264;
/** An artifact's SHA-256 and SHA-512 kept as bytes (kept-rows.ts). */
const DIGEST_BYTES = 112;

/** A kept artifact and its strings (its filename, when its release's, counts once). */
function artifactBytes(a: Artifact, release: Release): number {
  const filename = a.filename === release.filename ? 0 : text(a.filename);
  const digests = a instanceof KeptArtifact && a.digestsPacked ? DIGEST_BYTES : text(a.sha256) + text(a.sha512);
  return ARTIFACT_BYTES + filename + digests + text(a.storageKey) + text(a.signature) + text(a.checksum) + json(a.metadata) + json(a.manifest);
}

/** A string as V8 keeps one of Latin-1 text: a 16-byte header, a byte per character, 8-byte aligned. */
function text(s: string | null): number {
  return s ? (s.length + 23) & ~7 : 0;
}

/** A short array of shared values. */
function list(values: readonly unknown[]): number {
  return values.length ? 32 + 16 + values.length * 8 : 0;
}

/** An array of sort keys (a prerelease's identifiers). */
function keys(values: readonly string[]): number {
  let bytes = list(values);
  for (const v of values) bytes += text(v);
  return bytes;
}

/** A JSON object kept with a row (metadata, an npm tarball's package.json), roughly. */
function json(value: object | null): number {
  if (!value) return 0;
  for (const _ in value) return JSON.stringify(value).length * 3;
  return 0;
}

/** Line order: highest precedence first (then build metadata, the newest row, the id, the offered artifact's id). */
function lineOrder(a: CatalogueRelease, b: CatalogueRelease): number {
  const order = compareLineOrder(b.release, a.release);
  if (order) return order;
  const x = a.artifact?.id ?? '';
  const y = b.artifact?.id ?? '';
  return x === y ? 0 : x < y ? 1 : -1;
}

/** Newest first, then the highest id (the default order of release lists). */
function newestOrder(a: CatalogueRelease, b: CatalogueRelease): number {
  return createdMs(b.release) - createdMs(a.release) || (a.release.id < b.release.id ? 1 : a.release.id > b.release.id ? -1 : 0);
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

/** Puts `entry` in its place in `sorted` (line order). */
function insertSorted(sorted: CatalogueRelease[], entry: CatalogueRelease): void {
  sorted.splice(positionOf(sorted, entry, lineOrder), 0, entry);
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
  /** 1.0 releases by filename (a 1.1 release's artifacts are found by id: byArtifact). */
  readonly byFilename = new Map<string, CatalogueRelease>();
  /** The offers of 1.1 releases by artifact id. */
  readonly byArtifact = new Map<string, CatalogueRelease>();
  readonly lines = new Map<string, CatalogueRelease[]>();
  /** Per platform, the line's critical entries in line order (few): what an offer's critical flag reads. */
  readonly criticals = new Map<string, CatalogueRelease[]>();
  /** Newest first (the default order of release lists). */
  readonly newestFirst: CatalogueRelease[];
  /** Rough heap bytes, for the catalogue's budget. */
  bytes = 512;
  /** Releases marked `required` (stepping stones): update checks look for one only when there is any. */
  requiredReleases = 0;
  /** Answers computed from this generation (MEMO_KINDS): dropped with it when the product changes. */
  memos = new Memos();

  constructor(
    readonly accountId: string,
    readonly productId: string,
    entries: CatalogueRelease[],
  ) {
    for (const e of entries) for (const offer of lineEntries(this.index(e))) this.lineOf(offer).push(offer);
    for (const [platform, line] of this.lines) {
      line.sort(lineOrder);
      const critical = line.filter((e) => e.release.critical);
      if (critical.length) this.criticals.set(platform, critical);
    }
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
      for (const offer of lineEntries(this.index(entry))) {
        const line = this.lineOf(offer);
        insertSorted(line, offer);
        if (offer.release.critical) insertSorted(this.criticalsOf(offer), offer);
      }
      this.newestFirst.splice(positionOf(this.newestFirst, entry, newestOrder), 0, entry);
    }
    this.generation = ++loads;
    this.memos = new Memos();
  }

  /** Adds an entry to the maps and its bytes to the budget (the sorted arrays are the caller's). */
  private index(e: CatalogueRelease): CatalogueRelease {
    this.byId.set(e.release.id, e);
    if (e.offers) for (const offer of e.offers) this.byArtifact.set(offer.artifact!.id, offer);
    else this.byFilename.set(e.release.filename, e);
    this.bytes += estimateBytes(e);
    if (e.release.required) this.requiredReleases++;
    return e;
  }

  /**
   * Whether a critical entry of `platform`'s line from `offered` (inclusive) down to the first one
   * whose precedence is not above `current` passes `visible`: O(log n) plus the critical entries
   * on the way, not the line.
   */
  criticalOnTheWay(platform: string, offered: CatalogueRelease, current: PrecedenceColumns, visible: (e: CatalogueRelease) => boolean): boolean {
    const critical = this.criticals.get(platform);
    if (!critical) return false;
    for (let i = positionOf(critical, offered, lineOrder); i < critical.length && comparePrecedence(critical[i].release, current) > 0; i++) {
      if (visible(critical[i])) return true;
    }
    return false;
  }

  private criticalsOf(e: CatalogueRelease): CatalogueRelease[] {
    let critical = this.criticals.get(e.release.platform);
    if (!critical) this.criticals.set(e.release.platform, (critical = []));
    return critical;
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
    for (const offer of lineEntries(e)) {
      if (e.offers && this.byArtifact.get(offer.artifact!.id) === offer) this.byArtifact.delete(offer.artifact!.id);
      const platform = offer.release.platform;
      const line = this.lines.get(platform);
      if (!line) continue;
      const at = positionOf(line, offer, lineOrder);
      if (line[at] === offer) line.splice(at, 1);
      if (!line.length) this.lines.delete(platform);
      const critical = this.criticals.get(platform);
      if (critical && offer.release.critical) {
        const c = positionOf(critical, offer, lineOrder);
        if (critical[c] === offer) critical.splice(c, 1);
        if (!critical.length) this.criticals.delete(platform);
      }
    }
    const at = positionOf(this.newestFirst, e, newestOrder);
    if (this.newestFirst[at] === e) this.newestFirst.splice(at, 1);
    this.bytes -= estimateBytes(e);
    if (r.required) this.requiredReleases--;
  }
}
