import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import type { EntityManager, QueryDeepPartialEntity, SelectQueryBuilder } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { isPrivileged } from '../access/bearer';
import { Entitlement } from '../entitlements/entitlement.entity';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import { toResource } from '../jsonapi/serializer';
import type { PageResult } from '../jsonapi/serializer';
import { resolveProductRef, ProductDirectory } from '../products/product-ref';
import { Artifact } from '../releases/artifact.entity';
import { ArtifactConstraint } from '../releases/artifact-constraint.entity';
import { ArtifactSerializer } from '../releases/artifact.serializer';
import { artifactV11 } from '../releases/artifact-view';
import type { ArtifactV11 } from '../releases/artifact-view';
import { visibleArtifactIds } from '../releases/artifact-visibility';
import type { CreateArtifactDto, UpdateArtifactDto } from '../releases/dto/release-v11.dto';
import { Release } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { ReleaseStatusService } from '../releases/release-status.service';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { ReleasesService } from '../releases/releases.service';
import { INCLUSIVE_CHANNELS, precedenceColumns } from '../releases/semver';
import { StoredFiles } from '../storage/stored-files';
import { UploadUrlsService } from './upload-urls.service';

/** `sort=` fields of GET /artifacts. */
export const ARTIFACT_SORT = { created: ['artifact.created'] };

/** Filters of GET /artifacts (`?release=&product=&platform=&arch=&filetype=&status=&channel=`). */
export interface ArtifactFilters {
  release?: string;
  product?: string;
  platform?: string;
  arch?: string;
  filetype?: string;
  status?: string;
  channel?: Channel;
}

/** An artifact's platform and arch as 1.1 shows them (a 1.0 release's artifact takes its release's, artifact-view.ts). */
const PLATFORM_SQL = `CASE WHEN release.multi_artifact THEN artifact.platform ELSE split_part(release.platform, '/', 1) END`;
const ARCH_SQL = `CASE WHEN release.multi_artifact THEN artifact.arch ELSE NULLIF(split_part(release.platform, '/', 2), '') END`;

/** Platform names clients send for the same systems, as Shipgate names them. */
const PLATFORM_ALIASES: Record<string, string> = { mac: 'darwin', macos: 'darwin', osx: 'darwin', win: 'windows', win32: 'windows' };

export function normalizePlatform(platform: string | null | undefined): string | null {
  if (!platform) return null;
  return PLATFORM_ALIASES[platform] ?? platform;
}

/** `app.exe.blockmap` -> `blockmap`, `app.tar.gz` -> `tar.gz`, `latest.yml` -> `yml`; null without an extension. */
export function filetypeOf(filename: string): string | null {
  const base = filename.slice(filename.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) return null;
  const compound = base.match(/\.(tar\.(?:gz|xz|bz2|zst))$/);
  return compound ? compound[1] : base.slice(base.lastIndexOf('.') + 1);
}

/**
 * The artifacts of API 1.1 (many per release): create with an upload URL, list, show by id or
 * filename, PATCH, yank, and their constraints. A customer sees the UPLOADED artifacts of the
 * releases it sees whose own constraints it holds (visibleArtifactIds); admins and the product's
 * token see all. The one artifact of a 1.0 release is an artifact here too.
 */
@Injectable()
export class ArtifactsV11Service {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly releases: ReleasesService,
    private readonly uploadUrls: UploadUrlsService,
    private readonly storedFiles: StoredFiles,
    private readonly statuses: ReleaseStatusService,
    private readonly directory: ProductDirectory,
    private readonly events: EventsService,
  ) {}

  /**
   * `POST /artifacts`: a WAITING artifact of a 1.1 release, with the signed URL to PUT its bytes
   * to. A filename the release holds as WAITING or FAILED (an upload that did not arrive) is that
   * artifact again, with a new upload URL; UPLOADED or YANKED is 422 FILENAME_TAKEN.
   */
  async create(bearer: Bearer, accountId: string, dto: CreateArtifactDto, req: Request): Promise<{ view: ArtifactV11; url: string }> {
    const release = await this.releases.findWritable(bearer, accountId, dto.releaseId, { artifacts: true }).catch((error: unknown) => {
      throw error instanceof ApiError && error.status === 404 ? ApiError.relationship('release', 'NOT_FOUND', `releases ${dto.releaseId.slice(0, 64)} was not found`) : error;
    });
    if (!release.multiArtifact) {
      throw ApiError.relationship('release', 'INVALID', 'a release created through API 1.0 has one file: upload it with PUT /releases/:id/artifact');
    }
    const id = randomUUID();
    const pending = await this.uploadUrls.pending(accountId, id, req);
    const type = req.headers['content-type'];
    const values: QueryDeepPartialEntity<Artifact> = {
      id,
      accountId,
      releaseId: release.id,
      filename: dto.filename,
      filetype: dto.filetype ?? filetypeOf(dto.filename) ?? 'bin',
      // electron-builder names macOS `mac`; Shipgate's platforms are Go's (darwin, linux, windows)
      platform: normalizePlatform(dto.platform),
      filesize: dto.filesize ?? null,
      contentType: typeof type === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(type.trim()) && !type.includes('json') ? type.trim() : 'application/octet-stream',
      sha256: null,
      sha512: null,
      status: 'WAITING',
      storageKey: null,
      arch: dto.arch ?? null,
      signature: dto.signature ?? null,
      checksum: dto.checksum ?? null,
      metadata: dto.metadata ?? {},
      uploadExpires: pending.uploadExpires,
      uploadKey: pending.uploadKey,
      uploadDigest: pending.uploadDigest,
    };
    const { artifact, superseded } = await this.db.transaction(async (m) => {
      await m.query('SELECT 1 FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE', [release.id, accountId]);
      const existing = await m.findOne(Artifact, { where: { accountId, releaseId: release.id, filename: dto.filename } });
      if (existing && (existing.status === 'UPLOADED' || existing.status === 'YANKED')) {
        throw ApiError.attribute('filename', 'TAKEN', 'is already taken by another artifact of this release');
      }
      if (existing) {
        // an upload that never arrived or failed: the same artifact gets a new upload URL (and the new attributes)
        const { id: _new, accountId: _a, releaseId: _r, ...fresh } = values as Record<string, unknown>;
        const uploadKey = pending.uploadKey ? pending.uploadKey.replace(`/${id}/`, `/${existing.id}/`) : null;
        await m.update(Artifact, { id: existing.id, accountId }, { ...fresh, uploadKey, updated: new Date() } as QueryDeepPartialEntity<Artifact>);
        return { artifact: await m.findOneOrFail(Artifact, { where: { id: existing.id, accountId } }), superseded: existing.uploadKey };
      }
      await m.insert(Artifact, values);
      return { artifact: await m.findOneOrFail(Artifact, { where: { id, accountId } }), superseded: null };
    });
    if (superseded) await this.storedFiles.deleteObject(superseded);
    return { view: artifactV11(artifact, release), url: await this.uploadUrls.urlFor(artifact) };
  }

  async list(bearer: Bearer, accountId: string, query: ListQuery, filters: ArtifactFilters): Promise<PageResult<ArtifactV11>> {
    const qb = this.visible(bearer, accountId);
    if (filters.release !== undefined) {
      const release = await this.releases.findVisible(bearer, accountId, filters.release, filters.product, { artifacts: true });
      qb.andWhere('artifact.release_id = :fRelease', { fRelease: release.id });
    }
    if (filters.product !== undefined) qb.andWhere('release.product_id = :fProduct', { fProduct: await resolveProductRef(this.directory, accountId, filters.product) });
    if (filters.platform !== undefined) qb.andWhere(`${PLATFORM_SQL} = :fPlatform`, { fPlatform: filters.platform });
    if (filters.arch !== undefined) qb.andWhere(`${ARCH_SQL} = :fArch`, { fArch: filters.arch });
    if (filters.filetype !== undefined) qb.andWhere('artifact.filetype = :fFiletype', { fFiletype: filters.filetype });
    if (filters.status !== undefined) qb.andWhere('artifact.status = :fStatus', { fStatus: filters.status });
    if (filters.channel !== undefined) qb.andWhere('release.channel IN (:...fChannels)', { fChannels: INCLUSIVE_CHANNELS[filters.channel] });
    const page = await paginate(qb, query.page, query.sort, ARTIFACT_SORT);
    return { ...page, items: await this.views(accountId, page.items) };
  }

  /** The artifacts of one release the caller sees (`GET /releases/:id/artifacts`). */
  async ofRelease(bearer: Bearer, accountId: string, releaseId: string, query: ListQuery): Promise<PageResult<ArtifactV11>> {
    return this.list(bearer, accountId, query, { release: releaseId });
  }

  /**
   * One artifact by id, or by filename: the newest visible version's first (highest precedence,
   * then the newest release), `?product=` narrowing. Hidden and unknown alike are 404.
   */
  async findVisible(bearer: Bearer, accountId: string, idOrFilename: string, productRef?: string): Promise<{ artifact: Artifact; release: Release; view: ArtifactV11 }> {
    const qb = this.visible(bearer, accountId);
    if (isUuid(idOrFilename)) qb.andWhere('artifact.id = :artifactIdValue', { artifactIdValue: idOrFilename.toLowerCase() });
    else qb.andWhere('artifact.filename = :artifactFilenameValue', { artifactFilenameValue: idOrFilename });
    if (productRef !== undefined) qb.andWhere('release.product_id = :aProduct', { aProduct: await resolveProductRef(this.directory, accountId, productRef) });
    for (const column of precedenceColumns('release')) qb.addOrderBy(column, 'DESC');
    const artifact = await qb.addOrderBy('release.created', 'DESC').addOrderBy('artifact.created', 'DESC').getOne();
    if (!artifact) throw ApiError.notFound('The artifact was not found');
    const release = await this.db.manager.findOneOrFail(Release, { where: { id: artifact.releaseId, accountId } });
    return { artifact, release, view: artifactV11(artifact, release) };
  }

  /** An artifact the bearer may change: hidden 404, visible but not writable 403. */
  async findWritable(bearer: Bearer, accountId: string, id: string): Promise<{ artifact: Artifact; release: Release }> {
    const found = await this.findVisible(bearer, accountId, id);
    if (!ReleaseVisibilityPolicy.canWrite(bearer, found.release)) throw ApiError.forbidden('Only an admin or the product token may change this artifact');
    return found;
  }

  /**
   * `PATCH /artifacts/:id`: filesize, signature, checksum, metadata. The artifact of a 1.0 release
   * keeps these on its release (what 1.0 shows): they are changed there; it has no metadata.
   */
  async update(bearer: Bearer, accountId: string, id: string, dto: UpdateArtifactDto): Promise<ArtifactV11> {
    const { artifact, release } = await this.findWritable(bearer, accountId, id);
    const changes: Record<string, unknown> = {};
    if (dto.filesize !== undefined) changes.filesize = dto.filesize;
    if (dto.signature !== undefined) changes.signature = dto.signature;
    if (dto.checksum !== undefined) changes.checksum = dto.checksum;
    if (dto.metadata !== undefined) {
      if (dto.metadata === null) throw ApiError.attribute('metadata', 'INVALID', 'must be an object');
      if (!release.multiArtifact) throw ApiError.attribute('metadata', 'INVALID', "the artifact of a release created through API 1.0 has no metadata of its own (the release's metadata is)");
      changes.metadata = dto.metadata;
    }
    if (changes.filesize !== undefined && artifact.status === 'UPLOADED') throw ApiError.attribute('filesize', 'INVALID', 'cannot change once the file is uploaded');
    await this.db.transaction(async (m) => {
      if (!Object.keys(changes).length) return;
      if (release.multiArtifact) await m.update(Artifact, { id: artifact.id, accountId }, { ...changes, updated: new Date() });
      else await m.update(Release, { id: release.id, accountId }, changes);
    });
    const fresh = await this.db.manager.findOneOrFail(Artifact, { where: { id: artifact.id, accountId } });
    const freshRelease = await this.db.manager.findOneOrFail(Release, { where: { id: release.id, accountId } });
    return artifactV11(fresh, freshRelease);
  }

  /**
   * `DELETE /artifacts/:id`: yanks the artifact (YANKED): every URL issued for it stops working at
   * once (they are signed for an UPLOADED artifact), its file is removed, and the release's other
   * artifacts stay. A 1.0 release losing its one file becomes NOT_PUBLISHED (the status machine).
   */
  async yank(bearer: Bearer, accountId: string, id: string): Promise<void> {
    const { artifact, release } = await this.findWritable(bearer, accountId, id);
    const key = await this.db.transaction(async (m) => {
      await m.query('SELECT 1 FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE', [release.id, accountId]);
      const current = await m.findOne(Artifact, { where: { id: artifact.id, accountId } });
      if (!current || current.status === 'YANKED') return null;
      await m.update(Artifact, { id: current.id, accountId }, { status: 'YANKED', storageKey: null, uploadExpires: null, uploadKey: null, uploadDigest: null, updated: new Date() });
      await this.events.record(m, accountId, 'artifact.deleted', toResource(ArtifactSerializer, { ...current, status: 'YANKED' }));
      if (!release.multiArtifact) await this.statuses.apply(accountId, release.id, 'artifact-removed', m);
      return current.storageKey;
    });
    if (key) await this.storedFiles.deleteObject(key);
  }

  // ---- constraints ------------------------------------------------------------------------

  async constraints(bearer: Bearer, accountId: string, id: string): Promise<ArtifactConstraint[]> {
    const { artifact } = await this.findVisible(bearer, accountId, id);
    return this.db.manager.find(ArtifactConstraint, { where: { accountId, artifactId: artifact.id }, order: { created: 'ASC', id: 'ASC' } });
  }

  /** Attaches entitlements, all or nothing (unknown: 422 ENTITLEMENT_NOT_FOUND; already attached or given twice: ENTITLEMENT_TAKEN). */
  async attach(bearer: Bearer, accountId: string, id: string, entitlementIds: string[]): Promise<ArtifactConstraint[]> {
    const { artifact, release } = await this.findWritable(bearer, accountId, id);
    if (!release.multiArtifact) throw new ApiError(422, 'ARTIFACT_INVALID', "the file of a release created through API 1.0 is constrained by its release's constraints");
    const pointer = (i: number) => ({ pointer: `/data/${i}/relationships/entitlement` });
    const known = await this.db.manager.find(Entitlement, { where: { id: In(entitlementIds), accountId }, select: { id: true } });
    const knownIds = new Set(known.map((e) => e.id));
    entitlementIds.forEach((eid, i) => {
      if (!knownIds.has(eid)) throw new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlements ${eid} was not found`, pointer(i));
      if (entitlementIds.indexOf(eid) !== i) throw new ApiError(422, 'ENTITLEMENT_TAKEN', 'is given twice', pointer(i));
    });
    return this.db.transaction(async (m) => {
      const rows: Array<{ id: string; entitlement_id: string }> = await m.query(
        `INSERT INTO artifact_constraints (account_id, artifact_id, release_id, entitlement_id)
         SELECT $1, $2, $3, e FROM unnest($4::uuid[]) AS e
         ON CONFLICT ON CONSTRAINT artifact_constraints_unique DO NOTHING
         RETURNING id, entitlement_id`,
        [accountId, artifact.id, artifact.releaseId, entitlementIds],
      );
      if (rows.length !== entitlementIds.length) {
        const inserted = new Set(rows.map((r) => r.entitlement_id));
        throw new ApiError(422, 'ENTITLEMENT_TAKEN', 'is already a constraint of this artifact', pointer(entitlementIds.findIndex((e) => !inserted.has(e))));
      }
      return m.find(ArtifactConstraint, { where: { id: In(rows.map((r) => r.id)), accountId }, order: { created: 'ASC', id: 'ASC' } });
    });
  }

  /** Detaches constraints by id (an id that is not one of the artifact's: 422 CONSTRAINT_NOT_FOUND). */
  async detach(bearer: Bearer, accountId: string, id: string, constraintIds: string[]): Promise<void> {
    const { artifact } = await this.findWritable(bearer, accountId, id);
    await this.db.transaction(async (m) => {
      const found = await m.find(ArtifactConstraint, { where: { id: In(constraintIds), accountId, artifactId: artifact.id } });
      const foundIds = new Set(found.map((c) => c.id));
      const missing = constraintIds.findIndex((c) => !foundIds.has(c));
      if (missing >= 0) throw new ApiError(422, 'CONSTRAINT_NOT_FOUND', `constraints ${constraintIds[missing]} was not found`, { pointer: `/data/${missing}` });
      await m.delete(ArtifactConstraint, { id: In(constraintIds), accountId });
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /**
   * The account's artifacts the bearer may see, as a query on alias `artifact` joined to its
   * `release`: the release visible (ReleaseVisibilityPolicy.scope) and, for customers, the artifact
   * UPLOADED with its own constraints held.
   */
  private visible(bearer: Bearer, accountId: string): SelectQueryBuilder<Artifact> {
    const qb = this.db
      .createQueryBuilder(Artifact, 'artifact')
      .innerJoin(Release, 'release', 'release.id = artifact.release_id AND release.account_id = artifact.account_id')
      .where('artifact.account_id = :accountId', { accountId });
    if (!isPrivileged(bearer)) qb.andWhere(`artifact.status = 'UPLOADED'`);
    return ReleaseVisibilityPolicy.scope(qb, bearer, 'release', isPrivileged(bearer) ? undefined : 'artifact.id');
  }

  /** 1.1 views of a page of artifacts (their releases read in one query). */
  private async views(accountId: string, artifacts: Artifact[], m: EntityManager = this.db.manager): Promise<ArtifactV11[]> {
    if (!artifacts.length) return [];
    const releases = await m.find(Release, { where: { id: In([...new Set(artifacts.map((a) => a.releaseId))]), accountId } });
    const releaseOf = new Map(releases.map((r) => [r.id, r]));
    return artifacts.map((a) => artifactV11(a, releaseOf.get(a.releaseId)!));
  }
}

