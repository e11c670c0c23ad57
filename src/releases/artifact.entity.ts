import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintAsNumber } from '../database/columns';
import type { Metadata } from '../database/columns';

export type ArtifactStatus = 'WAITING' | 'UPLOADED' | 'FAILED' | 'YANKED';

@Entity('artifacts')
export class Artifact {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'release_id', type: 'uuid' }) releaseId: string;
  @Column({ type: 'varchar' }) filename: string;
  @Column({ type: 'varchar' }) filetype: string;
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber }) filesize: number | null;
  @Column({ name: 'content_type', type: 'varchar', nullable: true }) contentType: string | null;
  @Column({ type: 'char', length: 64, nullable: true }) sha256: string | null;
  @Column({ type: 'char', length: 128, nullable: true }) sha512: string | null;
  @Column({ type: 'varchar' }) status: ArtifactStatus;
  // Set on the artifacts of a 1.1 release; an artifact of a 1.0 release shows its release's (artifact-view.ts).
  @Column({ type: 'varchar', nullable: true }) platform: string | null;
  @Column({ type: 'varchar', nullable: true }) arch: string | null;
  @Column({ type: 'text', nullable: true }) signature: string | null;
  @Column({ type: 'text', nullable: true }) checksum: string | null;
  @Column({ type: 'jsonb', default: {} }) metadata: Metadata;
  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber }) downloads: number;
  /** Where the driver keeps the bytes; never shown to callers. */
  @Column({ name: 'storage_key', type: 'varchar', nullable: true }) storageKey: string | null;
  /** An upload URL is outstanding until then (the Keygen upload flow); null otherwise. */
  @Column({ name: 'upload_expires', type: 'timestamptz', nullable: true }) uploadExpires: Date | null;
  /** Where a presigned (S3) upload puts the bytes; never shown to callers. */
  @Column({ name: 'upload_key', type: 'varchar', nullable: true }) uploadKey: string | null;
  /** The Content-Digest declared when the upload URL was asked for, checked when the bytes arrive. */
  @Column({ name: 'upload_digest', type: 'varchar', nullable: true }) uploadDigest: string | null;
  /** What was read from the file once at upload (an npm tarball's package.json); never shown as an attribute. */
  @Column({ type: 'jsonb', nullable: true }) manifest: Record<string, unknown> | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
