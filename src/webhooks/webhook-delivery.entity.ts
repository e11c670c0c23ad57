import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event for one endpoint: its attempts so far and what comes next. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'endpoint_id', type: 'uuid' }) endpointId: string;
  @Column({ name: 'event_id', type: 'uuid' }) eventId: string;
  @Column({ type: 'varchar' }) event: string;
  @Column({ type: 'varchar' }) status: DeliveryStatus;
  @Column({ type: 'integer' }) attempts: number;
  @Column({ name: 'last_status_code', type: 'integer', nullable: true }) lastStatusCode: number | null;
  @Column({ name: 'last_error', type: 'varchar', nullable: true }) lastError: string | null;
  @Column({ name: 'next_attempt', type: 'timestamptz', nullable: true }) nextAttempt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) delivered: Date | null;
  @Column({ type: 'timestamptz' }) created: Date;
  @Column({ type: 'timestamptz' }) updated: Date;
}
