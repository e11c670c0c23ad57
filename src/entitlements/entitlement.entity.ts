import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Metadata } from '../database/columns';

@Entity('entitlements')
export class Entitlement {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) name: string;
  @Column({ type: 'varchar' }) code: string;
  @Column({ type: 'jsonb' }) metadata: Metadata;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
