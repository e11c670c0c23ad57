import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Metadata } from '../database/columns';

import type { ExpirationStrategy } from '../access/strategies';
export type LicenseStatus = 'ACTIVE' | 'EXPIRED' | 'SUSPENDED';

@Entity('licenses')
export class License {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId: string | null;
  @Column({ type: 'varchar' }) key: string;
  @Column({ type: 'varchar', nullable: true }) name: string | null;
  @Column({ type: 'timestamptz', nullable: true }) expiry: Date | null;
  @Column({ name: 'expiration_strategy', type: 'varchar' }) expirationStrategy: ExpirationStrategy;
  @Column({ type: 'boolean' }) suspended: boolean;
  /** A semver range: update checks offer this license only versions inside it (upgrades/update-policy.ts). */
  @Column({ name: 'version_pin', type: 'varchar', nullable: true }) versionPin: string | null;
  @Column({ type: 'jsonb' }) metadata: Metadata;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;

  statusAt(now: Date = new Date()): LicenseStatus {
    if (this.suspended) return 'SUSPENDED';
    if (this.expiry !== null && this.expiry.getTime() <= now.getTime()) return 'EXPIRED';
    return 'ACTIVE';
  }
}

@Entity('license_entitlements')
export class LicenseEntitlement {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'license_id', type: 'uuid' }) licenseId: string;
  @Column({ name: 'entitlement_id', type: 'uuid' }) entitlementId: string;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
}
