import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { Release } from './release.entity';
import type { ReleaseStatus } from './release.entity';
import { nextStatus, ReleaseEvent } from './release-status';
import { ReleaseSerializer } from './release.serializer';

/**
 * The yank service: applies a status-machine event to one release under a row lock, so that
 * concurrent yanks, publishes and uploads serialise. Pass `manager` to join a caller's transaction.
 */
@Injectable()
export class ReleaseStatusService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
  ) {}

  /**
   * `known`: what the caller's transaction (`manager`, which holds the release's row lock) has
   * just read and done (an upload: the release's status, and an artifact made UPLOADED), so that
   * neither is read again.
   */
  async apply(
    accountId: string,
    releaseId: string,
    event: ReleaseEvent,
    manager?: EntityManager,
    known?: { release: Pick<Release, 'status' | 'multiArtifact'>; artifactUploaded: boolean },
  ): Promise<Release> {
    const run = async (m: EntityManager) => {
      const { release, artifactUploaded } = manager && known ? known : await this.lockAndRead(m, accountId, releaseId);
      const change = nextStatus(release.status, event, { artifactUploaded, multiArtifact: release.multiArtifact });
      const patch: { status?: ReleaseStatus; yanked?: Date | null } = {};
      if (change.status !== release.status) patch.status = change.status;
      if (change.yanked !== undefined) patch.yanked = change.yanked;
      if (Object.keys(patch).length) await m.update(Release, { id: releaseId, accountId }, patch);
      const changed = await m.findOneOrFail(Release, { where: { id: releaseId, accountId } });
      // published (by an upload or the action) and yanked are events; unpublishing by removing the file is artifact.deleted
      if (patch.status === 'PUBLISHED') await this.events.record(m, accountId, 'release.published', toResource(ReleaseSerializer, changed));
      if (patch.status === 'YANKED') await this.events.record(m, accountId, 'release.yanked', toResource(ReleaseSerializer, changed));
      return changed;
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  /** The release under its row lock, and whether an artifact of it is UPLOADED. */
  private async lockAndRead(m: EntityManager, accountId: string, releaseId: string): Promise<{ release: Release; artifactUploaded: boolean }> {
    const release = await m
      .createQueryBuilder(Release, 'release')
      .setLock('pessimistic_write')
      .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId, accountId })
      .getOne();
    if (!release) throw ApiError.notFound('The release was not found');
    const uploaded: Array<unknown> = await m.query(`SELECT 1 FROM artifacts WHERE release_id = $1 AND account_id = $2 AND status = 'UPLOADED'`, [releaseId, accountId]);
    return { release, artifactUploaded: uploaded.length > 0 };
  }
}
