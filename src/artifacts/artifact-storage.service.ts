import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { ReleaseStatusService } from '../releases/release-status.service';
import { Artifact } from './artifact.entity';
import { ArtifactSerializer } from './artifact.serializer';
import { STORAGE_DRIVER } from './storage/storage-driver';
import type { StorageDriver } from './storage/storage-driver';
import { findWritableRelease } from './visible-release';

/**
 * Stored artifact bytes going away: a release's artifact removed, the files of deleted releases,
 * products or accounts, objects an upload replaced; and the storage driver's lifetime.
 */
@Injectable()
export class ArtifactStorageService implements OnModuleDestroy {
  private readonly logger = new Logger('ArtifactStorageService');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly statuses: ReleaseStatusService,
    private readonly events: EventsService,
  ) {}

  get storageDriver(): StorageDriver {
    return this.storage;
  }

  async onModuleDestroy(): Promise<void> {
    await this.storage.close?.();
  }

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
    if (key) await this.deleteObject(key);
  }

  /**
   * Removes the bytes of artifacts whose rows were deleted with their releases or product (call
   * after the commit). Never throws; missing objects are fine.
   */
  async removeStoredFiles(artifacts: Array<Pick<Artifact, 'storageKey'>>): Promise<void> {
    for (const a of artifacts) if (a.storageKey) await this.deleteObject(a.storageKey);
  }

  /** Best effort: the row is already gone, so a leftover object is only wasted space (logged). */
  async deleteObject(key: string): Promise<void> {
    await this.storage.delete(key).catch((e) => this.logger.warn(`deleting storage object ${key} failed: ${(e as Error)?.message}`));
  }
}
