import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SelectQueryBuilder } from 'typeorm';
import type { SemVer } from 'semver';
import type { Artifact } from '../releases/artifact.entity';
import { Artifact as ArtifactEntity } from '../releases/artifact.entity';
import { ReleaseOffer } from '../releases/release-offer.entity';
import type { Bearer } from '../access/bearer';
import { CatalogueService } from '../catalogue/catalogue.service';
import type { CatalogueRelease, ProductReleases } from '../catalogue/product-releases';
import type { MemoTable } from '../catalogue/memos';
import { RowMemo } from '../catalogue/kept-resources';
import { CountersService } from '../counters/counters.service';
import { Release } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { ReleaseVisibilityPolicy, visibilityClass } from '../releases/release.policy';
import type { ViewerFacts } from '../access/viewer';
import { offeredTo, offeredSql } from '../releases/rollout';
import { compareLineOrder } from '../releases/semver';
import { comparePrecedence, greaterThanSql, INCLUSIVE_CHANNELS, parseLooseVersion, parseStrictVersion, precedenceColumns, semverColumns } from '../releases/semver';
import type { PrecedenceColumns } from '../releases/semver';
import type { UpgradeConstraint } from '../releases/semver';
import type { ProductPolicyFacts } from '../products/product-policy';
import { belowMinimum, callerLicense, callerPin, firstNotAbove, pinAdmits, pinSql, precedenceSql, productPolicy, yankedOnLine } from './update-policy';
import { productPolicyFacts } from '../products/product-policy';
import type { CompiledPin } from './update-policy';

export interface ReleaseLine {
  productId: string;
  platform: string;
  /** Narrows to one filetype when given. */
  filetype?: string;
  channel: Channel;
  constraint?: UpgradeConstraint;
  /** Only releases whose artifact is UPLOADED (the redirecting route needs a file to send). */
  requireArtifact?: boolean;
  /** Only PUBLISHED releases, whoever asks (the Cryptlex routes). */
  publishedOnly?: boolean;
  /**
   * An anonymous caller's stand-in for a license id in staged rollouts (an admin or product token
   * sends it to see what that install gets).
   */
  installId?: string;
  /**
   * The product's update policy (minimumVersion, rollbackOnYank): the catalogue's
   * ProductFacts.policy. Undefined: the finder reads it (the SQL path, UpgradeFinder).
   */
  policy?: ProductPolicyFacts | null;
}

export interface UpgradeQuery extends ReleaseLine {
  current: SemVer;
}

/** A release the finder chose, with its artifact when the catalogue knew it (undefined: not looked up). */
export interface FoundRelease {
  release: Release;
  artifact?: Artifact | null;
}

/** One visible release between the caller's version and the offered one. */
export interface ChangelogEntry {
  version: string;
  notes: string | null;
  created: string;
}

/**
 * What findNext offers: the release, and the update policy from the caller's version up to it:
 * `critical` when any visible release above the caller's version and up to the offered one is
 * critical (skipping a critical release never hides it), and those releases' notes, newest first.
 */
export interface OfferedRelease extends FoundRelease {
  critical: boolean;
  changelog: readonly ChangelogEntry[];
  /** The caller's version is below the product's minimumVersion: critical whatever the releases say. */
  belowMinimum?: true;
  /** Offered below the caller's version, whose release was yanked (the product's rollbackOnYank). */
  rollback?: true;
}

/** Changelog entries at most. */
export const CHANGELOG_MAX = 50;

/** A visible release near the top of a line, with its place in the line. */
interface Candidate {
  found: FoundRelease;
  index: number;
  /** What it is offered as: to callers without a version (findLatest), and per version callers run. */
  latest?: OfferedRelease;
  offers?: Map<string, OfferedRelease | null>;
  /** Its changelog walk, read once: every caller's changelog is a prefix of it (changelogRun). */
  run?: ChangelogRun;
  /**
   * The offers whose changelog is the whole run (callers at least CHANGELOG_MAX versions behind,
   * most of them after a publish), by their critical and minimum flags: one object, so that what
   * is serialized per offered release (MEMO_KINDS.v3Update, upgradeDocument) is made once for all.
   */
  shared?: Map<string, OfferedRelease>;
}

/**
 * The class's visible releases from a candidate down the line, one per version, as policyOnTheWay
 * walks them for a caller far below: until CHANGELOG_MAX versions are found, the line ends, or the
 * walk passes WALK_MAX releases (then `bailed`).
 */
interface ChangelogRun {
  entries: ChangelogEntry[];
  /** The line index of each entry. */
  at: number[];
  /** The walk read the line up to this index (exclusive). */
  end: number;
  bailed: boolean;
}

/** The caller kinds whose upgrade checks are counted (admins and product tokens are internal). */
export function countsAsCustomer(bearer: Bearer): boolean {
  return bearer.kind === 'license' || bearer.kind === 'user' || bearer.kind === 'anonymous';
}

/**
 * The release findNext (with `current`) or findLatest (without) answers from the product's line:
 * the line's highest release that the query and the viewer admit, that is offered to the caller's
 * rollout cohort and inside its license's pin, if it is above `current`; then the update policy
 * from `current`: a required release on the way is offered instead (a stepping stone), and a caller
 * on a yanked release with nothing above it is offered the newest release below it when the
 * product rolls back. The visible releases at the top of the line are the same for every caller
 * of one visibility class (and pin), so they are found once per load of the product and class
 * (the walk may pass hundreds of releases the class cannot see); only the cohort test of staged
 * releases is per caller. This is the decision every update route and feed reads (the SQL twin:
 * UpgradeFinder.findNext; the reasons per release: explain.ts).
 */
export function walkLine(viewer: ViewerFacts, product: ProductReleases | null, line: ReleaseLine, current?: SemVer): OfferedRelease | null {
  const entries = product?.lines.get(line.platform);
  if (!product || !entries) return null;
  const now = Date.now();
  const tops = product.memos.table('lineTop');
  const pin = callerPin(viewer, line.productId);
  const policy = productPolicy(line.policy);
  const cls = visibilityClass(viewer, now);
  // pins and policies are rare: the common key is the class and the line's filters
  const extra = pin || policy ? `|${pin?.text ?? ''}|${policy?.key ?? ''}` : '';
  const top = tops.get(`${cls}|${lineKey(viewer, product, line)}${extra}`, () => visibleTop(viewer, entries, line, now, pin));
  const cohort = top.length > 1 || top[0]?.found.release.rolloutPercentage < 100 ? cohortOf(viewer, line) : undefined;
  let pick: Candidate | undefined;
  for (const c of top) {
    if (offeredTo(c.found.release.id, c.found.release.rolloutPercentage, cohort)) {
      pick = c;
      break;
    }
  }
  if (!current) return pick ? (pick.latest ??= { ...pick.found, critical: pick.found.release.critical, changelog: [] }) : null;
  // most callers: what the top's pick offers from this version is known (null: up to date)
  const known = pick?.offers?.get(current.version);
  if (known !== undefined) return known;
  const from = semverColumns(current);
  const view = () => tops.get(`${cls}|${policyKey(viewer, product, line)}${extra}`, () => visibleAlong(viewer, entries, line, now));
  // the top's pick answers unless a stepping stone holds it back or a rollback replaces it (those
  // walks read the caller's cohort: their outcome is kept only on the release they find)
  let chosen = pick;
  let direct = true;
  // a stepping stone: the lowest visible required release above `current` holds back what is above it
  if (chosen && product.requiredReleases > 0) {
    const barrier = steppingStone(entries, view(), from);
    if (barrier && comparePrecedence(chosen.found.release, barrier) > 0) {
      chosen = walkDown(viewer, entries, line, view(), firstNotAbove(entries, barrier), (r) => comparePrecedence(r, from) > 0, pin, now);
      direct = false;
    }
  }
  let rollback = false;
  if (!chosen || comparePrecedence(chosen.found.release, from) <= 0) {
    chosen = undefined;
    if (policy?.rollbackOnYank && yankedOnLine(entries, from, fileFilter(line))) {
      chosen = walkDown(viewer, entries, line, view(), firstBelow(entries, from), () => true, pin, now);
      rollback = true;
      direct = false;
    }
    if (!chosen) {
      // up to date: kept with the top's pick
      if (pick && direct) memoize(tops, pick, current.version, null);
      return null;
    }
  }
  // the policy from `current` up to the offered release: the same for every caller of the class
  let offer = chosen.offers?.get(current.version);
  if (offer === undefined) {
    const below = belowMinimum(policy, from);
    if (rollback) {
      offer = { ...chosen.found, critical: below, changelog: [], rollback: true };
    } else {
      offer = { ...chosen.found, ...(policyOnTheWay(viewer, product, entries, line, chosen, from, now) ?? policyInMemory(entries, view(), chosen.index, from)) };
      if (below) offer.critical = true;
    }
    if (below) offer.belowMinimum = true;
    if (offer.changelog === chosen.run?.entries) offer = shared(chosen, offer);
    memoize(tops, chosen, current.version, offer);
  }
  return offer;
}

/** The candidate's offer with the whole run as changelog and these flags: the first one made. */
function shared(candidate: Candidate, offer: OfferedRelease): OfferedRelease {
  const key = `${offer.critical ? 'c' : ''}${offer.belowMinimum ? 'm' : ''}`;
  const kept = (candidate.shared ??= new Map()).get(key);
  if (kept) return kept;
  candidate.shared.set(key, offer);
  return offer;
}

/** Keeps what a candidate offers from a version, inside the line's top: counted with it (a full table drops both). */
function memoize(tops: MemoTable, candidate: Candidate, version: string, offer: OfferedRelease | null): void {
  tops.count();
  (candidate.offers ??= new Map()).set(version, offer);
}

/**
 * The required release that holds back a caller on `current` (the lowest visible one above it),
 * as walkLine reads it; null when there is none.
 */
export function steppingStoneFor(viewer: ViewerFacts, product: ProductReleases, line: ReleaseLine, current: SemVer): Release | null {
  const entries = product.lines.get(line.platform);
  if (!entries || product.requiredReleases === 0) return null;
  const now = Date.now();
  const pin = callerPin(viewer, line.productId);
  const policy = productPolicy(line.policy);
  const extra = pin || policy ? `|${pin?.text ?? ''}|${policy?.key ?? ''}` : '';
  const view = product.memos.table('lineTop').get(`${visibilityClass(viewer, now)}|${policyKey(viewer, product, line)}${extra}`, () => visibleAlong(viewer, entries, line, now));
  return steppingStone(entries, view, semverColumns(current));
}

/**
 * The first release from line index `start` down that the caller is offered (the line's filters
 * and constraint, its visibility, pin and cohort) while `above(release)` holds; as a candidate
 * kept with the class's view (so that its offers are memoized like the top's).
 */
function walkDown(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, view: LineView, start: number, above: (r: Release) => boolean, pin: CompiledPin | null, now: number): Candidate | undefined {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const cohort = cohortOf(viewer, line);
  for (let index = start; index < entries.length; index++) {
    const entry = entries[index];
    const r = entry.release;
    if (!above(r)) return undefined;
    if (!withinConstraint(line.constraint, r) || !admits(line, channels, entry) || !ReleaseVisibilityPolicy.sees(viewer, entry, now)) continue;
    if (!pinAdmits(pin, r) || !offeredTo(r.id, r.rolloutPercentage, cohort)) continue;
    const kept = (view.candidates ??= new Map());
    let candidate = kept.get(index);
    if (!candidate) kept.set(index, (candidate = { found: { release: r, artifact: entry.artifact }, index }));
    return candidate;
  }
  return undefined;
}

/** The lowest visible required release above `current` (null: none), from the class's view of the line. */
function steppingStone(entries: readonly CatalogueRelease[], view: LineView, current: PrecedenceColumns): Release | null {
  // view.required is ascending in line order (highest first): the last one above `current` is the lowest
  const at = lowerBound(view.required, firstNotAbove(entries, current)) - 1;
  return at >= 0 ? entries[view.required[at]].release : null;
}

/** The first index of the line whose precedence is below `current`. */
function firstBelow(entries: readonly CatalogueRelease[], current: PrecedenceColumns): number {
  let i = firstNotAbove(entries, current);
  while (i < entries.length && comparePrecedence(entries[i].release, current) === 0) i++;
  return i;
}

/** The line's file filter without its channels (what rollbackOnYank reads of the caller's own release). */
function fileFilter(line: Pick<ReleaseLine, 'filetype'>): (r: Release) => boolean {
  return (r) => (line.filetype !== undefined ? r.filetype === line.filetype : !(r.multiArtifact && isAuxiliary(r.filetype)));
}

/** The client's `constraint=` (major, and minor at least). */
function withinConstraint(constraint: UpgradeConstraint | undefined, r: Release): boolean {
  if (!constraint) return true;
  if (r.semverMajor !== constraint.major) return false;
  return constraint.minor === undefined || r.semverMinor >= constraint.minor;
}

/**
 * Whom staged rollouts are decided for (rollout.ts offeredTo): a license its own id, a user the
 * first of its usable licenses of the product (else its installId), an anonymous caller its
 * installId or nobody (null: outside every partial rollout); admins and product tokens see every
 * release (undefined) unless they name an installId.
 */
export function cohortOf(viewer: ViewerFacts, line: Pick<ReleaseLine, 'productId' | 'installId'>): string | null | undefined {
  const bearer = viewer.bearer;
  switch (bearer.kind) {
    case 'license':
      return bearer.license.id;
    case 'user':
      return callerLicense(viewer, line.productId)?.id ?? line.installId ?? null;
    case 'anonymous':
      return line.installId ?? null;
    default:
      return line.installId;
  }
}

/** The line's filters (the caller's visibility class is the other half of an answer's key). */
function lineKey(viewer: ViewerFacts, product: ProductReleases, line: ReleaseLine): string {
  const constraint = line.constraint ? `${line.constraint.major}.${line.constraint.minor ?? ''}` : '';
  return `${viewer.strategyOf(product.productId)}|${line.platform}|${line.channel}|${line.filetype ?? ''}|${constraint}|${line.requireArtifact ? 1 : 0}${line.publishedOnly ? 1 : 0}`;
}

/** What an offer's policy reads of the line's filters: not the constraint (it narrows what is offered, not the releases on the way). */
function policyKey(viewer: ViewerFacts, product: ProductReleases, line: ReleaseLine): string {
  return `policy|${viewer.strategyOf(product.productId)}|${line.platform}|${line.channel}|${line.filetype ?? ''}|${line.requireArtifact ? 1 : 0}${line.publishedOnly ? 1 : 0}`;
}

/**
 * Files of a 1.1 release that describe or patch another file (electron's `.blockmap` and channel
 * `.yml`, a detached `.sig`): offered only when the check names their filetype.
 */
export const AUXILIARY_FILETYPES: readonly string[] = ['blockmap', 'yml', 'yaml', 'sig'];

/** A filetype that is, or ends in, an auxiliary one (`exe.blockmap` too), as a POSIX regular expression. */
const AUXILIARY_PATTERN = `(^|\\.)(${AUXILIARY_FILETYPES.join('|')})$`;

/** Whether a 1.1 release's file is auxiliary (isAuxiliary in memory, AUXILIARY_PATTERN in SQL). */
export function isAuxiliary(filetype: string): boolean {
  const dot = filetype.lastIndexOf('.');
  return AUXILIARY_FILETYPES.includes(dot < 0 ? filetype : filetype.slice(dot + 1));
}

/** The two sources of a line (see UpgradeFinder.filtered). */
export interface LineQueries {
  releases: SelectQueryBuilder<Release>;
  artifacts: SelectQueryBuilder<ReleaseOffer>;
}

/** Does a release of the line pass the query's filters (not the caller's visibility)? */
export function admits(line: Pick<ReleaseLine, 'filetype' | 'publishedOnly' | 'requireArtifact'>, channels: readonly string[], entry: CatalogueRelease): boolean {
  const r = entry.release;
  if (!channels.includes(r.channel)) return false;
  if (line.filetype !== undefined && r.filetype !== line.filetype) return false;
  if (line.filetype === undefined && r.multiArtifact && isAuxiliary(r.filetype)) return false;
  if (line.publishedOnly && r.status !== 'PUBLISHED') return false;
  if (line.requireArtifact && entry.artifact?.status !== 'UPLOADED') return false;
  return true;
}

/**
 * The releases a line's walk may offer, in line order (sorted highest precedence first): every
 * release the filters and the viewer admit down to the first one fully rolled out, inclusive.
 * Without staged releases that is one release.
 */
function visibleTop(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, now: number, pin: CompiledPin | null): Candidate[] {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const top: Candidate[] = [];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    const r = entry.release;
    if (line.constraint) {
      if (r.semverMajor > line.constraint.major) continue;
      if (r.semverMajor < line.constraint.major) break;
      if (line.constraint.minor !== undefined && r.semverMinor < line.constraint.minor) break;
    }
    if (!admits(line, channels, entry)) continue;
    if (!ReleaseVisibilityPolicy.sees(viewer, entry, now)) continue;
    if (!pinAdmits(pin, r)) continue;
    top.push({ found: { release: r, artifact: entry.artifact }, index });
    if (r.rolloutPercentage >= 100) break;
  }
  return top;
}

/**
 * The releases of a line that the filters and a class of callers admit (what an offer's policy
 * reads), computed once per visibility class and product generation: their indices in the line,
 * and how many of the first i are critical. An offer's policy is then a binary search and at
 * most CHANGELOG_MAX steps, however long the line below the offered release is.
 */
interface LineView {
  /** Indices into the line, ascending (highest precedence first). */
  visible: number[];
  /** criticalBefore[i]: critical releases among visible[0..i). */
  criticalBefore: number[];
  /** Indices of the visible required releases (stepping stones), ascending. */
  required: number[];
  /** Candidates a stepping stone or a rollback offered (walkDown), by line index. */
  candidates?: Map<number, Candidate>;
}

function visibleAlong(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, now: number): LineView {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const visible: number[] = [];
  const required: number[] = [];
  const criticalBefore = [0];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    if (!admits(line, channels, entry) || !ReleaseVisibilityPolicy.sees(viewer, entry, now)) continue;
    visible.push(index);
    if (entry.release.required) required.push(index);
    criticalBefore.push(criticalBefore[criticalBefore.length - 1] + (entry.release.critical ? 1 : 0));
  }
  return { visible, criticalBefore, required };
}

/** The first position in `sorted` (ascending) whose value is at least `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Releases an offer's changelog walk passes before it leaves the work to a class's whole view (visibleAlong). */
const WALK_MAX = 4096;

/**
 * An offer's policy read along the line from the offered release down to `current`, with no
 * whole-line view: the critical flag from the line's few critical releases on the way
 * (ProductReleases.criticalOnTheWay), the changelog from the candidate's run (walked once per
 * candidate: a caller's changelog is the run's entries above its version). After a publish (a
 * new generation) that is all a caller's first check recomputes, so its cost does not grow with
 * the line or with the number of versions callers run. Undefined when the walk to `current` would
 * pass WALK_MAX releases the class cannot see: then a view of the class's visible releases
 * (visibleAlong, kept per generation) answers.
 */
function policyOnTheWay(viewer: ViewerFacts, product: ProductReleases, entries: readonly CatalogueRelease[], line: ReleaseLine, candidate: Candidate, current: PrecedenceColumns, now: number): Pick<OfferedRelease, 'critical' | 'changelog'> | undefined {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const visible = (e: CatalogueRelease): boolean => admits(line, channels, e) && ReleaseVisibilityPolicy.sees(viewer, e, now);
  const run = (candidate.run ??= changelogRun(entries, candidate.index, visible));
  const to = firstNotAbove(entries, current);
  // the caller's own walk would stop at `to`; past the run's end only if the run gave up first
  if (to > run.end && run.bailed) return undefined;
  const n = lowerBound(run.at, to);
  const changelog = n === run.entries.length ? run.entries : run.entries.slice(0, n);
  return { critical: product.criticalOnTheWay(line.platform, entries[candidate.index], current, visible), changelog };
}

/** The changelog walk from line index `offered` down, as far as any caller's would go (ChangelogRun). */
function changelogRun(entries: readonly CatalogueRelease[], offered: number, visible: (e: CatalogueRelease) => boolean): ChangelogRun {
  const run: ChangelogRun = { entries: [], at: [], end: offered, bailed: false };
  for (let i = offered; i < entries.length && run.entries.length < CHANGELOG_MAX; i++) {
    if (i - offered >= WALK_MAX) {
      run.bailed = true;
      break;
    }
    run.end = i + 1;
    const e = entries[i];
    if (!visible(e)) continue;
    // one entry per version (a version may have several files on a platform)
    if (run.entries[run.entries.length - 1]?.version !== e.release.version) {
      run.entries.push(changelogEntry(e.release));
      run.at.push(i);
    }
  }
  return run;
}

/**
 * critical and changelog over the visible releases of the line from `offered` down to `current`
 * (exclusive): any of them critical makes the offer critical; their notes, one per version, newest first.
 */
function policyInMemory(entries: readonly CatalogueRelease[], view: LineView, offered: number, current: PrecedenceColumns): Pick<OfferedRelease, 'critical' | 'changelog'> {
  const from = lowerBound(view.visible, offered);
  const to = lowerBound(view.visible, firstNotAbove(entries, current));
  const critical = to > from && view.criticalBefore[to] - view.criticalBefore[from] > 0;
  const changelog: ChangelogEntry[] = [];
  for (let i = from; i < to && changelog.length < CHANGELOG_MAX; i++) {
    const r = entries[view.visible[i]].release;
    // one entry per version (a version may have several files on a platform)
    if (changelog[changelog.length - 1]?.version !== r.version) changelog.push(changelogEntry(r));
  }
  return { critical, changelog };
}

/** A release's changelog entry, made once per kept row (after a publish every offer's changelog is read again). */
const CHANGELOG_ENTRIES = new RowMemo<Release, ChangelogEntry>((r) => ({ version: r.version, notes: r.description, created: r.created.toISOString() }));

function changelogEntry(r: Release): ChangelogEntry {
  return CHANGELOG_ENTRIES.of(r);
}

/**
 * Finds the release an application should move to: the caller's visibility, the product/platform
 * (and filetype) line, the inclusive channels, the constraint, then the highest semver precedence
 * (build metadata breaks ties, then the newest row). From the in-memory catalogue when it serves
 * (a release line is already in that order: the first match wins), else in SQL.
 */
@Injectable()
export class UpgradeFinder {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly counters: CountersService,
  ) {}

  /** The highest visible release greater than `current` offered to the caller's cohort, with its policy; or null. */
  async findNext(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<OfferedRelease | null> {
    this.counters.countCheck();
    const fromMemory = await this.fromCatalogue(bearer, accountId, query, query.current);
    if (fromMemory !== undefined) return fromMemory;
    return this.nextInSql(bearer, accountId, query);
  }

  /**
   * findNext's SQL twin of walkLine (pinned against it by test/e2e/update-policy-two.e2e-spec.ts
   * and upgrade-finder.e2e-spec.ts): the highest offered release above `current` inside the pin,
   * held back by the lowest visible required release above `current`, or a rollback below it.
   */
  async nextInSql(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<OfferedRelease | null> {
    const policy = productPolicy(query.policy !== undefined ? query.policy : await this.policyOf(accountId, query.productId));
    let found = await this.first(await this.nextQueries(bearer, accountId, query));
    if (found) {
      const barrier = await this.steppingStoneQuery(bearer, accountId, query, found.release);
      if (barrier && comparePrecedence(found.release, barrier) > 0) {
        const queries = await this.nextQueries(bearer, accountId, query);
        const upTo = precedenceSql('release', '<=', barrier, 'stone');
        queries.releases.andWhere(upTo.sql, upTo.params);
        queries.artifacts.andWhere(upTo.sql, upTo.params);
        found = await this.first(queries);
      }
    }
    const from = semverColumns(query.current);
    const below = belowMinimum(policy, from);
    if (!found) {
      if (!policy?.rollbackOnYank || !(await this.yankedQuery(accountId, query))) return null;
      const queries = await this.lines(bearer, accountId, query);
      const under = precedenceSql('release', '<', from, 'cur');
      queries.releases.andWhere(under.sql, under.params);
      queries.artifacts.andWhere(under.sql, under.params);
      const back = await this.first(queries);
      if (!back) return null;
      return below ? { ...back, critical: true, changelog: [], rollback: true, belowMinimum: true } : { ...back, critical: false, changelog: [], rollback: true };
    }
    const offer: OfferedRelease = { ...found, ...(await this.policyQuery(bearer, accountId, query, found.release)) };
    if (below) {
      offer.critical = true;
      offer.belowMinimum = true;
    }
    return offer;
  }

  /** The highest visible release of the line offered to the caller's cohort (critical: its own flag), or null. */
  async findLatest(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<OfferedRelease | null> {
    const fromMemory = await this.fromCatalogue(bearer, accountId, line);
    if (fromMemory !== undefined) return fromMemory;
    return this.latestInSql(bearer, accountId, line);
  }

  /** findLatest's SQL twin. */
  async latestInSql(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<OfferedRelease | null> {
    const found = await this.first(await this.lines(bearer, accountId, line));
    return found ? { ...found, critical: found.release.critical, changelog: [] } : null;
  }

  /** A product's update policy, read from its row (the SQL path; memory reads the catalogue's ProductFacts). */
  private async policyOf(accountId: string, productId: string): Promise<ProductPolicyFacts | null> {
    const rows: Array<{ minimum_version: string | null; rollback_on_yank: boolean }> = await this.db.query(
      'SELECT minimum_version, rollback_on_yank FROM products WHERE id = $1 AND account_id = $2',
      [productId, accountId],
    );
    return rows.length ? productPolicyFacts(rows[0].minimum_version, rows[0].rollback_on_yank) : null;
  }

  /** The SQL twin of steppingStone: the lowest visible required release in (current, upTo] (filters, not the constraint). */
  private async steppingStoneQuery(bearer: Bearer, accountId: string, query: UpgradeQuery, upTo: Release): Promise<Release | null> {
    const sources = this.filtered(bearer, accountId, { ...query, constraint: undefined });
    const rows: Release[] = [];
    for (const qb of [sources.releases, sources.artifacts] as SelectQueryBuilder<Release>[]) {
      const above = greaterThanSql('release', query.current, 'cur');
      const notBeyond = precedenceSql('release', '<=', upTo, 'upto');
      qb.andWhere('release.required').andWhere(above.sql, above.params).andWhere(notBeyond.sql, notBeyond.params);
      // lowest first
      qb.orderBy();
      for (const column of precedenceColumns('release')) qb.addOrderBy(column, 'ASC');
      const row = await qb.limit(1).getOne();
      if (row) rows.push(row);
    }
    rows.sort((a, b) => comparePrecedence(a, b));
    return rows[0] ?? null;
  }

  /** The SQL twin of yankedOnLine: a YANKED release of the caller's version on the line's platform (and file). */
  private async yankedQuery(accountId: string, query: UpgradeQuery): Promise<boolean> {
    const equal = precedenceSql('release', '=', semverColumns(query.current), 'cur');
    const of = <T extends Release>(qb: SelectQueryBuilder<T>) => {
      qb.where('release.account_id = :accountId', { accountId })
        .andWhere('release.product_id = :productId', { productId: query.productId })
        .andWhere('release.platform = :platform', { platform: query.platform })
        .andWhere(`release.status = 'YANKED'`)
        .andWhere(equal.sql, equal.params);
      return qb;
    };
    const releases = of(this.db.createQueryBuilder(Release, 'release')).andWhere('NOT release.multi_artifact');
    const artifacts = of(this.db.createQueryBuilder(ReleaseOffer, 'release'));
    if (query.filetype !== undefined) {
      releases.andWhere('release.filetype = :filetype', { filetype: query.filetype });
      artifacts.andWhere('release.filetype = :filetype', { filetype: query.filetype });
    } else {
      artifacts.andWhere(`release.filetype !~ :auxiliary`, { auxiliary: AUXILIARY_PATTERN });
    }
    return (await releases.getExists()) || (await artifacts.getExists());
  }

  /**
   * The first row in line order of the two sources (1.0 releases, 1.1 releases' artifacts), with
   * the artifact a 1.1 release's row offers.
   */
  private async first(queries: LineQueries): Promise<FoundRelease | null> {
    const [release, offer] = await Promise.all([queries.releases.getOne(), queries.artifacts.getOne()]);
    if (offer && (!release || compareLineOrder(offer, release) > 0)) {
      return { release: offer, artifact: await this.db.manager.findOne(ArtifactEntity, { where: { id: offer.artifactId, accountId: offer.accountId } }) };
    }
    return release ? { release } : null;
  }

  /** Counts one update check answered outside findNext (the feeds). */
  countCheck(): void {
    this.counters.countCheck();
  }

  /**
   * Adds 1 to the next release's `upgrades` when the check was answered to a customer (license,
   * user or anonymous caller), and a `release.upgraded` event from version `from`; written in the
   * next counters flush.
   */
  countUpgrade(bearer: Bearer, accountId: string, releaseId: string, from?: string): void {
    if (countsAsCustomer(bearer)) this.counters.countUpgrade(accountId, releaseId, bearer, from);
  }

  /** The answer from memory, loading what is missing; undefined when the catalogue is not serving. */
  private async fromCatalogue(bearer: Bearer, accountId: string, line: ReleaseLine, current?: SemVer): Promise<OfferedRelease | null | undefined> {
    const viewer = await this.catalogue.viewer(bearer, accountId);
    if (!viewer) return undefined;
    const product = await this.catalogue.productReleases(accountId, line.productId);
    if (product === undefined) return undefined;
    const policy = line.policy !== undefined ? line.policy : ((await this.catalogue.accountProducts(accountId)).get(line.productId)?.policy ?? null);
    return walkLine(viewer, product, { ...line, policy }, current);
  }

  /** The SQL path's queries for findNext, one per source (the 1.0 one's plan is checked at 100,000 rows by a test). */
  async nextQueries(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<LineQueries> {
    const queries = await this.lines(bearer, accountId, query);
    const gt = greaterThanSql('release', query.current, 'cur');
    queries.releases.andWhere(gt.sql, gt.params);
    queries.artifacts.andWhere(gt.sql, gt.params);
    return queries;
  }

  /** The 1.0 releases' query of nextQueries (what the query-plan test reads). */
  async nextQuery(bearer: Bearer, accountId: string, query: UpgradeQuery): Promise<SelectQueryBuilder<Release>> {
    return (await this.nextQueries(bearer, accountId, query)).releases;
  }

  /** The SQL twin of policyInMemory: critical and changelog of the visible releases in (current, offered]. */
  private async policyQuery(bearer: Bearer, accountId: string, query: UpgradeQuery, offered: Release): Promise<Pick<OfferedRelease, 'critical' | 'changelog'>> {
    const upTo = parseStrictVersion(offered.version) ?? parseLooseVersion(offered.version);
    const range = <T extends Release>(qb: SelectQueryBuilder<T>) => {
      const above = greaterThanSql('release', query.current, 'cur');
      qb.andWhere(above.sql, above.params);
      if (upTo) {
        const beyond = greaterThanSql('release', upTo, 'offered');
        qb.andWhere(`NOT ${beyond.sql}`, beyond.params);
      }
      return qb;
    };
    // the constraint narrows what is offered, not the releases on the way (as policyInMemory: a
    // critical 1.1 still counts for a caller on 1.0 offered 1.2 under constraint 1.2)
    const between = { ...query, constraint: undefined };
    const sources = () => this.filtered(bearer, accountId, between);
    const [a, b] = [sources(), sources()];
    const critical = (await range(a.releases).andWhere('release.critical').getExists()) || (await range(b.artifacts).andWhere('release.critical').getExists());
    // one entry per version, and a version may have several files on the platform: up to 50 versions from each source, merged
    const rows = [...(await this.versions(() => range(sources().releases))), ...(await this.versions(() => range(sources().artifacts)))];
    rows.sort((x, y) => compareLineOrder(y, x));
    const changelog: ChangelogEntry[] = [];
    for (const r of rows) {
      if (changelog.length < CHANGELOG_MAX && changelog[changelog.length - 1]?.version !== r.version) changelog.push(changelogEntry(r));
    }
    return { critical, changelog };
  }

  /** Rows of a line query in line order until CHANGELOG_MAX versions (a version may have several files). */
  private async versions<T extends Release>(query: () => SelectQueryBuilder<T>): Promise<T[]> {
    const rows: T[] = [];
    let versions = 0;
    const page = CHANGELOG_MAX * 4;
    for (let offset = 0; versions < CHANGELOG_MAX; offset += page) {
      const chunk = await query().offset(offset).limit(page).getMany();
      for (const r of chunk) {
        if (rows[rows.length - 1]?.version !== r.version) versions++;
        rows.push(r);
      }
      if (chunk.length < page) break;
    }
    return rows;
  }

  private async lines(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<LineQueries> {
    const queries = this.filtered(bearer, accountId, line);
    // whose license places the caller in cohorts and pins it (as walkLine reads the viewer)
    const licenses = bearer.kind === 'user' ? await this.catalogue.licensesOfUser(accountId, bearer.userId) : bearer.kind === 'license' && bearer.facts ? [bearer.facts] : [];
    const viewer: ViewerFacts = { bearer, licenses, strategyOf: () => undefined };
    const cohort = cohortOf(viewer, line);
    const pin = callerPin(viewer, line.productId);
    const offered = offeredSql('release', cohort);
    queries.releases.andWhere(offered.sql, offered.params).limit(1);
    queries.artifacts.andWhere(offered.sql, offered.params).limit(1);
    if (pin) {
      const inside = pinSql('release', pin);
      queries.releases.andWhere(inside.sql, inside.params);
      queries.artifacts.andWhere(inside.sql, inside.params);
    }
    return queries;
  }

  /**
   * The line's releases that the filters and the bearer admit, in line order (highest first), from
   * both sources: 1.0 releases (their own rows, read through releases_line) and 1.1 releases'
   * UPLOADED artifacts (artifact_offers, with the artifact's constraints in the visibility rule),
   * as the catalogue's lines hold them.
   */
  private filtered(bearer: Bearer, accountId: string, line: ReleaseLine): LineQueries {
    const releases = this.narrowed(this.db.createQueryBuilder(Release, 'release'), bearer, accountId, line).andWhere('NOT release.multi_artifact');
    if (line.requireArtifact) {
      releases.andWhere(
        `EXISTS (SELECT 1 FROM artifacts ua WHERE ua.release_id = release.id AND ua.account_id = release.account_id AND ua.status = 'UPLOADED')`,
      );
    }
    ReleaseVisibilityPolicy.scope(releases, bearer, 'release');
    const artifacts = this.narrowed(this.db.createQueryBuilder(ReleaseOffer, 'release'), bearer, accountId, line);
    if (line.filetype === undefined) artifacts.andWhere(`release.filetype !~ :auxiliary`, { auxiliary: AUXILIARY_PATTERN });
    ReleaseVisibilityPolicy.scope(artifacts, bearer, 'release', 'release.artifact_id');
    for (const qb of [releases, artifacts] as SelectQueryBuilder<Release>[]) {
      for (const column of precedenceColumns('release')) qb.addOrderBy(column, 'DESC');
      qb.addOrderBy('release.created', 'DESC').addOrderBy('release.id', 'DESC');
    }
    artifacts.addOrderBy('release.artifact_id', 'DESC');
    return { releases, artifacts };
  }

  /** The line's filters (product, platform, channels, filetype, constraint, status) on either source. */
  private narrowed<T extends Release>(qb: SelectQueryBuilder<T>, bearer: Bearer, accountId: string, line: ReleaseLine): SelectQueryBuilder<T> {
    qb.where('release.account_id = :accountId', { accountId })
      .andWhere('release.product_id = :productId', { productId: line.productId })
      .andWhere('release.platform = :platform', { platform: line.platform })
      .andWhere('release.channel IN (:...channels)', { channels: INCLUSIVE_CHANNELS[line.channel] });
    if (line.filetype !== undefined) qb.andWhere('release.filetype = :filetype', { filetype: line.filetype });
    if (line.constraint) {
      qb.andWhere('release.semver_major = :constraintMajor', { constraintMajor: line.constraint.major });
      if (line.constraint.minor !== undefined) {
        qb.andWhere('release.semver_minor >= :constraintMinor', { constraintMinor: line.constraint.minor });
      }
    }
    if (line.publishedOnly) qb.andWhere(`release.status = 'PUBLISHED'`);
    return qb;
  }

}
