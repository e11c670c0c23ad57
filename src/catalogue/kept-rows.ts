import type { Metadata } from '../database/columns';
import type { Artifact, ArtifactStatus } from '../releases/artifact.entity';
import type { Channel, Release, ReleaseStatus } from '../releases/release.entity';

/**
 * The rows the catalogue keeps, compact: with 100,000 releases in memory every field and object
 * of a row counts (docs/operations.md, memory). A kept row reads like its entity (the same
 * properties, so every reader and serializer takes either) but holds fewer objects: times as
 * milliseconds (a Date is made when one is read), repeated strings shared, the fields most rows
 * leave empty in one shared object, and the release's artifact SHA-256 the artifact's own string.
 * Built from raw rows (`SELECT` in the columns below), never saved: writes go through SQL.
 */

/** Columns of a kept release, for `SELECT ... FROM releases r`. */
export const RELEASE_COLUMNS = `r.id, r.account_id, r.product_id, r.name, r.description, r.version, r.semver_major, r.semver_minor,
  r.semver_patch, r.semver_prerelease, r.semver_build, r.semver_is_release, r.semver_pre_key, r.semver_build_key, r.channel,
  r.platform, r.filename, r.filetype, r.filesize, r.signature, r.checksum, r.metadata, r.status, r.critical, r.required,
  r.rollout_percentage, r.downloads, r.upgrades, r.yanked, r.multi_artifact, r.tag, r.package_id, r.created, r.updated`;

/** Columns of a kept artifact, for `SELECT ... FROM artifacts x`. */
export const ARTIFACT_COLUMNS = `x.id, x.account_id, x.release_id, x.filename, x.filetype, x.filesize, x.content_type, x.sha256, x.sha512,
  x.status, x.platform, x.arch, x.signature, x.checksum, x.metadata, x.downloads, x.storage_key, x.upload_expires, x.upload_key,
  x.upload_digest, x.manifest, x.created, x.updated`;

/** A release row as node-postgres reads RELEASE_COLUMNS (bigint as text, timestamps as Dates). */
export interface ReleaseRow {
  id: string;
  account_id: string;
  product_id: string;
  name: string | null;
  description: string | null;
  version: string;
  semver_major: string;
  semver_minor: string;
  semver_patch: string;
  semver_prerelease: string | null;
  semver_build: string | null;
  semver_is_release: boolean;
  semver_pre_key: string[];
  semver_build_key: string[];
  channel: Channel;
  platform: string;
  filename: string;
  filetype: string;
  filesize: string | null;
  signature: string | null;
  checksum: string | null;
  metadata: Metadata;
  status: ReleaseStatus;
  critical: boolean;
  required: boolean;
  rollout_percentage: number;
  downloads: string;
  upgrades: string;
  yanked: Date | null;
  multi_artifact: boolean;
  tag: string | null;
  package_id: string | null;
  created: Date;
  updated: Date;
}

/** An artifact row as node-postgres reads ARTIFACT_COLUMNS. */
export interface ArtifactRow {
  id: string;
  account_id: string;
  release_id: string;
  filename: string;
  filetype: string;
  filesize: string | null;
  content_type: string | null;
  sha256: string | null;
  sha512: string | null;
  status: ArtifactStatus;
  platform: string | null;
  arch: string | null;
  signature: string | null;
  checksum: string | null;
  metadata: Metadata;
  downloads: string;
  storage_key: string | null;
  upload_expires: Date | null;
  upload_key: string | null;
  upload_digest: string | null;
  manifest: Record<string, unknown> | null;
  created: Date;
  updated: Date;
}

/**
 * Strings that thousands of kept rows repeat (account and product ids, channels, platforms, file
 * types, statuses): one copy each, instead of one per row as the driver reads them. Bounded: past
 * INTERNED it starts afresh (rows keep the copies they have).
 */
const interned = new Map<string, string>();
const INTERNED = 10_000;

export function intern<T extends string | null>(value: T): T {
  if (value === null) return value;
  const kept = interned.get(value);
  if (kept !== undefined) return kept as T;
  if (interned.size >= INTERNED) interned.clear();
  interned.set(value, value);
  return value;
}

/** Sort keys of a version without prerelease or build identifiers (most versions): one shared, frozen array. */
const NO_IDENTIFIERS: string[] = Object.freeze([]) as unknown as string[];

/** Metadata of the many releases and artifacts that have none: one shared, frozen object. */
const NO_METADATA: Metadata = Object.freeze({});

function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

/** PostgreSQL bigint (text) as a number, as the entities' transformer reads it. */
function int(value: string | null): number | null {
  return value === null ? null : Number(value);
}

/** The fields of a release that most rows leave empty: one shared object for all of those. */
interface ReleaseRest {
  readonly name: string | null;
  readonly description: string | null;
  readonly semverPrerelease: string | null;
  readonly semverBuild: string | null;
  readonly semverBuildKey: string[];
  readonly metadata: Metadata;
  readonly yanked: Date | null;
  readonly tag: string | null;
}

const PLAIN_RELEASE: ReleaseRest = Object.freeze({
  name: null,
  description: null,
  semverPrerelease: null,
  semverBuild: null,
  semverBuildKey: NO_IDENTIFIERS,
  metadata: NO_METADATA,
  yanked: null,
  tag: null,
});

function releaseRest(row: ReleaseRow): ReleaseRest {
  const metadata = isEmpty(row.metadata) ? NO_METADATA : row.metadata;
  const buildKey = row.semver_build_key.length ? row.semver_build_key : NO_IDENTIFIERS;
  if (
    row.name === null &&
    row.description === null &&
    row.semver_prerelease === null &&
    row.semver_build === null &&
    metadata === NO_METADATA &&
    row.yanked === null &&
    row.tag === null
  ) {
    return PLAIN_RELEASE;
  }
  return { name: row.name, description: row.description, semverPrerelease: row.semver_prerelease, semverBuild: row.semver_build, semverBuildKey: buildKey, metadata, yanked: row.yanked, tag: row.tag };
}

/**
 * A release row as the catalogue keeps it (see the top of this file). Its counters move (the
 * flushed totals); nothing else of it ever changes: a changed row is read again.
 */
export class KeptRelease implements Release {
  id: string;
  accountId: string;
  productId: string;
  version: string;
  semverMajor: number;
  semverMinor: number;
  semverPatch: number;
  semverIsRelease: boolean;
  semverPreKey: string[];
  channel: Channel;
  platform: string;
  filename: string;
  filetype: string;
  filesize: number | null;
  signature: string | null;
  checksum: string | null;
  /** The SHA-256 of its first uploaded artifact (the artifact's own string): set by the loader. */
  artifactSha256: string | null = null;
  status: ReleaseStatus;
  critical: boolean;
  required: boolean;
  rolloutPercentage: number;
  downloads: number;
  upgrades: number;
  multiArtifact: boolean;
  packageId: string | null;
  /** `created` and `updated` in milliseconds. */
  createdAt: number;
  updatedAt: number;
  private readonly rest: ReleaseRest;

  constructor(row: ReleaseRow) {
    this.id = row.id;
    this.accountId = intern(row.account_id);
    this.productId = intern(row.product_id);
    this.version = row.version;
    this.semverMajor = Number(row.semver_major);
    this.semverMinor = Number(row.semver_minor);
    this.semverPatch = Number(row.semver_patch);
    this.semverIsRelease = row.semver_is_release;
    this.semverPreKey = row.semver_pre_key.length ? row.semver_pre_key : NO_IDENTIFIERS;
    this.channel = intern(row.channel);
    this.platform = intern(row.platform);
    this.filename = row.filename;
    this.filetype = intern(row.filetype);
    this.filesize = int(row.filesize);
    this.signature = row.signature;
    this.checksum = row.checksum;
    this.status = intern(row.status);
    this.critical = row.critical;
    this.required = row.required;
    this.rolloutPercentage = row.rollout_percentage;
    this.downloads = Number(row.downloads);
    this.upgrades = Number(row.upgrades);
    this.multiArtifact = row.multi_artifact;
    this.packageId = intern(row.package_id);
    this.createdAt = row.created.getTime();
    this.updatedAt = row.updated.getTime();
    this.rest = releaseRest(row);
  }

  get created(): Date {
    return new Date(this.createdAt);
  }

  get updated(): Date {
    return new Date(this.updatedAt);
  }

  get name(): string | null {
    return this.rest.name;
  }

  get description(): string | null {
    return this.rest.description;
  }

  get semverPrerelease(): string | null {
    return this.rest.semverPrerelease;
  }

  get semverBuild(): string | null {
    return this.rest.semverBuild;
  }

  get semverBuildKey(): string[] {
    return this.rest.semverBuildKey;
  }

  get metadata(): Metadata {
    return this.rest.metadata;
  }

  get yanked(): Date | null {
    return this.rest.yanked;
  }

  get tag(): string | null {
    return this.rest.tag;
  }
}

/** The fields of an artifact that most rows leave empty. */
interface ArtifactRest {
  readonly metadata: Metadata;
  readonly manifest: Record<string, unknown> | null;
  readonly uploadExpires: Date | null;
  readonly uploadKey: string | null;
  readonly uploadDigest: string | null;
}

const PLAIN_ARTIFACT: ArtifactRest = Object.freeze({ metadata: NO_METADATA, manifest: null, uploadExpires: null, uploadKey: null, uploadDigest: null });

function artifactRest(row: ArtifactRow): ArtifactRest {
  const metadata = isEmpty(row.metadata) ? NO_METADATA : row.metadata;
  if (metadata === NO_METADATA && row.manifest === null && row.upload_expires === null && row.upload_key === null && row.upload_digest === null) return PLAIN_ARTIFACT;
  return { metadata, manifest: row.manifest, uploadExpires: row.upload_expires, uploadKey: row.upload_key, uploadDigest: row.upload_digest };
}

/** An artifact row as the catalogue keeps it (see the top of this file). */
export class KeptArtifact implements Artifact {
  id: string;
  accountId: string;
  releaseId: string;
  filename: string;
  filetype: string;
  filesize: number | null;
  contentType: string | null;
  sha256: string | null;
  sha512: string | null;
  status: ArtifactStatus;
  platform: string | null;
  arch: string | null;
  signature: string | null;
  checksum: string | null;
  downloads: number;
  storageKey: string | null;
  /** `created` and `updated` in milliseconds. */
  createdAt: number;
  updatedAt: number;
  private readonly rest: ArtifactRest;

  /** `release`: the kept release it belongs to, whose id (and filename, when the same) it shares. */
  constructor(row: ArtifactRow, release: KeptRelease | undefined) {
    this.id = row.id;
    this.accountId = intern(row.account_id);
    this.releaseId = release?.id ?? row.release_id;
    this.filename = release && row.filename === release.filename ? release.filename : row.filename;
    this.filetype = intern(row.filetype);
    this.filesize = int(row.filesize);
    this.contentType = intern(row.content_type);
    this.sha256 = row.sha256;
    this.sha512 = row.sha512;
    this.status = intern(row.status);
    this.platform = intern(row.platform);
    this.arch = intern(row.arch);
    this.signature = row.signature;
    this.checksum = row.checksum;
    this.downloads = Number(row.downloads);
    this.storageKey = row.storage_key;
    this.createdAt = row.created.getTime();
    this.updatedAt = row.updated.getTime();
    this.rest = artifactRest(row);
  }

  get created(): Date {
    return new Date(this.createdAt);
  }

  get updated(): Date {
    return new Date(this.updatedAt);
  }

  get metadata(): Metadata {
    return this.rest.metadata;
  }

  get manifest(): Record<string, unknown> | null {
    return this.rest.manifest;
  }

  get uploadExpires(): Date | null {
    return this.rest.uploadExpires;
  }

  get uploadKey(): string | null {
    return this.rest.uploadKey;
  }

  get uploadDigest(): string | null {
    return this.rest.uploadDigest;
  }
}

/**
 * A 1.1 release as one of its uploaded artifacts offers it (a row of the artifact_offers view): the
 * release underneath (counters, status and policy are the release's, read through), the
 * artifact's platform (`os/arch`), file, signature and checksum (its sha256 when it has none) on
 * top. One class for every offer, not an object made of each release (Object.create), which
 * would give every release a hidden class of its own and each of its offers several.
 */
export class KeptOffer implements Release {
  platform: string;
  filename: string;
  filetype: string;
  filesize: number | null;
  signature: string | null;
  checksum: string | null;

  constructor(
    readonly release: KeptRelease,
    a: KeptArtifact,
  ) {
    this.platform = a.arch ? intern(`${a.platform}/${a.arch}`) : (a.platform as string);
    this.filename = a.filename;
    this.filetype = a.filetype;
    this.filesize = a.filesize;
    this.signature = a.signature;
    this.checksum = a.checksum ?? a.sha256;
  }

  get id(): string {
    return this.release.id;
  }

  get accountId(): string {
    return this.release.accountId;
  }

  get productId(): string {
    return this.release.productId;
  }

  get name(): string | null {
    return this.release.name;
  }

  get description(): string | null {
    return this.release.description;
  }

  get version(): string {
    return this.release.version;
  }

  get semverMajor(): number {
    return this.release.semverMajor;
  }

  get semverMinor(): number {
    return this.release.semverMinor;
  }

  get semverPatch(): number {
    return this.release.semverPatch;
  }

  get semverPrerelease(): string | null {
    return this.release.semverPrerelease;
  }

  get semverBuild(): string | null {
    return this.release.semverBuild;
  }

  get semverIsRelease(): boolean {
    return this.release.semverIsRelease;
  }

  get semverPreKey(): string[] {
    return this.release.semverPreKey;
  }

  get semverBuildKey(): string[] {
    return this.release.semverBuildKey;
  }

  get channel(): Channel {
    return this.release.channel;
  }

  get artifactSha256(): string | null {
    return this.release.artifactSha256;
  }

  get metadata(): Metadata {
    return this.release.metadata;
  }

  get status(): ReleaseStatus {
    return this.release.status;
  }

  get critical(): boolean {
    return this.release.critical;
  }

  get required(): boolean {
    return this.release.required;
  }

  get rolloutPercentage(): number {
    return this.release.rolloutPercentage;
  }

  // the release's counters; a copy with fresher ones (CountersService.withPending) keeps its own
  get downloads(): number {
    return this.release.downloads;
  }

  set downloads(value: number) {
    Object.defineProperty(this, 'downloads', { value, writable: true, enumerable: true, configurable: true });
  }

  get upgrades(): number {
    return this.release.upgrades;
  }

  set upgrades(value: number) {
    Object.defineProperty(this, 'upgrades', { value, writable: true, enumerable: true, configurable: true });
  }

  get yanked(): Date | null {
    return this.release.yanked;
  }

  get multiArtifact(): boolean {
    return this.release.multiArtifact;
  }

  get tag(): string | null {
    return this.release.tag;
  }

  get packageId(): string | null {
    return this.release.packageId;
  }

  get createdAt(): number {
    return this.release.createdAt;
  }

  get created(): Date {
    return this.release.created;
  }

  get updated(): Date {
    return this.release.updated;
  }
}

/** Whether a row is one the catalogue keeps (or an offer or copy made of one). */
export function isKeptRow(row: object): boolean {
  return row instanceof KeptRelease || row instanceof KeptOffer || row instanceof KeptArtifact;
}

/** A release's `created` in milliseconds: a kept row's or offer's without making a Date. */
export function createdMs(r: Release): number {
  return r instanceof KeptRelease || r instanceof KeptOffer ? r.createdAt : r.created.getTime();
}
