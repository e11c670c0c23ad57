import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Circuit } from './circuit';

@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) url: string;
  /** Event names, or `["*"]` for all. */
  @Column({ type: 'jsonb' }) events: string[];
  @Column({ type: 'boolean' }) enabled: boolean;
  /** The signing secret; never selected unless asked for (`addSelect`), shown only at creation and rotation. */
  @Column({ type: 'varchar', select: false }) secret: string;
  /** The circuit breaker (src/webhooks/circuit.ts), kept by the delivery workers. */
  @Column({ type: 'varchar' }) circuit: Circuit;
  @Column({ name: 'consecutive_failures', type: 'integer' }) consecutiveFailures: number;
  /** When an open circuit's probe is due. */
  @Column({ name: 'next_probe', type: 'timestamptz', nullable: true }) nextProbe: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
