import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { randomBytes, randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { DataSource, IsNull, Not } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { accountPath } from '../jsonapi/links';
import { Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { ArtifactErrorCode } from './artifact-errors';
import { Artifact } from '../releases/artifact.entity';
import { StoredFiles } from '../storage/stored-files';
import { ArtifactUploadsService } from './artifact-uploads.service';
import { encodeFilenamePath } from './download-urls.service';
import { parseContentDigest } from './content-digest';
import type { ExpectedDigest } from './content-digest';
import { DownloadSigner } from './download-signer';
import { DigestMeter, STORAGE_DRIVER } from '../storage/storage-driver';
import type { StorageDriver } from '../storage/storage-driver';
import { hasManifest, readTarballManifest } from './package-manifest';
import { findVisibleRelease } from './visible-release';

/** `sha256:<hex>,sha512:<hex>`: the declared digests as the artifact row keeps them. */
function encodeDigests(digests: ExpectedDigest[]): string | null {
  return digests.length ? digests.map((d) => `${d.algorithm}:${d.hex}`).join(',') : null;
}

function decodeDigests(value: string | null): ExpectedDigest[] {
  if (!value) return [];
  return value.split(',').map((pair) => {
    const [algorithm, hex] = pair.split(':');
    return { algorithm: algorithm as ExpectedDigest['algorithm'], hex };
  });
}

/** What an upload URL names: the artifact row, the URL's expiry (seconds) and the filename in its path. */
export interface UploadTarget {
  accountId: string;
  artifactId: string;
  filename: string;
  expires: number;
}

/**
 * The Keygen 1.0 upload flow: an empty-body `PUT /releases/:id/artifact` answers 307 with an upload
 * URL, and the bytes go there.
 * - Local storage: the URL is this server's signed `PUT /v1/accounts/:account/artifacts/:id/:filename`,
 *   which streams and verifies the body exactly like the direct PUT (ArtifactUploadsService.receive).
 * - S3: a presigned PUT straight to the bucket, at a key of its own; a sweep notices the object,
 *   reads it back to verify its size and the declared digest, then publishes it.
 * Until the bytes are verified the release stays as it was. An URL that passes unused leaves its
 * artifact FAILED (an artifact that was already uploaded keeps its file).
 */
@Injectable()
export class UploadUrlsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('UploadUrls');
  private timer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly uploads: ArtifactUploadsService,
    private readonly storedFiles: StoredFiles,
    private readonly signer: DownloadSigner,
  ) {}

  /** How often outstanding uploads are looked at: a quarter of their lifetime, between 1 and 5 seconds. */
  get sweepEveryMs(): number {
    return Math.min(5000, Math.max(1000, Math.floor((this.config.uploadUrlTtlSeconds * 1000) / 4)));
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.sweepEveryMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * `PUT /releases/:id/artifact` with an empty body: records the outstanding upload on the
   * release's artifact row (a new one is WAITING) and returns it with the URL to PUT the bytes to.
   * A Content-Digest sent now is checked against the bytes when they arrive.
   */
  async issue(bearer: Bearer, accountId: string, releaseId: string, req: Request): Promise<{ artifact: Artifact; url: string }> {
    const release = await findVisibleRelease(this.db, bearer, accountId, releaseId);
    if (!ReleaseVisibilityPolicy.canWrite(bearer, release)) throw ApiError.forbidden('Only an admin or the product token may change this artifact');
    const declared = encodeDigests(parseContentDigest(req.headers['content-digest']));
    const type = req.headers['content-type']?.trim();
    const contentType = type && /^[\w.+-]+\/[\w.+-]+$/.test(type) && type.length <= 255 ? type : 'application/octet-stream';
    const ttl = this.config.uploadUrlTtlSeconds;
    const expires = Math.floor(Date.now() / 1000) + ttl;

    const { artifact, supersededKey } = await this.db.transaction(async (m) => {
      await m.query('SELECT 1 FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE', [release.id, accountId]);
      const existing = await m.findOne(Artifact, { where: { accountId, releaseId: release.id } });
      const artifactId = existing?.id ?? randomUUID();
      const uploadKey = this.storage.presignPut ? `${accountId}/${artifactId}/${randomBytes(16).toString('hex')}` : null;
      const pending = { uploadExpires: new Date(expires * 1000), uploadKey, uploadDigest: declared };
      if (existing) {
        // an uploaded file stays served until the new bytes are verified
        const status = existing.status === 'UPLOADED' ? 'UPLOADED' : 'WAITING';
        await m.update(Artifact, { id: existing.id, accountId }, { ...pending, status, updated: new Date() });
      } else {
        await m.insert(Artifact, {
          id: artifactId,
          accountId,
          releaseId: release.id,
          filename: release.filename,
          filetype: release.filetype,
          filesize: release.filesize,
          contentType,
          sha256: null,
          sha512: null,
          status: 'WAITING',
          storageKey: null,
          ...pending,
        });
      }
      return { artifact: await m.findOneOrFail(Artifact, { where: { id: artifactId, accountId } }), supersededKey: existing?.uploadKey ?? null };
    });
    if (supersededKey) await this.storedFiles.deleteObject(supersededKey);
    const url = await this.uploadUrl(artifact, expires, ttl);
    return { artifact, url };
  }

  /**
   * `POST /artifacts` (1.1): the new artifact's outstanding upload, recorded on its row (inside the
   * caller's transaction) with the URL to PUT the bytes to.
   */
  async pending(accountId: string, artifactId: string, req: Request): Promise<{ uploadExpires: Date; uploadKey: string | null; uploadDigest: string | null; expires: number; ttl: number }> {
    const declared = encodeDigests(parseContentDigest(req.headers['content-digest']));
    const ttl = this.config.uploadUrlTtlSeconds;
    const expires = Math.floor(Date.now() / 1000) + ttl;
    const uploadKey = this.storage.presignPut ? `${accountId}/${artifactId}/${randomBytes(16).toString('hex')}` : null;
    return { uploadExpires: new Date(expires * 1000), uploadKey, uploadDigest: declared, expires, ttl };
  }

  /** The upload URL of an artifact whose row holds a pending upload (pending). */
  urlFor(artifact: Artifact): Promise<string> {
    const expires = Math.floor(artifact.uploadExpires!.getTime() / 1000);
    return this.uploadUrl(artifact, expires, Math.max(1, expires - Math.floor(Date.now() / 1000)));
  }

  private async uploadUrl(artifact: Artifact, expires: number, ttl: number): Promise<string> {
    if (artifact.uploadKey && this.storage.presignPut) {
      try {
        return await this.storage.presignPut(artifact.uploadKey, { expiresInSeconds: ttl });
      } catch (error) {
        this.logger.error(`presigning an upload for artifact ${artifact.id} failed: ${(error as Error)?.message}`);
        throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, 'The storage is unavailable, try again later', undefined, { 'Retry-After': '5' });
      }
    }
    const target = { accountId: artifact.accountId, artifactId: artifact.id, filename: artifact.filename, expires };
    const signature = this.signer.signUpload(target);
    return `${this.config.publicUrl}${accountPath(artifact.accountId)}/artifacts/${artifact.id}/${encodeFilenamePath(artifact.filename)}?expires=${expires}&signature=${signature}`;
  }

  /**
   * The signed upload URL of local storage: the body becomes the artifact as with the direct PUT.
   * An URL that is not validly signed is 403; one that expired, was superseded by a newer URL or
   * already used is 403 / 404.
   */
  async receive(target: UploadTarget, signature: string | undefined, req: Request): Promise<Artifact> {
    // the path's account first: a URL signed for another account names no artifact of this one
    const artifact = isUuid(target.artifactId)
      ? await this.db.manager.findOne(Artifact, { where: { accountId: target.accountId, id: target.artifactId.toLowerCase() } })
      : null;
    if (!artifact) throw ApiError.notFound('The artifact was not found');
    const check = signature ? this.signer.verifyUpload(target, signature) : 'invalid';
    if (check === 'invalid') throw new ApiError(403, ArtifactErrorCode.SIGNATURE_INVALID, 'The upload URL is not validly signed');
    if (check === 'expired') throw new ApiError(403, ArtifactErrorCode.SIGNATURE_EXPIRED, 'The upload URL has expired');
    if (artifact.uploadExpires?.getTime() !== target.expires * 1000) {
      throw ApiError.notFound('The upload URL was already used or replaced by a newer one');
    }
    const release = await this.db.manager.findOne(Release, { where: { accountId: target.accountId, id: artifact.releaseId } });
    if (!release) throw ApiError.notFound('The release was not found');
    return this.uploads.receive(release, req, { declaredDigests: decodeDigests(artifact.uploadDigest), target: release.multiArtifact ? artifact : undefined });
  }

  /** One pass over outstanding uploads: presigned ones that arrived are verified, expired ones given up. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      if (this.storage.presignPut) await this.verifyPresigned();
      await this.expire();
    } catch (error) {
      this.logger.warn(`sweeping upload URLs failed: ${(error as Error)?.message}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** Outstanding uploads past their URL's expiry: a WAITING artifact becomes FAILED, an uploaded one keeps its file. */
  private async expire(): Promise<void> {
    // a few seconds of grace: a request that started with a valid URL may still be storing
    const result: unknown = await this.db.query(
      `WITH expired AS (
         SELECT id, upload_key FROM artifacts
          WHERE upload_expires IS NOT NULL AND upload_expires < now() - interval '5 seconds'
          FOR UPDATE SKIP LOCKED)
       UPDATE artifacts a SET status = CASE WHEN a.status = 'UPLOADED' THEN 'UPLOADED' ELSE 'FAILED' END,
              upload_expires = NULL, upload_key = NULL, upload_digest = NULL, updated = now()
         FROM expired e WHERE a.id = e.id
       RETURNING e.upload_key`,
    );
    // the driver answers an UPDATE ... RETURNING as [rows, count]
    const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Array<{ upload_key: string | null }>;
    for (const row of rows) if (row.upload_key) await this.storedFiles.deleteObject(row.upload_key);
  }

  /** Presigned uploads whose object is in the bucket: verified (size, declared digest) and published, or refused. */
  private async verifyPresigned(): Promise<void> {
    const pending = await this.db.manager.find(Artifact, { where: { uploadKey: Not(IsNull()), uploadExpires: Not(IsNull()) }, take: 100 });
    for (const artifact of pending) {
      try {
        await this.verifyOne(artifact);
      } catch (error) {
        this.logger.warn(`verifying the upload of artifact ${artifact.id} failed: ${(error as Error)?.message}`);
      }
    }
  }

  private async verifyOne(artifact: Artifact): Promise<void> {
    {
      const key = artifact.uploadKey!;
      const stat = await this.storage.stat(key);
      if (!stat) return;
      const meter = new DigestMeter();
      await pipeline(await this.storage.read(key), meter, new Writable({ write: (_chunk, _enc, done) => done() }));
      const measured = { key, ...meter.digest() };
      const release = await this.db.manager.findOne(Release, { where: { accountId: artifact.accountId, id: artifact.releaseId } });
      const filesize = release?.multiArtifact ? artifact.filesize : release?.filesize;
      const problem = !release
        ? 'its release is gone'
        : filesize != null && filesize !== measured.size
          ? `it has ${measured.size} bytes, the expected filesize is ${filesize}`
          : decodeDigests(artifact.uploadDigest).find((d) => measured[d.algorithm] !== d.hex)
            ? 'its digest is not the declared one'
            : null;
      if (problem || !release) {
        this.logger.warn(`the upload of artifact ${artifact.id} was refused: ${problem}`);
        await this.db.query(
          `UPDATE artifacts SET status = CASE WHEN status = 'UPLOADED' THEN 'UPLOADED' ELSE 'FAILED' END,
                  upload_expires = NULL, upload_key = NULL, upload_digest = NULL, updated = now()
            WHERE id = $1 AND account_id = $2 AND upload_key = $3`,
          [artifact.id, artifact.accountId, key],
        );
        await this.storedFiles.deleteObject(key);
        return;
      }
      const manifest = release.multiArtifact && hasManifest(artifact.filename, release) ? await readTarballManifest(await this.storage.read(key)).catch(() => null) : null;
      const previous = await this.db.transaction(async (m) => {
        // still this upload (not replaced by a newer URL, nor published by another instance)?
        await m.query('SELECT 1 FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE', [release.id, release.accountId]);
        const current = await m.findOne(Artifact, { where: { id: artifact.id, accountId: artifact.accountId } });
        if (current?.uploadKey !== key) return undefined;
        return (await this.uploads.publish(m, release, artifact.id, measured, artifact.contentType ?? 'application/octet-stream', manifest)).replaced;
      });
      if (previous) await this.storedFiles.deleteObject(previous);
    }
  }
}
