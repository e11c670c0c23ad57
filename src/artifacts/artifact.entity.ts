import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintAsNumber } from '../database/columns';

export type ArtifactStatus = 'WAITING' | 'UPLOADED' | 'FAILED';

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
  /** Where the driver keeps the bytes; never shown to callers. */
  @Column({ name: 'storage_key', type: 'varchar', nullable: true }) storageKey: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
