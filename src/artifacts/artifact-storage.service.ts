import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { ReleaseStatusService } from '../releases/release-status.service';
import { Artifact } from '../releases/artifact.entity';
import { ArtifactSerializer } from '../releases/artifact.serializer';
import { StoredFiles } from '../storage/stored-files';
import { findWritableRelease } from './visible-release';

/** A release's artifact removed: its row, its stored file, and the release's status (artifact-removed). */
@Injectable()
export class ArtifactStorageService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly storedFiles: StoredFiles,
    private readonly statuses: ReleaseStatusService,
    private readonly events: EventsService,
  ) {}

  /** `DELETE /releases/:id/artifact`: removes the file and its row; a PUBLISHED release becomes NOT_PUBLISHED. */
  async remove(bearer: Bearer, accountId: string, releaseId: string): Promise<void> {
    const release = await findWritableRelease(this.db, bearer, accountId, releaseId);
    const key = await this.db.transaction(async (m) => {
      await m.query(`SELECT 1 FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE`, [release.id, accountId]);
      const artifact = await m.findOne(Artifact, { where: { accountId, releaseId: release.id } });
      if (!artifact) throw ApiError.notFound('The release has no artifact');
      await m.delete(Artifact, { id: artifact.id, accountId });
      await this.events.record(m, accountId, 'artifact.deleted', toResource(ArtifactSerializer, artifact));
      await this.statuses.apply(accountId, release.id, 'artifact-removed', m);
      return artifact.storageKey;
    });
    if (key) await this.storedFiles.deleteObject(key);
  }
}
