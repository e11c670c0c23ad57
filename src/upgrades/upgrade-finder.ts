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
}

/** The caller kinds whose upgrade checks are counted (admins and product tokens are internal). */
export function countsAsCustomer(bearer: Bearer): boolean {
  return bearer.kind === 'license' || bearer.kind === 'user' || bearer.kind === 'anonymous';
}

/**
 * The release findNext (with `current`) or findLatest (without) answers from the product's line:
 * the line's highest release that the query and the viewer admit and that is offered to the
 * caller's rollout cohort, if it is above `current`. The visible releases at the top of the line
 * are the same for every caller of one visibility class, so they are found once per load of the
 * product and class (the walk may pass hundreds of releases the class cannot see); only the
 * cohort test of staged releases is per caller.
 */
export function walkLine(viewer: ViewerFacts, product: ProductReleases | null, line: ReleaseLine, current?: SemVer): OfferedRelease | null {
  const entries = product?.lines.get(line.platform);
  if (!product || !entries) return null;
  const now = Date.now();
  const tops = product.memos.table('lineTop');
  const top = tops.get(`${visibilityClass(viewer, now)}|${lineKey(viewer, product, line)}`, () => visibleTop(viewer, entries, line, now));
  const cohort = top.length > 1 || top[0]?.found.release.rolloutPercentage < 100 ? cohortOf(viewer, line) : undefined;
  let pick: Candidate | undefined;
  for (const c of top) {
    if (offeredTo(c.found.release.id, c.found.release.rolloutPercentage, cohort)) {
      pick = c;
      break;
    }
  }
  if (!pick) return null;
  if (!current) return (pick.latest ??= { ...pick.found, critical: pick.found.release.critical, changelog: [] });
  // the policy from `current` up to the offered release: the same for every caller of the class
  const offers = (pick.offers ??= new Map());
  let offer = offers.get(current.version);
  if (offer === undefined) {
    const from = semverColumns(current);
    // null: the caller runs this release or a newer one (most callers, once they have updated)
    if (comparePrecedence(pick.found.release, from) <= 0) {
      offer = null;
    } else {
      offer = {
        ...pick.found,
        ...(policyOnTheWay(viewer, product, entries, line, pick.index, from, now) ??
          policyInMemory(entries, tops.get(`${visibilityClass(viewer, now)}|${policyKey(viewer, product, line)}`, () => visibleAlong(viewer, entries, line, now)), pick.index, from)),
      };
    }
    // kept inside the line's top: counted with it (a full table drops both)
    tops.count();
    offers.set(current.version, offer);
  }
  return offer;
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
    case 'user': {
      let first: string | undefined;
      for (const l of viewer.licenses) if (l.productId === line.productId && !l.suspended && (first === undefined || l.id < first)) first = l.id;
      return first ?? line.installId ?? null;
    }
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
function visibleTop(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, now: number): Candidate[] {
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
}

function visibleAlong(viewer: ViewerFacts, entries: readonly CatalogueRelease[], line: ReleaseLine, now: number): LineView {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const visible: number[] = [];
  const criticalBefore = [0];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    if (!admits(line, channels, entry) || !ReleaseVisibilityPolicy.sees(viewer, entry, now)) continue;
    visible.push(index);
    criticalBefore.push(criticalBefore[criticalBefore.length - 1] + (entry.release.critical ? 1 : 0));
  }
  return { visible, criticalBefore };
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

/** The first index of the line whose precedence is not above `current` (the line is sorted highest first). */
function firstNotAbove(entries: readonly CatalogueRelease[], current: PrecedenceColumns): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (comparePrecedence(entries[mid].release, current) > 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Releases an offer's changelog walk passes before it leaves the work to a class's whole view (visibleAlong). */
const WALK_MAX = 4096;

/**
 * An offer's policy read along the line from the offered release down to `current`, with no
 * whole-line view: the critical flag from the line's few critical releases on the way
 * (ProductReleases.criticalOnTheWay), the changelog by walking until CHANGELOG_MAX versions are
 * found. After a publish (a new generation) that is all a caller's first check recomputes, so its
 * cost does not grow with the line. Undefined when the walk passes WALK_MAX releases the class
 * cannot see: then a view of the class's visible releases (visibleAlong, kept per generation) answers.
 */
function policyOnTheWay(viewer: ViewerFacts, product: ProductReleases, entries: readonly CatalogueRelease[], line: ReleaseLine, offered: number, current: PrecedenceColumns, now: number): Pick<OfferedRelease, 'critical' | 'changelog'> | undefined {
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const visible = (e: CatalogueRelease): boolean => admits(line, channels, e) && ReleaseVisibilityPolicy.sees(viewer, e, now);
  const to = firstNotAbove(entries, current);
  const changelog: ChangelogEntry[] = [];
  for (let i = offered, walked = 0; i < to && changelog.length < CHANGELOG_MAX; i++) {
    if (++walked > WALK_MAX) return undefined;
    const e = entries[i];
    if (!visible(e)) continue;
    // one entry per version (a version may have several files on a platform)
    if (changelog[changelog.length - 1]?.version !== e.release.version) changelog.push(changelogEntry(e.release));
  }
  return { critical: product.criticalOnTheWay(line.platform, entries[offered], current, visible), changelog };
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

function changelogEntry(r: Release): ChangelogEntry {
  return { version: r.version, notes: r.description, created: r.created.toISOString() };
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
    const found = await this.first(await this.nextQueries(bearer, accountId, query));
    return found ? { ...found, ...(await this.policyQuery(bearer, accountId, query, found.release)) } : null;
  }

  /** The highest visible release of the line offered to the caller's cohort (critical: its own flag), or null. */
  async findLatest(bearer: Bearer, accountId: string, line: ReleaseLine): Promise<OfferedRelease | null> {
    const fromMemory = await this.fromCatalogue(bearer, accountId, line);
    if (fromMemory !== undefined) return fromMemory;
    const found = await this.first(await this.lines(bearer, accountId, line));
    return found ? { ...found, critical: found.release.critical, changelog: [] } : null;
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
    return walkLine(viewer, product, line, current);
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
    let cohort: string | null | undefined;
    if (bearer.kind === 'user') {
      const licenses = await this.catalogue.licensesOfUser(accountId, bearer.userId);
      cohort = cohortOf({ bearer, licenses, strategyOf: () => undefined }, line);
    } else {
      cohort = cohortOf({ bearer, licenses: [], strategyOf: () => undefined }, line);
    }
    const offered = offeredSql('release', cohort);
    queries.releases.andWhere(offered.sql, offered.params).limit(1);
    queries.artifacts.andWhere(offered.sql, offered.params).limit(1);
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
