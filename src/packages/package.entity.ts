import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Metadata } from '../database/columns';

/** The package managers a package can be served to (docs/packages.md); null: none. */
export const PACKAGE_ENGINES = ['pypi', 'npm', 'raw', 'tauri'] as const;
export type PackageEngine = (typeof PACKAGE_ENGINES)[number];

/** An installable package of a product: its releases are the package's versions. */
@Entity('packages')
export class Package {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ type: 'varchar' }) name: string;
  /** The name package managers use (`acme-sdk`, `@acme/cli`); unique per account. */
  @Column({ type: 'varchar' }) key: string;
  @Column({ type: 'varchar', nullable: true }) engine: PackageEngine | null;
  @Column({ type: 'jsonb' }) metadata: Metadata;
  @CreateDateColumn({ type: 'timestamptz' }) created: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated: Date;
}
