import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EventsService } from '../events/events.service';
import type { NewEvent } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { Release } from './release.entity';
import type { ReleaseStatus } from './release.entity';
import { nextStatus, ReleaseEvent } from './release-status';
import { ReleaseSerializer } from './release.serializer';

/**
 * What a caller's transaction (which holds the release's row lock) has just read and done, told to
 * the status change so that none of it is read again (an upload's).
 */
export interface KnownRelease {
  /** The release as the caller locked and read it (its `artifactSha256` the uploaded artifact's). */
  release: Release;
  /** An artifact of the release was just made UPLOADED. */
  artifactUploaded: boolean;
  /** Columns of the release written with the status. */
  set?: { filesize?: number };
  /** The caller's own events, recorded in one statement with the status change's. */
  events?: NewEvent[];
}

/**
 * The release read under its row lock in the transaction `m` runs (404 if there is none): what
 * serialises concurrent uploads, removals and status changes of one release.
 */
export async function lockRelease(m: EntityManager, accountId: string, releaseId: string): Promise<Release> {
  const release = await m
    .createQueryBuilder(Release, 'release')
    .setLock('pessimistic_write')
    .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId, accountId })
    .getOne();
  if (!release) throw ApiError.notFound('The release was not found');
  return release;
}

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
   * With `known` (and the caller's `manager`), the changed release is the locked one with the
   * changes applied, not read again.
   */
  async apply(accountId: string, releaseId: string, event: ReleaseEvent, manager?: EntityManager, known?: KnownRelease): Promise<Release> {
    // what the caller knows holds only inside its own transaction
    const told = manager ? known : undefined;
    const run = async (m: EntityManager) => {
      const { release, artifactUploaded } = told ?? (await this.lockAndRead(m, accountId, releaseId));
      const change = nextStatus(release.status, event, { artifactUploaded, multiArtifact: release.multiArtifact });
      const patch: { status?: ReleaseStatus; yanked?: Date | null; filesize?: number; updated?: Date } = { ...told?.set };
      if (change.status !== release.status) patch.status = change.status;
      if (change.yanked !== undefined) patch.yanked = change.yanked;
      if (Object.keys(patch).length) {
        // a row not read again is the update's: its time of update is given, not left to the database
        if (told) patch.updated = new Date();
        await m.update(Release, { id: releaseId, accountId }, patch);
      }
      const changed = told ? Object.assign(new Release(), release, patch) : await m.findOneOrFail(Release, { where: { id: releaseId, accountId } });
      // published (by an upload or the action) and yanked are events; unpublishing by removing the file is artifact.deleted
      const events: NewEvent[] = [...(told?.events ?? [])];
      if (patch.status === 'PUBLISHED') events.push({ accountId, event: 'release.published', resource: toResource(ReleaseSerializer, changed) });
      if (patch.status === 'YANKED') events.push({ accountId, event: 'release.yanked', resource: toResource(ReleaseSerializer, changed) });
      await this.events.recordMany(m, events);
      return changed;
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  /** The release under its row lock, and whether an artifact of it is UPLOADED. */
  private async lockAndRead(m: EntityManager, accountId: string, releaseId: string): Promise<{ release: Release; artifactUploaded: boolean }> {
    const release = await lockRelease(m, accountId, releaseId);
    const uploaded: Array<unknown> = await m.query(`SELECT 1 FROM artifacts WHERE release_id = $1 AND account_id = $2 AND status = 'UPLOADED'`, [releaseId, accountId]);
    return { release, artifactUploaded: uploaded.length > 0 };
  }
}
