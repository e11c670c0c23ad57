import { Entity, PrimaryColumn } from 'typeorm';
import { Release } from './release.entity';

/**
 * What update checks choose from among 1.1 releases (the `artifact_offers` view): a release once
 * per UPLOADED artifact, with that artifact's platform (`os/arch`), file, signature and checksum.
 * A row is a Release (its id is the release's, so counting and rollouts are the release's) that
 * names the artifact it offers; 1.0 releases are offered from their own rows. The catalogue keeps
 * the same entries in memory (catalogue/product-releases.ts).
 */
@Entity({ name: 'artifact_offers', synchronize: false })
export class ReleaseOffer extends Release {
  /** The artifact offered. */
  // part of the key: the rows of one release share its id (TypeORM would merge them)
  @PrimaryColumn({ name: 'artifact_id', type: 'uuid' }) artifactId: string;
}
