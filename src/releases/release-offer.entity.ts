import { Column, Entity } from 'typeorm';
import { Release } from './release.entity';

/**
 * What update checks choose from (the `release_offers` view): a 1.0 release as it is, and a 1.1
 * release once per UPLOADED artifact, with that artifact's platform (`os/arch`), file, signature and
 * checksum. A row is a Release (its id is the release's, so counting and rollouts are the
 * release's) that names the artifact it offers. The catalogue keeps the same entries in memory
 * (catalogue/product-releases.ts).
 */
@Entity({ name: 'release_offers', synchronize: false })
export class ReleaseOffer extends Release {
  /** The artifact offered (a 1.0 release's own, null before its upload). */
  @Column({ name: 'artifact_id', type: 'uuid', nullable: true }) artifactId: string | null;
}
