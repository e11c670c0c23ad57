import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, VirtualColumn } from 'typeorm';
import type { Metadata } from '../database/columns';
import { bigintAsNumber } from '../database/columns';

export const CHANNELS = ['stable', 'rc', 'beta', 'alpha', 'dev'] as const;
export type Channel = (typeof CHANNELS)[number];
export const RELEASE_STATUSES = ['NOT_PUBLISHED', 'PUBLISHED', 'YANKED'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

@Entity('releases')
export class Release {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ type: 'varchar', nullable: true }) name: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ type: 'varchar' }) version: string;
  @Column({ name: 'semver_major', type: 'bigint', transformer: bigintAsNumber }) semverMajor: number;
  @Column({ name: 'semver_minor', type: 'bigint', transformer: bigintAsNumber }) semverMinor: number;
  @Column({ name: 'semver_patch', type: 'bigint', transformer: bigintAsNumber }) semverPatch: number;
  @Column({ name: 'semver_prerelease', type: 'varchar', nullable: true }) semverPrerelease: string | null;
  @Column({ name: 'semver_build', type: 'varchar', nullable: true }) semverBuild: string | null;
  @Column({ name: 'semver_is_release', type: 'boolean' }) semverIsRelease: boolean;
  @Column({ name: 'semver_pre_key', type: 'text', array: true }) semverPreKey: string[];
  @Column({ name: 'semver_build_key', type: 'text', array: true }) semverBuildKey: string[];
  @Column({ type: 'varchar' }) channel: Channel;
  // On a 1.1 release (multiArtifact) these six are its first artifact's, kept by a trigger (what
  // 1.0 clients are shown); null there until it has an artifact. Always set on a 1.0 release.
  @Column({ type: 'varchar', nullable: true }) platform: string;
  @Column({ type: 'varchar', nullable: true }) filename: string;
  @Column({ type: 'varchar', nullable: true }) filetype: string;
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber }) filesize: number | null;
  @Column({ type: 'text', nullable: true }) signature: string | null;
  @Column({ type: 'text', nullable: true }) checksum: string | null;
  /** The uploaded artifact's SHA-256 (read with the row; what `checksum` shows when the release has none). */
  @VirtualColumn({ type: 'char', query: (alias) => `SELECT va.sha256 FROM artifacts va WHERE va.release_id = ${alias}.id AND va.status = 'UPLOADED' ORDER BY va.created, va.id LIMIT 1` })
  artifactSha256: string | null;
  @Column({ type: 'jsonb' }) metadata: Metadata;
  @Column({ type: 'varchar' }) status: ReleaseStatus;
  /** Installs older than this release must update (update answers flag it, section "Update policy" of the docs). */
  @Column({ type: 'boolean', default: false }) critical: boolean;
  /** A stepping stone: a caller below it is offered it, not anything above it (upgrades/update-policy.ts). */
  @Column({ type: 'boolean', default: false }) required: boolean;
  /** The share of callers (0..100) a staged release is offered to. */
  @Column({ name: 'rollout_percentage', type: 'smallint', default: 100 }) rolloutPercentage: number;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) downloads: number;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) upgrades: number;
  @Column({ type: 'timestamptz', nullable: true }) yanked: Date | null;
  /** Created through API 1.1: its files are its artifacts, each with its own platform and file type. */
  @Column({ name: 'multi_artifact', type: 'boolean', default: false }) multiArtifact: boolean;
  /** A name for the release, unique per product, accepted wherever its id is (1.1). */
  @Column({ type: 'varchar', nullable: true }) tag: string | null;
  /** The package the release belongs to, if any (docs/packages.md). */
  @Column({ name: 'package_id', type: 'uuid', nullable: true }) packageId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
