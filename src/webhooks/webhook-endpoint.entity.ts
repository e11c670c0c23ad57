import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

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
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
