import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { isPrivileged } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import { CountersService } from '../counters/counters.service';
import type { AppConfig } from '../config/config';
import { EventsService } from '../events/events.service';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { isUuid } from '../jsonapi/ids';
import { accountPath } from '../jsonapi/links';
import { Release } from '../releases/release.entity';
import { ReleaseStatusService } from '../releases/release-status.service';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { ArtifactErrorCode } from './artifact-errors';
import { Artifact } from './artifact.entity';
import { ArtifactSerializer } from './artifact.serializer';
import { parseContentDigest } from './content-digest';
import type { ExpectedDigest } from './content-digest';
import { downloadGeneration, DownloadSigner } from './download-signer';
import { contentDisposition } from './http-range';
import { STORAGE_DRIVER } from './storage/storage-driver';
import type { StagedObject, StorageDriver } from './storage/storage-driver';

/** `?ttl=` bounds (seconds) and the default lifetime of a download URL. */
export const DOWNLOAD_TTL_MIN = 60;
export const DOWNLOAD_TTL_MAX = 604800;
export const DOWNLOAD_TTL_DEFAULT = 3600;

/**
 * A presigned S3 URL is only handed out by a route that has just checked the release (the signed
 * download route, /v3): it needs to live just long enough for the client to follow the redirect,
 * so that a yank or a delete cannot leave a working URL behind.
 */
export const PRESIGN_TTL_SECONDS = 60;

/** The release fields a download URL is bound to. */
export type DownloadRelease = Pick<Release, 'id' | 'status' | 'yanked'>;

/** Path segments URL-encoded one by one, so that a prefix (`prod-1/linux.tar.gz`) keeps its slash. */
export function encodeFilenamePath(filename: string): string {
  return filename.split('/').map(encodeURIComponent).join('/');
}

/**
 * Watches for the client going away (or going silent) before the body's last byte, so that such
 * uploads are told apart from storage failures.
 */
function watchUpload(req: Request, idleTimeoutMs: number): { gone(): boolean; stop(): void } {
  let gone = false;
  const onGone = () => {
    if (!req.complete) gone = true;
  };
  const socket = req.socket;
  req.once('aborted', onGone);
  socket?.once('close', onGone);
  req.setTimeout(idleTimeoutMs, () => {
    gone = true;
    req.destroy(new Error('the upload stalled'));
  });
  return {
    gone: () => gone || (req.errored as NodeJS.ErrnoException | null)?.code === 'ECONNRESET',
    stop: () => {
      req.off('aborted', onGone);
      socket?.off('close', onGone);
      req.setTimeout(0);
    },
  };
}

/**
 * Lets at most `max` bytes through: the first chunk that would go past it fails the stream before
 * any of it is written, so a body bigger than the release's filesize stops there.
 */
class SizeCap extends Transform {
  exceeded = false;
  private seen = 0;

  constructor(private readonly max: number) {
    super();
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      this.exceeded = true;
      callback(new Error('the upload is bigger than the release filesize'));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * The request body through a SizeCap. Piped by hand rather than by pipeline(): when the cap trips,
 * the request must stay open for the 422 (pipeline would destroy it); a client going away still
 * ends the capped stream.
 */
function capped(req: Request, max: number): SizeCap {
  const cap = new SizeCap(max);
  req.pipe(cap);
  req.once('error', (error) => cap.destroy(error));
  req.once('close', () => {
    if (!req.complete) cap.destroy(new Error('the upload was interrupted'));
  });
  return cap;
}

/**
 * An artifact is the file's own bytes: an HTML form's body (curl -F, a browser form) would be
 * stored as a corrupt file and published, so it is refused before a byte is read.
 */
export function refuseFormBody(req: Request): void {
  const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
  if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') {
    throw new ApiError(
      415,
      ErrorCode.MEDIA_TYPE_UNSUPPORTED,
      `An artifact upload is the file's raw bytes, not a ${type} form: send it with curl -T <file> or --data-binary @<file>`,
      { header: 'Content-Type' },
      // the body is not read: the connection cannot carry another request
      { Connection: 'close' },
    );
  }
}

/** A request header as a trimmed value fit for the `content_type` column, or the default. */
function uploadContentType(header: string | undefined): string {
  const value = header?.trim();
  if (!value) return 'application/octet-stream';
  if (value.length > 255 || !/^[\x20-\x7e]+$/.test(value) || !/^[\w.+-]+\/[\w.+-]+/.test(value)) {
    throw new ApiError(400, ErrorCode.PARAMETER_INVALID, 'must be a media type such as application/gzip', { header: 'Content-Type' });
  }
  return value;
}

/**
 * Artifact bytes and their downloads: uploads streamed into storage (verified, then published in
 * one transaction with the release's status change), signed or presigned download URLs, removal.
 */
@Injectable()
export class ArtifactsService implements OnModuleDestroy {
  private readonly logger = new Logger('ArtifactsService');
  /** Artifacts stored by this process since it started (read by /metrics). */
  readonly uploaded = { files: 0, bytes: 0 };
  /** The last link issued per artifact row (the same second of expiry and release state give the same link). */
  private readonly issued = new WeakMap<Artifact, { expires: number; generation: string; url: string }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly signer: DownloadSigner,
    private readonly statuses: ReleaseStatusService,
    private readonly counters: CountersService,
    private readonly events: EventsService,
  ) {}

  get storageDriver(): StorageDriver {
    return this.storage;
  }

  async onModuleDestroy(): Promise<void> {
    await this.storage.close?.();
  }

  /** The release if the bearer may see it (ReleaseVisibilityPolicy), else 404. */
  async findVisibleRelease(bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
    const release = isUuid(releaseId)
      ? await ReleaseVisibilityPolicy.scope(
          this.db
            .createQueryBuilder(Release, 'release')
            .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId: releaseId.toLowerCase(), accountId }),
          bearer,
          'release',
        ).getOne()
      : null;
    if (!release) throw ApiError.notFound('The release was not found');
    return release;
  }

  private async findWritableRelease(bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
    const release = await this.findVisibleRelease(bearer, accountId, releaseId);
    if (!ReleaseVisibilityPolicy.canWrite(bearer, release)) throw ApiError.forbidden('Only an admin or the product token may change this artifact');
    return release;
  }

  /** The release's artifact when its upload is complete, else null. */
  findUploaded(accountId: string, releaseId: string, manager: EntityManager = this.db.manager): Promise<Artifact | null> {
    return manager.findOne(Artifact, { where: { accountId, releaseId, status: 'UPLOADED' } });
  }

  /**
   * An uploaded artifact by its own id, for a signed download URL: null unless the URL's
   * generation is still the artifact's (same stored object, release status and yank), so that a
   * yank, a delete or a replacement ends every URL issued before it.
   */
  async findForSignedUrl(accountId: string, artifactId: string, generation: string | undefined): Promise<Artifact | null> {
    if (!isUuid(artifactId) || !generation) return null;
    const artifact = await this.db.manager.findOne(Artifact, { where: { accountId, id: artifactId.toLowerCase(), status: 'UPLOADED' } });
    if (!artifact?.storageKey) return null;
    const release = await this.db.manager.findOne(Release, { where: { accountId, id: artifact.releaseId }, select: { id: true, status: true, yanked: true } });
    if (!release || downloadGeneration(artifact.storageKey, release) !== generation) return null;
    return artifact;
  }

  /**
   * `PUT /releases/:id/artifact`: streams the request body into a staged object while hashing it,
   * verifies Content-Digest and the release's filesize, then makes it the release's artifact in one
   * transaction (artifact row + 'artifact-uploaded'). Any failure, including the client going
   * away, removes the staged bytes and leaves the release and its previous artifact as they were.
   */
  async upload(bearer: Bearer, accountId: string, releaseId: string, req: Request): Promise<Artifact> {
    const release = await this.findWritableRelease(bearer, accountId, releaseId);
    return this.receive(release, req);
  }

  /**
   * Streams the request body into storage as `release`'s artifact (the direct PUT and the signed
   * upload URL alike): a form body is refused, Content-Digest and `declared` digests are verified.
   */
  async receive(release: Release, req: Request, declaredDigests: ExpectedDigest[] = []): Promise<Artifact> {
    const { accountId } = release;
    refuseFormBody(req);
    const expected = [...parseContentDigest(req.headers['content-digest']), ...declaredDigests];
    const contentType = uploadContentType(req.headers['content-type']);
    const declared = req.headers['content-length'];
    if (release.filesize !== null && declared !== undefined && Number(declared) !== release.filesize) {
      // refuse before receiving a byte
      throw this.filesizeMismatch(release.filesize, Number(declared));
    }

    const existing = await this.db.manager.findOne(Artifact, { where: { accountId, releaseId: release.id } });
    const artifactId = existing?.id ?? randomUUID();
    const key = `${accountId}/${artifactId}/${randomBytes(16).toString('hex')}`;

    const watch = watchUpload(req, this.config.uploadIdleTimeoutMs);
    const cap = release.filesize !== null ? capped(req, release.filesize) : null;
    let staged: StagedObject;
    try {
      staged = await this.storage.stage(key, (cap ?? req) as Readable, { contentType });
    } catch (error) {
      if (cap?.exceeded) {
        // answered at once; the rest of the body is not read (the connection closes after the answer)
        req.unpipe(cap);
        throw new ApiError(
          422,
          ErrorCode.FILESIZE_MISMATCH,
          `The release's filesize is ${release.filesize} bytes but the upload is bigger`,
          { pointer: '/data/attributes/filesize' },
          { Connection: 'close' },
        );
      }
      if (watch.gone()) throw new ApiError(400, ArtifactErrorCode.REQUEST_ABORTED, 'The upload was interrupted before its last byte');
      this.logger.error(`storing an upload for release ${release.id} failed: ${(error as Error)?.message}`);
      throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, 'The storage is unavailable, try again later', undefined, { 'Retry-After': '5' });
    } finally {
      watch.stop();
    }

    let previousKey: string | null;
    try {
      for (const digest of expected) {
        if (staged[digest.algorithm] !== digest.hex) {
          throw new ApiError(422, ErrorCode.CHECKSUM_MISMATCH, `The uploaded bytes do not match the ${digest.algorithm === 'sha256' ? 'sha-256' : 'sha-512'} Content-Digest`, {
            header: 'Content-Digest',
          });
        }
      }
      if (release.filesize !== null && release.filesize !== staged.size) throw this.filesizeMismatch(release.filesize, staged.size);
      await staged.commit();
      previousKey = await this.db.transaction((m) => this.publish(m, release, artifactId, staged, contentType));
    } catch (error) {
      await staged.discard().catch((e) => this.logger.warn(`discarding upload ${key} failed: ${(e as Error)?.message}`));
      throw error;
    }
    this.uploaded.files++;
    this.uploaded.bytes += staged.size;
    if (previousKey && previousKey !== key) await this.deleteObject(previousKey);
    return this.db.manager.findOneOrFail(Artifact, { where: { accountId, releaseId: release.id } });
  }

  /** Inside the upload's transaction: returns the storage key the new bytes replace. */
  async publish(m: EntityManager, release: Release, artifactId: string, staged: Pick<StagedObject, 'key' | 'size' | 'sha256' | 'sha512'>, contentType: string): Promise<string | null> {
    const { accountId, id: releaseId } = release;
    // the release row lock serialises concurrent uploads, removals and status changes of this release
    const locked = await m
      .createQueryBuilder(Release, 'release')
      .setLock('pessimistic_write')
      .where('release.id = :releaseId AND release.account_id = :accountId', { releaseId, accountId })
      .getOne();
    if (!locked) throw ApiError.notFound('The release was not found');
    if (locked.filesize !== null && locked.filesize !== staged.size) throw this.filesizeMismatch(locked.filesize, staged.size);
    if (locked.filesize === null) await m.update(Release, { id: releaseId, accountId }, { filesize: staged.size });

    const fields = {
      filename: locked.filename,
      filetype: locked.filetype,
      filesize: staged.size,
      contentType,
      sha256: staged.sha256,
      sha512: staged.sha512,
      status: 'UPLOADED' as const,
      storageKey: staged.key,
      // an upload URL outstanding for this artifact is spent
      uploadExpires: null,
      uploadKey: null,
      uploadDigest: null,
    };
    const current = await m.findOne(Artifact, { where: { accountId, releaseId } });
    if (current) {
      await m.update(Artifact, { id: current.id, accountId }, { ...fields, updated: new Date() });
    } else {
      await m.insert(Artifact, { id: artifactId, accountId, releaseId, ...fields });
    }
    const stored = await m.findOneOrFail(Artifact, { where: { accountId, releaseId } });
    await this.events.record(m, accountId, 'artifact.uploaded', toResource(ArtifactSerializer, stored));
    await this.statuses.apply(accountId, releaseId, 'artifact-uploaded', m);
    return current?.storageKey ?? null;
  }

  filesizeMismatch(expected: number, actual: number): ApiError {
    return new ApiError(422, ErrorCode.FILESIZE_MISMATCH, `The release's filesize is ${expected} bytes but the upload has ${actual}`, {
      pointer: '/data/attributes/filesize',
    });
  }

  /**
   * A download URL for the release's uploaded artifact (404 when there is none): a signed
   * `/v1/accounts/:account/artifacts/:id/:filename` URL for local storage, a presigned URL for S3.
   * `ttlSeconds` is honoured for admins and product tokens only (others get the default hour).
   * Every URL issued to a license, user or anonymous caller adds exactly 1 to the release's downloads.
   * The caller has already checked that the bearer may see `release`; `known` is its artifact
   * when the caller has it already (the catalogue's copy), saving a query.
   */
  async issueDownload(
    bearer: Bearer,
    accountId: string,
    release: DownloadRelease,
    ttlSeconds?: number,
    known?: Artifact | null,
  ): Promise<{ artifact: Artifact; url: string }> {
    const artifact = known && this.usable(known, release) ? known : await this.findUploaded(accountId, release.id);
    if (!artifact) throw ApiError.notFound('The release has no uploaded artifact');
    const privileged = isPrivileged(bearer);
    const ttl = privileged && ttlSeconds !== undefined ? Math.min(Math.max(ttlSeconds, DOWNLOAD_TTL_MIN), DOWNLOAD_TTL_MAX) : DOWNLOAD_TTL_DEFAULT;
    return { artifact, url: this.issue(bearer, accountId, release, artifact, ttl) };
  }

  /**
   * issueDownload for an artifact already known (the catalogue's), synchronously: the signed URL
   * (counted for customers), or undefined when it is not the release's uploaded file.
   */
  issueDownloadNow(bearer: Bearer, accountId: string, release: DownloadRelease, known: Artifact): string | undefined {
    return this.usable(known, release) ? this.issue(bearer, accountId, release, known, DOWNLOAD_TTL_DEFAULT) : undefined;
  }

  private usable(artifact: Artifact, release: DownloadRelease): boolean {
    return artifact.status === 'UPLOADED' && artifact.releaseId === release.id;
  }

  /** The signed URL, counted as a download for customers. */
  private issue(bearer: Bearer, accountId: string, release: DownloadRelease, artifact: Artifact, ttl: number): string {
    const url = this.downloadUrl(artifact, release, ttl);
    if (!isPrivileged(bearer)) this.counters.countDownload(accountId, release.id, bearer);
    return url;
  }

  /**
   * A signed URL to an artifact named by id and filename, for a caller who may see its release
   * (404 otherwise, whether it exists or not); counted as issueDownload counts.
   */
  async issueDownloadOf(bearer: Bearer, accountId: string, artifactId: string, filename: string): Promise<string> {
    const artifact = isUuid(artifactId) ? await this.db.manager.findOne(Artifact, { where: { accountId, id: artifactId.toLowerCase(), status: 'UPLOADED' } }) : null;
    if (!artifact || artifact.filename !== filename) throw ApiError.notFound('The artifact was not found');
    const release = await this.findVisibleRelease(bearer, accountId, artifact.releaseId).catch((error: unknown) => {
      // a release the caller may not see: the artifact is not found either (other errors stay as they are)
      throw error instanceof ApiError && error.status === 404 ? ApiError.notFound('The artifact was not found') : error;
    });
    return (await this.issueDownload(bearer, accountId, release, undefined, artifact)).url;
  }

  /**
   * An absolute signed URL to the artifact's bytes, valid for `ttlSeconds` and only while the
   * release stays as it is now (downloadGeneration). Whatever the storage: with S3 the signed
   * route checks the release, then redirects to a presigned URL of PRESIGN_TTL_SECONDS.
   */
  downloadUrl(artifact: Artifact, release: DownloadRelease, ttlSeconds: number): string {
    if (!artifact.storageKey) throw ApiError.notFound('The release has no uploaded artifact');
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    const generation = downloadGeneration(artifact.storageKey, release);
    // update checks hand out the same link many times a second: signed once per second of expiry
    const issued = this.issued.get(artifact);
    if (issued && issued.expires === expires && issued.generation === generation) return issued.url;
    const signature = this.signer.sign({ accountId: artifact.accountId, artifactId: artifact.id, filename: artifact.filename, expires, generation });
    const url = `${this.config.publicUrl}${accountPath(artifact.accountId)}/artifacts/${artifact.id}/${encodeFilenamePath(artifact.filename)}?expires=${expires}&g=${generation}&signature=${signature}`;
    this.issued.set(artifact, { expires, generation, url });
    return url;
  }

  /** A short-lived presigned URL (S3 only), for a route that has just checked the release. */
  async presignedUrl(artifact: Artifact): Promise<string> {
    if (!artifact.storageKey || !this.storage.presignGet) throw ApiError.notFound('The release has no uploaded artifact');
    try {
      return await this.storage.presignGet(artifact.storageKey, {
        expiresInSeconds: PRESIGN_TTL_SECONDS,
        contentDisposition: contentDisposition(artifact.filename),
        contentType: artifact.contentType || 'application/octet-stream',
      });
    } catch (error) {
      this.logger.error(`presigning artifact ${artifact.id} failed: ${(error as Error)?.message}`);
      throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, 'The storage is unavailable, try again later', undefined, { 'Retry-After': '5' });
    }
  }

  /** `DELETE /releases/:id/artifact`: removes the file and its row; a PUBLISHED release becomes NOT_PUBLISHED. */
  async remove(bearer: Bearer, accountId: string, releaseId: string): Promise<void> {
    const release = await this.findWritableRelease(bearer, accountId, releaseId);
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
