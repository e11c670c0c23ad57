import { DataSource } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';

/** The release if the bearer may see it (ReleaseVisibilityPolicy), else 404. */
export async function findVisibleRelease(db: DataSource, bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
  const release = isUuid(releaseId)
    ? await ReleaseVisibilityPolicy.scope(
        db
          .createQueryBuilder(Release, 'release')
          .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId: releaseId.toLowerCase(), accountId }),
        bearer,
        'release',
      ).getOne()
    : null;
  if (!release) throw ApiError.notFound('The release was not found');
  return release;
}

/** findVisibleRelease, and 403 unless the bearer may change the release's artifact. */
export async function findWritableRelease(db: DataSource, bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
  const release = await findVisibleRelease(db, bearer, accountId, releaseId);
  if (!ReleaseVisibilityPolicy.canWrite(bearer, release)) throw ApiError.forbidden('Only an admin or the product token may change this artifact');
  return release;
}
