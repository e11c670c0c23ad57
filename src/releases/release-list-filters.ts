import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ApiError } from '../jsonapi/errors';
import { booleanParam, enumParam, queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { assertProductRef } from '../products/product-ref';
import { isUuid } from '../jsonapi/ids';
import type { Artifact } from './artifact.entity';
import { CHANNELS, RELEASE_STATUSES } from './release.entity';
import type { Release } from './release.entity';
import { INCLUSIVE_CHANNELS, parseStrictVersion } from './semver';

/** Filters of GET /releases, validated: bad values are 400 PARAMETER_INVALID. */
export interface ReleaseFilters {
  product?: string;
  /** A package id (a key is resolved by the service). */
  package?: string;
  platform?: string;
  channel?: (typeof CHANNELS)[number];
  filetype?: string;
  version?: string;
  status?: (typeof RELEASE_STATUSES)[number];
  yanked?: boolean;
}

/** `artifacts`: the client speaks 1.1 or later, where NOT_PUBLISHED is called `DRAFT` (and either name filters for it). */
export function parseReleaseFilters(query: Query, artifacts = false): ReleaseFilters {
  const product = queryParam(query, 'product');
  // a product id or code; a code is resolved by the service (resolveProductRef)
  if (product !== undefined) assertProductRef(product);
  const version = queryParam(query, 'version');
  if (version !== undefined && !parseStrictVersion(version)) throw ApiError.invalidParameter('version', 'must be a valid semver version');
  const nonEmpty = (name: string) => {
    const value = queryParam(query, name);
    if (value === '') throw ApiError.invalidParameter(name, 'must not be empty');
    return value;
  };
  const pkg = queryParam(query, 'package');
  if (pkg !== undefined && (pkg.trim() === '' || pkg.length > 255)) throw ApiError.invalidParameter('package', 'must be a package id or key');
  return {
    product,
    package: pkg === undefined ? undefined : isUuid(pkg) ? pkg.toLowerCase() : pkg,
    platform: nonEmpty('platform'),
    channel: enumParam(query, 'channel', CHANNELS),
    filetype: nonEmpty('filetype'),
    version,
    status: artifacts ? draftIsNotPublished(enumParam(query, 'status', STATUS_NAMES_V11)) : enumParam(query, 'status', RELEASE_STATUSES),
    yanked: booleanParam(query, 'yanked'),
  };
}

/** The status filter's values in 1.1: its own `DRAFT`, and 1.0's names (a client moving over keeps working). */
const STATUS_NAMES_V11 = ['DRAFT', ...RELEASE_STATUSES] as const;

function draftIsNotPublished(status: (typeof STATUS_NAMES_V11)[number] | undefined): ReleaseFilters['status'] {
  return status === 'DRAFT' ? 'NOT_PUBLISHED' : status;
}

type SetFilters = Required<ReleaseFilters>;

/**
 * What the filters read of a loaded release: its row and, on a 1.1 release (many artifacts), its
 * artifacts that are not yanked (any upload status), as the catalogue keeps them.
 */
export interface ListedRelease {
  readonly release: Release;
  /** Absent on a 1.0 release, whose one file has the release's own platform. */
  readonly liveArtifacts?: readonly Pick<Artifact, 'platform' | 'arch' | 'filetype'>[];
}

/** One filter of GET /releases: a condition over a releases alias, and the same test on a loaded release. */
interface ListFilter<K extends keyof SetFilters> {
  sql(r: string, value: SetFilters[K]): { sql: string; params?: Record<string, unknown> };
  matches(entry: ListedRelease, value: SetFilters[K]): boolean;
}

/** An artifact is on `platform` when its platform is it, or its `platform/arch` is (as a 1.1 release's own platform reads). */
export function artifactOnPlatform(a: Pick<Artifact, 'platform' | 'arch'>, platform: string): boolean {
  if (a.platform === null) return false;
  if (a.platform === platform) return true;
  return a.arch !== null && platform.length === a.platform.length + 1 + a.arch.length && platform === `${a.platform}/${a.arch}`;
}

/**
 * SQL for "release `r` is on `:param`": its own platform (a 1.0 release's; a 1.1 release's first
 * artifact's, `os/arch`), or for a 1.1 release any artifact not yanked whose platform or
 * `platform/arch` is it (artifactOnPlatform). 1.0 releases never reach the artifacts.
 */
export function releaseOnPlatformSql(r: string, param: string): string {
  const a = `${param}_a`;
  return ownOrLiveArtifactSql(r, a, `${r}.platform = :${param}`, `(${a}.platform = :${param} OR ${a}.platform || '/' || ${a}.arch = :${param})`);
}

/**
 * "`own` holds for release `r`, or `r` is a 1.1 release with an artifact (aliased `a`) not
 * yanked for which `artifact` holds": the shape of the filters that read a 1.1 release's files.
 */
function ownOrLiveArtifactSql(r: string, a: string, own: string, artifact: string): string {
  return (
    `(${own} OR (${r}.multi_artifact AND EXISTS (` +
    `SELECT 1 FROM artifacts ${a} WHERE ${a}.release_id = ${r}.id AND ${a}.account_id = ${r}.account_id AND ${a}.status <> 'YANKED' AND ${artifact})))`
  );
}

/** SQL for "release `r` has a file of type `:param`": its own filetype, or for a 1.1 release any artifact not yanked of that type. */
export function releaseHasFiletypeSql(r: string, param: string): string {
  const a = `${param}_a`;
  return ownOrLiveArtifactSql(r, a, `${r}.filetype = :${param}`, `${a}.filetype = :${param}`);
}

/**
 * Every filter of GET /releases, described once: the SQL list (whereListFilters) and the
 * catalogue's memory list (listFilterPredicate) both read this table, and a spec runs the two on the
 * same generated data (test/e2e/release-list-filters.e2e-spec.ts).
 */
export const RELEASE_LIST_FILTERS: { [K in keyof SetFilters]: ListFilter<K> } = {
  product: {
    sql: (r, value) => ({ sql: `${r}.product_id = :fProduct`, params: { fProduct: value } }),
    matches: ({ release }, value) => release.productId === value,
  },
  package: {
    sql: (r, value) => ({ sql: `${r}.package_id = :fPackage`, params: { fPackage: value } }),
    matches: ({ release }, value) => release.packageId === value,
  },
  // a 1.1 release is on every platform one of its artifacts (not yanked) is on
  platform: {
    sql: (r, value) => ({ sql: releaseOnPlatformSql(r, 'fPlatform'), params: { fPlatform: value } }),
    matches: ({ release, liveArtifacts }, value) => release.platform === value || (liveArtifacts !== undefined && liveArtifacts.some((a) => artifactOnPlatform(a, value))),
  },
  // a channel takes in the more stable ones (rc lists stable and rc releases)
  channel: {
    sql: (r, value) => ({ sql: `${r}.channel IN (:...fChannels)`, params: { fChannels: INCLUSIVE_CHANNELS[value] } }),
    matches: ({ release }, value) => INCLUSIVE_CHANNELS[value].includes(release.channel),
  },
  // likewise a 1.1 release has every filetype of its artifacts (not yanked)
  filetype: {
    sql: (r, value) => ({ sql: releaseHasFiletypeSql(r, 'fFiletype'), params: { fFiletype: value } }),
    matches: ({ release, liveArtifacts }, value) => release.filetype === value || (liveArtifacts !== undefined && liveArtifacts.some((a) => a.filetype === value)),
  },
  version: {
    sql: (r, value) => ({ sql: `${r}.version = :fVersion`, params: { fVersion: value } }),
    matches: ({ release }, value) => release.version === value,
  },
  status: {
    sql: (r, value) => ({ sql: `${r}.status = :fStatus`, params: { fStatus: value } }),
    matches: ({ release }, value) => release.status === value,
  },
  yanked: {
    sql: (r, value) => ({ sql: value ? `${r}.yanked IS NOT NULL` : `${r}.yanked IS NULL` }),
    matches: ({ release }, value) => (release.yanked !== null) === value,
  },
};

/** The table's entries for the filters that are set, each with its value. */
function setFilters(filters: ReleaseFilters): Array<{ filter: ListFilter<keyof SetFilters>; value: never }> {
  const out: Array<{ filter: ListFilter<keyof SetFilters>; value: never }> = [];
  for (const name of Object.keys(RELEASE_LIST_FILTERS) as Array<keyof SetFilters>) {
    const value = filters[name];
    if (value !== undefined) out.push({ filter: RELEASE_LIST_FILTERS[name] as ListFilter<keyof SetFilters>, value: value as never });
  }
  return out;
}

/** Narrows a query over `releases` (aliased `r`) to the filters that are set. */
export function whereListFilters<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, filters: ReleaseFilters, r = 'release'): SelectQueryBuilder<T> {
  for (const { filter, value } of setFilters(filters)) {
    const condition = filter.sql(r, value);
    qb.andWhere(condition.sql, condition.params);
  }
  return qb;
}

/** The same filters as whereListFilters, as a test of one loaded release (with its artifacts). */
export function listFilterPredicate(filters: ReleaseFilters): (entry: ListedRelease) => boolean {
  const set = setFilters(filters);
  return (entry) => {
    for (const { filter, value } of set) if (!filter.matches(entry, value)) return false;
    return true;
  };
}
