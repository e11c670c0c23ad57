import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Metadata } from '../database/columns';

import type { DistributionStrategy } from '../access/strategies';

@Entity('products')
export class Product {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) name: string;
  @Column({ type: 'varchar', nullable: true }) code: string | null;
  @Column({ name: 'distribution_strategy', type: 'varchar' }) distributionStrategy: DistributionStrategy;
  @Column({ type: 'varchar', nullable: true }) url: string | null;
  /** Update answers to installs below it are critical (upgrades/update-policy.ts). */
  @Column({ name: 'minimum_version', type: 'varchar', nullable: true }) minimumVersion: string | null;
  /** Installs on a yanked release are offered the newest visible release below it. */
  @Column({ name: 'rollback_on_yank', type: 'boolean', default: false }) rollbackOnYank: boolean;
  @Column({ type: 'jsonb' }) metadata: Metadata;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
