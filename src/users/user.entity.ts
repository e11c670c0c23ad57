import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type UserRole = 'admin' | 'user';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) email: string;
  @Column({ name: 'first_name', type: 'varchar', nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', nullable: true }) lastName: string | null;
  @Column({ type: 'varchar' }) role: UserRole;
  @Column({ name: 'password_digest', type: 'varchar', nullable: true, select: false }) passwordDigest: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
