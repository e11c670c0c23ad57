import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { Artifact } from '../releases/artifact.entity';
import { visibleArtifactIds } from '../releases/artifact-visibility';
import { LicensedArtifacts } from '../artifacts/licensed-artifacts';
import type { LicensedArtifact } from '../artifacts/licensed-artifacts';
import { findVisibleRelease } from '../artifacts/visible-release';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { licenseWindow } from '../licenses/license-window';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { CatalogueService } from './catalogue.service';

/**
 * LicensedArtifacts from the catalogue: the license's facts (kept coherent on every instance by
 * the change notifications) and its product's releases, so that a warm download reads no
 * database; when the catalogue is not serving, the same rule in SQL.
 */
@Injectable()
export class CatalogueLicensedArtifacts extends LicensedArtifacts {
  constructor(
    private readonly catalogue: CatalogueService,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    super();
  }

  async find(accountId: string, licenseId: string, artifactId: string, filename: string): Promise<LicensedArtifact | null> {
    if (!isUuid(licenseId) || !isUuid(artifactId)) return null;
    const cached = await this.catalogue.licenseById(accountId, licenseId.toLowerCase());
    if (!cached) return null;
    const { license, facts } = cached;
    // what authentication refuses (403 there): a suspended license, or one expired with REVOKE_ACCESS
    const now = Date.now();
    if (facts.suspended || licenseWindow(facts, now) === 'none') return null;
    const bearer: Bearer = { kind: 'license', accountId, license, facts };
    const id = artifactId.toLowerCase();
    const releases = await this.catalogue.productReleases(accountId, facts.productId);
    // a 1.1 release's artifact by its id (the offer: the release's and the artifact's constraints), a 1.0 release's by filename
    const entry = releases?.byArtifact.get(id) ?? releases?.byFilename.get(filename);
    if (entry?.artifact?.id === id && entry.artifact.filename === filename) {
      const products = await this.catalogue.accountProducts(accountId);
      const viewer = { bearer, licenses: [facts], strategyOf: (productId: string) => products.get(productId)?.distributionStrategy };
      if (entry.artifact.status !== 'UPLOADED' || !ReleaseVisibilityPolicy.sees(viewer, entry, now)) return null;
      return { artifact: entry.artifact, release: entry.release };
    }
    // not serving, or not found by filename (the release was renamed): SQL
    const artifact = await this.db.manager.findOne(Artifact, { where: { accountId, id, status: 'UPLOADED' } });
    if (!artifact || artifact.filename !== filename) return null;
    const release = await findVisibleRelease(this.db, bearer, accountId, artifact.releaseId).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    });
    if (release?.multiArtifact && !(await visibleArtifactIds(this.db.manager, bearer, accountId, [artifact])).has(artifact.id)) return null;
    return release ? { artifact, release } : null;
  }
}
