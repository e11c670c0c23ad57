import type { Metadata } from '../database/columns';
import type { Artifact, ArtifactStatus } from '../releases/artifact.entity';
import type { Channel, Release, ReleaseStatus } from '../releases/release.entity';

/**
 * The rows the catalogue keeps, compact: with 100,000 releases in memory every field and object
 * of a row counts (docs/operations.md, memory). A kept row reads like its entity (the same
 * properties, so every reader and serializer takes either) but holds fewer objects: times as
 * milliseconds (a Date is made when one is read), repeated strings shared, the fields most rows
 * leave empty in one shared object, an artifact's digests as bytes, and a release's or an offer's
 * view of its artifact read through to the artifact.
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

/** KeptRelease's flags: four booleans, then the rollout percentage (0-100). */
const IS_RELEASE = 1;
const CRITICAL = 2;
const REQUIRED = 4;
const MULTI_ARTIFACT = 8;
const ROLLOUT_SHIFT = 4;

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
  semverPreKey: string[];
  channel: Channel;
  platform: string;
  filename: string;
  filetype: string;
  filesize: number | null;
  signature: string | null;
  checksum: string | null;
  /** Its first uploaded artifact (created, id), whose SHA-256 is the release's artifactSha256: set by the loader. */
  uploaded: KeptArtifact | null = null;
  status: ReleaseStatus;
  downloads: number;
  upgrades: number;
  packageId: string | null;
  /** `created` in milliseconds; `updated` too when it is another time (null: the same). */
  createdAt: number;
  private readonly updatedAt: number | null;
  /** semverIsRelease, critical, required and multiArtifact as bits, rolloutPercentage above them. */
  private readonly flags: number;
  private readonly rest: ReleaseRest;

  constructor(row: ReleaseRow) {
    this.id = row.id;
    this.accountId = intern(row.account_id);
    this.productId = intern(row.product_id);
    this.version = row.version;
    this.semverMajor = Number(row.semver_major);
    this.semverMinor = Number(row.semver_minor);
    this.semverPatch = Number(row.semver_patch);
    this.semverPreKey = row.semver_pre_key.length ? row.semver_pre_key : NO_IDENTIFIERS;
    this.channel = intern(row.channel);
    this.platform = intern(row.platform);
    this.filename = row.filename;
    this.filetype = intern(row.filetype);
    this.filesize = int(row.filesize);
    this.signature = row.signature;
    this.checksum = row.checksum;
    this.status = intern(row.status);
    this.downloads = Number(row.downloads);
    this.upgrades = Number(row.upgrades);
    this.packageId = intern(row.package_id);
    this.createdAt = row.created.getTime();
    this.updatedAt = row.updated.getTime() === this.createdAt ? null : row.updated.getTime();
    this.flags =
      (row.semver_is_release ? IS_RELEASE : 0) | (row.critical ? CRITICAL : 0) | (row.required ? REQUIRED : 0) | (row.multi_artifact ? MULTI_ARTIFACT : 0) | (row.rollout_percentage << ROLLOUT_SHIFT);
    this.rest = releaseRest(row);
  }

  get created(): Date {
    return new Date(this.createdAt);
  }

  get updated(): Date {
    return new Date(this.updatedAt ?? this.createdAt);
  }

  get artifactSha256(): string | null {
    return this.uploaded === null ? null : this.uploaded.sha256;
  }

  get semverIsRelease(): boolean {
    return (this.flags & IS_RELEASE) !== 0;
  }

  get critical(): boolean {
    return (this.flags & CRITICAL) !== 0;
  }

  get required(): boolean {
    return (this.flags & REQUIRED) !== 0;
  }

  get multiArtifact(): boolean {
    return (this.flags & MULTI_ARTIFACT) !== 0;
  }

  get rolloutPercentage(): number {
    return this.flags >> ROLLOUT_SHIFT;
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

/** An artifact's digests as read (hex), when they are not both lowercase hex of their length. */
interface Digests {
  readonly sha256: string | null;
  readonly sha512: string | null;
}

const NO_DIGESTS: Digests = Object.freeze({ sha256: null, sha512: null });
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHA512_HEX = /^[0-9a-f]{128}$/;

/**
 * An artifact's SHA-256 and SHA-512 as their 96 bytes in one Latin-1 string (112 bytes of heap
 * instead of 224 for the two hex strings) when both are lowercase hex, as uploads write them; else
 * as read. Read back as hex when asked for (answers that show them are built once and kept).
 */
function packDigests(sha256: string | null, sha512: string | null): string | Digests {
  if (sha256 !== null && sha512 !== null && SHA256_HEX.test(sha256) && SHA512_HEX.test(sha512)) return Buffer.from(sha256 + sha512, 'hex').toString('latin1');
  return sha256 === null && sha512 === null ? NO_DIGESTS : { sha256, sha512 };
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
  status: ArtifactStatus;
  platform: string | null;
  arch: string | null;
  signature: string | null;
  checksum: string | null;
  downloads: number;
  storageKey: string | null;
  /** `created` in milliseconds; `updated` too when it is another time (null: the same). */
  createdAt: number;
  private readonly updatedAt: number | null;
  private readonly digests: string | Digests;
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
    this.status = intern(row.status);
    this.platform = intern(row.platform);
    this.arch = intern(row.arch);
    this.signature = row.signature;
    this.checksum = row.checksum;
    this.downloads = Number(row.downloads);
    this.storageKey = row.storage_key;
    this.createdAt = row.created.getTime();
    this.updatedAt = row.updated.getTime() === this.createdAt ? null : row.updated.getTime();
    this.digests = packDigests(row.sha256, row.sha512);
    this.rest = artifactRest(row);
  }

  get created(): Date {
    return new Date(this.createdAt);
  }

  get updated(): Date {
    return new Date(this.updatedAt ?? this.createdAt);
  }

  /** Whether its digests are kept as bytes (estimateBytes). */
  get digestsPacked(): boolean {
    return typeof this.digests === 'string';
  }

  get sha256(): string | null {
    const d = this.digests;
    return typeof d === 'string' ? Buffer.from(d, 'latin1').toString('hex', 0, 32) : d.sha256;
  }

  get sha512(): string | null {
    const d = this.digests;
    return typeof d === 'string' ? Buffer.from(d, 'latin1').toString('hex', 32, 96) : d.sha512;
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
  /** `os/arch` of its artifact (`os` when it names no arch). */
  platform: string;

  constructor(
    readonly release: KeptRelease,
    readonly artifact: KeptArtifact,
  ) {
    this.platform = artifact.arch ? intern(`${artifact.platform}/${artifact.arch}`) : (artifact.platform as string);
  }

  get filename(): string {
    return this.artifact.filename;
  }

  get filetype(): string {
    return this.artifact.filetype;
  }

  get filesize(): number | null {
    return this.artifact.filesize;
  }

  get signature(): string | null {
    return this.artifact.signature;
  }

  get checksum(): string | null {
    return this.artifact.checksum ?? this.artifact.sha256;
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
