import type { EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { isPrivileged } from '../access/bearer';
import { Artifact } from './artifact.entity';
import { Release } from './release.entity';
import { ReleaseVisibilityPolicy } from './release.policy';

/**
 * Of these artifacts (of releases the bearer sees), the ids it may see: customers see UPLOADED
 * artifacts whose release's and own constraints one of their licenses holds
 * (ReleaseVisibilityPolicy.scope with the artifact's constraints); admins and the product's token
 * see every artifact.
 */
export async function visibleArtifactIds(m: EntityManager, bearer: Bearer, accountId: string, artifacts: readonly Artifact[]): Promise<Set<string>> {
  if (isPrivileged(bearer) || !artifacts.length) return new Set(artifacts.map((a) => a.id));
  const qb = m
    .createQueryBuilder(Release, 'release')
    .innerJoin(Artifact, 'va', 'va.release_id = release.id AND va.account_id = release.account_id')
    .select('va.id', 'id')
    .where('release.account_id = :accountId', { accountId })
    .andWhere(`va.id = ANY(:vaIds) AND va.status = 'UPLOADED'`, { vaIds: artifacts.map((a) => a.id) });
  ReleaseVisibilityPolicy.scope(qb, bearer, 'release', 'va.id');
  const rows: Array<{ id: string }> = await qb.getRawMany();
  return new Set(rows.map((r) => r.id));
}
