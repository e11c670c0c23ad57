import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An entitlement an artifact requires besides its release's constraints (API 1.1, beyond Keygen). */
@Entity('artifact_constraints')
export class ArtifactConstraint {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'artifact_id', type: 'uuid' }) artifactId: string;
  /** The artifact's release (what the catalogue's change notifications name). */
  @Column({ name: 'release_id', type: 'uuid' }) releaseId: string;
  @Column({ name: 'entitlement_id', type: 'uuid' }) entitlementId: string;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
}
