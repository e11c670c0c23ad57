import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { insertReturning } from '../database/insert-returning';
import { EventsService } from '../events/events.service';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { toResource } from '../jsonapi/serializer';
import { Release } from '../releases/release.entity';
import { lockRelease, ReleaseStatusService } from '../releases/release-status.service';
import { ArtifactErrorCode } from './artifact-errors';
import { StoredFiles } from '../storage/stored-files';
import { Artifact } from '../releases/artifact.entity';
import { ArtifactSerializer } from '../releases/artifact.serializer';
import { parseContentDigest } from './content-digest';
import type { ExpectedDigest } from './content-digest';
import { STORAGE_DRIVER } from '../storage/storage-driver';
import type { StagedObject, StorageDriver } from '../storage/storage-driver';
import { findWritableRelease } from './visible-release';
import { hasManifest, readTarballManifest } from './package-manifest';
import type { TarballManifest } from './package-manifest';

/**
 * Watches for the client going away (or going silent) before the body's last byte, so that such
 * uploads are told apart from storage failures. A silent client is not cut off: the body stream
 * (`body`, what storage reads) fails, and the request is answered 408 before its connection closes.
 */
function watchUpload(req: Request, body: SizeCap, idleTimeoutMs: number): { gone(): boolean; stalled(): boolean; stop(): void } {
  let gone = false;
  let stalled = false;
  const onGone = () => {
    if (!req.complete) gone = true;
  };
  const socket = req.socket;
  req.once('aborted', onGone);
  socket?.once('close', onGone);
  req.setTimeout(idleTimeoutMs, () => {
    stalled = true;
    req.unpipe(body);
    body.destroy(new Error('the upload stalled'));
  });
  return {
    stalled: () => stalled && !gone,
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
 * Artifact uploads: the body streamed into storage, verified (Content-Digest, the release's
 * filesize), then published in one transaction with the release's status change.
 */
/** What the caller of ArtifactUploadsService.receive knows of the upload already. */
export interface Receiving {
  /** Digests the upload was declared with (a signed upload URL's), verified as Content-Digest is. */
  declaredDigests?: ExpectedDigest[];
  /** The 1.1 artifact the upload is for (a signed upload URL's); without it, the release's own file. */
  target?: Artifact;
  /** The release's artifact (null: it has none), when the caller has read it already. */
  existing?: Artifact | null;
}

@Injectable()
export class ArtifactUploadsService {
  private readonly logger = new Logger('ArtifactUploadsService');
  /** Artifacts stored by this process since it started (read by /metrics). */
  readonly uploaded = { files: 0, bytes: 0 };

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly storedFiles: StoredFiles,
    private readonly statuses: ReleaseStatusService,
    private readonly events: EventsService,
  ) {}

  /**
   * `PUT /releases/:id/artifact`: streams the request body into a staged object while hashing it,
   * verifies Content-Digest and the release's filesize, then makes it the release's artifact in one
   * transaction (artifact row + 'artifact-uploaded'). Any failure, including the client going
   * away, removes the staged bytes and leaves the release and its previous artifact as they were.
   */
  async upload(bearer: Bearer, accountId: string, releaseId: string, req: Request): Promise<Artifact> {
    // the release's artifact is read while its access is checked (one wait, not two); used only if
    // the id named the release found
    const id = releaseId.toLowerCase();
    const existing = isUuid(id) ? this.db.manager.findOne(Artifact, { where: { accountId, releaseId: id } }) : null;
    existing?.catch(() => undefined);
    const release = await findWritableRelease(this.db, bearer, accountId, releaseId);
    return this.receive(release, req, { existing: existing && release.id === id ? await existing : undefined });
  }

  /**
   * Streams the request body into storage as `release`'s artifact (the direct PUT and the signed
   * upload URL alike): a form body is refused, Content-Digest and declared digests are verified.
   */
  async receive(release: Release, req: Request, { declaredDigests = [], target, existing: known }: Receiving = {}): Promise<Artifact> {
    const { accountId } = release;
    refuseFormBody(req);
    const expected = [...parseContentDigest(req.headers['content-digest']), ...declaredDigests];
    const contentType = uploadContentType(req.headers['content-type']);
    const declared = req.headers['content-length'];
    // a 1.1 release's artifact has its own filesize; a 1.0 release's file is the release's
    const filesize = target ? target.filesize : release.filesize;
    if (filesize !== null && declared !== undefined && Number(declared) !== filesize) {
      // refuse before receiving a byte
      throw this.filesizeMismatch(filesize, Number(declared));
    }

    const existing = target ?? (known !== undefined ? known : await this.db.manager.findOne(Artifact, { where: { accountId, releaseId: release.id } }));
    const artifactId = existing?.id ?? randomUUID();
    const key = `${accountId}/${artifactId}/${randomBytes(16).toString('hex')}`;

    const cap = capped(req, filesize ?? Infinity);
    const watch = watchUpload(req, cap, this.config.uploadIdleTimeoutMs);
    let staged: StagedObject;
    try {
      staged = await this.storage.stage(key, cap as Readable, { contentType });
    } catch (error) {
      if (watch.stalled()) {
        const seconds = this.config.uploadIdleTimeoutMs / 1000;
        // the rest of the body is not read: the connection closes after the answer
        throw new ApiError(408, ErrorCode.REQUEST_TIMEOUT, `The upload sent nothing for ${seconds} s (UPLOAD_IDLE_TIMEOUT_SECONDS)`, undefined, { Connection: 'close' });
      }
      if (cap.exceeded) {
        // answered at once; the rest of the body is not read (the connection closes after the answer)
        req.unpipe(cap);
        throw new ApiError(
          422,
          ErrorCode.FILESIZE_MISMATCH,
          `The ${target ? "artifact's" : "release's"} filesize is ${filesize} bytes but the upload is bigger`,
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

    let published: { replaced: string | null; stored: Artifact };
    try {
      for (const digest of expected) {
        if (staged[digest.algorithm] !== digest.hex) {
          throw new ApiError(422, ErrorCode.CHECKSUM_MISMATCH, `The uploaded bytes do not match the ${digest.algorithm === 'sha256' ? 'sha-256' : 'sha-512'} Content-Digest`, {
            header: 'Content-Digest',
          });
        }
      }
      if (filesize !== null && filesize !== staged.size) throw this.filesizeMismatch(filesize, staged.size);
      await staged.commit();
      // an npm tarball's package.json, read once here so that the npm engine never opens files
      const manifest = target && hasManifest(target.filename, release) ? await this.readManifest(staged.key) : null;
      published = await this.db.transaction((m) => this.publish(m, release, artifactId, staged, contentType, manifest));
    } catch (error) {
      await staged.discard().catch((e) => this.logger.warn(`discarding upload ${key} failed: ${(e as Error)?.message}`));
      throw error;
    }
    this.uploaded.files++;
    this.uploaded.bytes += staged.size;
    if (published.replaced && published.replaced !== key) await this.storedFiles.deleteObject(published.replaced);
    // the artifact as its transaction left it
    return published.stored;
  }

  /** The manifest of a stored tarball (null: not an npm tarball, or unreadable). */
  private async readManifest(key: string): Promise<TarballManifest | null> {
    try {
      return await readTarballManifest(await this.storage.read(key));
    } catch (error) {
      this.logger.warn(`reading the manifest of ${key} failed: ${(error as Error)?.message}`);
      return null;
    }
  }

  /**
   * Inside the upload's transaction, under the release's row lock: the staged bytes become the
   * release's artifact (UPLOADED) and the release's status follows. Returns the storage key the
   * new bytes replace, and the artifact as stored (the upload's answer).
   */
  async publish(
    m: EntityManager,
    release: Release,
    artifactId: string,
    staged: Pick<StagedObject, 'key' | 'size' | 'sha256' | 'sha512'>,
    contentType: string,
    manifest: TarballManifest | null = null,
  ): Promise<{ replaced: string | null; stored: Artifact }> {
    const { accountId, id: releaseId } = release;
    // the release row lock serialises concurrent uploads, removals and status changes of this release
    const locked = await lockRelease(m, accountId, releaseId);
    if (locked.multiArtifact) return this.publishArtifact(m, locked, artifactId, staged, contentType, manifest);
    if (locked.filesize !== null && locked.filesize !== staged.size) throw this.filesizeMismatch(locked.filesize, staged.size);

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
    let stored: Artifact;
    if (current) {
      const changed = { ...fields, updated: new Date() };
      await m.update(Artifact, { id: current.id, accountId }, changed);
      stored = Object.assign(new Artifact(), current, changed);
    } else {
      stored = await insertReturning(m, Artifact, { id: artifactId, accountId, releaseId, ...fields });
    }
    // the lock is held and the artifact was just made UPLOADED: the status change reads neither
    // again, writes the filesize a release created without one now has, and records the upload's
    // event with its own
    await this.statuses.apply(accountId, releaseId, 'artifact-uploaded', m, {
      release: Object.assign(locked, { artifactSha256: stored.sha256 }),
      artifactUploaded: true,
      set: locked.filesize === null ? { filesize: staged.size } : undefined,
      events: [{ accountId, event: 'artifact.uploaded', resource: toResource(ArtifactSerializer, stored) }],
    });
    return { replaced: current?.storageKey ?? null, stored };
  }

  /**
   * A 1.1 release's artifact (under its release's row lock): the bytes become that artifact's,
   * which is then UPLOADED; the release's status is its own (a published release offers the
   * artifact from now on). Returns the storage key the new bytes replace, and the artifact as stored.
   */
  private async publishArtifact(
    m: EntityManager,
    release: Release,
    artifactId: string,
    staged: Pick<StagedObject, 'key' | 'size' | 'sha256' | 'sha512'>,
    contentType: string,
    manifest: TarballManifest | null,
  ): Promise<{ replaced: string | null; stored: Artifact }> {
    const { accountId } = release;
    const current = await m.findOne(Artifact, { where: { accountId, id: artifactId, releaseId: release.id } });
    if (!current || current.status === 'YANKED') throw ApiError.notFound('The artifact was not found');
    if (current.filesize !== null && current.filesize !== staged.size) throw this.filesizeMismatch(current.filesize, staged.size);
    await m.update(
      Artifact,
      { id: current.id, accountId },
      {
        filesize: staged.size,
        contentType,
        sha256: staged.sha256,
        sha512: staged.sha512,
        status: 'UPLOADED',
        storageKey: staged.key,
        uploadExpires: null,
        uploadKey: null,
        uploadDigest: null,
        manifest: manifest as never,
        updated: new Date(),
      },
    );
    const stored = await m.findOneOrFail(Artifact, { where: { accountId, id: current.id } });
    await this.events.record(m, accountId, 'artifact.uploaded', toResource(ArtifactSerializer, stored));
    return { replaced: current.storageKey, stored };
  }

  filesizeMismatch(expected: number, actual: number): ApiError {
    return new ApiError(422, ErrorCode.FILESIZE_MISMATCH, `The release's filesize is ${expected} bytes but the upload has ${actual}`, {
      pointer: '/data/attributes/filesize',
    });
  }
}
