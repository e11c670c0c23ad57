import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type TokenKind = 'admin-token' | 'user-token' | 'product-token';

@Entity('tokens')
export class Token {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'varchar' }) kind: TokenKind;
  @Column({ type: 'varchar', nullable: true }) name: string | null;
  /** SHA-256 of the secret; the secret itself is never stored. */
  @Column({ type: 'char', length: 64, select: false }) digest: string;
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId: string | null;
  @Column({ name: 'product_id', type: 'uuid', nullable: true }) productId: string | null;
  @Column({ type: 'timestamptz', nullable: true }) expiry: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
