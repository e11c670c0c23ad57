import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('entitlements')
export class Entitlement {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) name: string;
  @Column({ type: 'varchar' }) code: string;
  @Column({ type: 'jsonb' }) metadata: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
