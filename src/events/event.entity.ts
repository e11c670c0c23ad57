import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One recorded event (written by EventsService in the transaction of its change; read here). */
@Entity('events')
export class EventRecord {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) event: string;
  @Column({ name: 'resource_type', type: 'varchar' }) resourceType: string;
  @Column({ name: 'resource_id', type: 'uuid' }) resourceId: string;
  @Column({ type: 'jsonb' }) payload: Record<string, unknown>;
  @Column({ type: 'timestamptz' }) created: Date;
}
