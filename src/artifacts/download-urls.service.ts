import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { asProbe, isPrivileged } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { CountersService } from '../counters/counters.service';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { accountPath } from '../jsonapi/links';
import { Release } from '../releases/release.entity';
import { Artifact } from '../releases/artifact.entity';
import { visibleArtifactIds } from '../releases/artifact-visibility';
import { downloadGeneration, DownloadSigner } from './download-signer';
import { contentDisposition, continuesDownload } from './http-range';
import { STORAGE_DRIVER } from '../storage/storage-driver';
import type { StorageDriver } from '../storage/storage-driver';
import { findVisibleRelease } from './visible-release';

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
export type DownloadRelease = Pick<Release, 'id' | 'status' | 'yanked'> & { multiArtifact?: boolean };

/** Path segments URL-encoded one by one, so that a prefix (`prod-1/linux.tar.gz`) keeps its slash. */
export function encodeFilenamePath(filename: string): string {
  return filename.split('/').map(encodeURIComponent).join('/');
}

/**
 * Download URLs of artifact bytes: signed URLs of this server (local storage, and the route S3
 * downloads go through), presigned S3 URLs, each counted as a download for customers.
 */
@Injectable()
export class DownloadUrlsService {
  private readonly logger = new Logger('DownloadUrlsService');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly signer: DownloadSigner,
    private readonly counters: CountersService,
  ) {}

  /** The release if the bearer may see it (ReleaseVisibilityPolicy), else 404. */
  findVisibleRelease(bearer: Bearer, accountId: string, releaseId: string): Promise<Release> {
    return findVisibleRelease(this.db, bearer, accountId, releaseId);
  }

  /** The release's artifact when its upload is complete, else null. */
  findUploaded(accountId: string, releaseId: string, manager: EntityManager = this.db.manager): Promise<Artifact | null> {
    // a 1.1 release's first uploaded artifact (what 1.0 shows of it)
    return manager.findOne(Artifact, { where: { accountId, releaseId, status: 'UPLOADED' }, order: { created: 'ASC', id: 'ASC' } });
  }

  /** Whether the account has an artifact of this id (a URL signed for another account names none of its). */
  async existsIn(accountId: string, artifactId: string): Promise<boolean> {
    return isUuid(artifactId) && (await this.db.manager.exists(Artifact, { where: { accountId, id: artifactId.toLowerCase() } }));
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
    const artifact = known && usableArtifact(known, release) ? known : await this.findUploaded(accountId, release.id);
    if (!artifact) throw ApiError.notFound('The release has no uploaded artifact');
    // a 1.1 release's file found here (what 1.0 shows of it) may ask for entitlements of its own:
    // a customer lacking them gets no URL (it would not download) and no download counted
    if (artifact !== known && release.multiArtifact && !(await visibleArtifactIds(this.db.manager, bearer, accountId, [artifact])).has(artifact.id)) {
      throw ApiError.notFound('The artifact was not found');
    }
    const privileged = isPrivileged(bearer);
    const ttl = privileged && ttlSeconds !== undefined ? Math.min(Math.max(ttlSeconds, DOWNLOAD_TTL_MIN), DOWNLOAD_TTL_MAX) : DOWNLOAD_TTL_DEFAULT;
    return { artifact, url: this.issue(bearer, accountId, release, artifact, ttl) };
  }

  /**
   * The signed URL of the release's uploaded artifact, already in hand (usableArtifact), counted as
   * a download for customers. `memos`: the product load it was found in (see downloadUrl).
   */
  issue(bearer: Bearer, accountId: string, release: DownloadRelease, artifact: Artifact, ttl: number, memos?: UrlMemos): string {
    const url = this.downloadUrl(artifact, release, ttl, memos, boundLicense(bearer));
    // a HEAD, or a download's continuation (downloadCaller), is no new download
    if (!isPrivileged(bearer) && !bearer.probe) {
      this.counters.countDownload(accountId, release.id, bearer);
      if (release.multiArtifact) this.counters.countArtifactDownload(accountId, artifact.id);
    }
    return url;
  }

  /**
   * A signed URL to an artifact named by id and filename, for a caller who may see its release
   * (404 otherwise, whether it exists or not); counted as issueDownload counts.
   */
  async issueDownloadOf(bearer: Bearer, accountId: string, artifactId: string, filename: string): Promise<string> {
    let artifact = isUuid(artifactId) ? await this.db.manager.findOne(Artifact, { where: { accountId, id: artifactId.toLowerCase(), status: 'UPLOADED' } }) : null;
    // a file beside it in the same release (electron-updater asks for `<installer URL>.blockmap`)
    if (artifact && artifact.filename !== filename && filename.startsWith(`${artifact.filename}.`)) {
      artifact = await this.db.manager.findOne(Artifact, { where: { accountId, releaseId: artifact.releaseId, filename, status: 'UPLOADED' } });
    }
    if (!artifact || artifact.filename !== filename) throw ApiError.notFound('The artifact was not found');
    const release = await this.findVisibleRelease(bearer, accountId, artifact.releaseId).catch((error: unknown) => {
      // a release the caller may not see: the artifact is not found either (other errors stay as they are)
      throw error instanceof ApiError && error.status === 404 ? ApiError.notFound('The artifact was not found') : error;
    });
    // a 1.1 release's artifact may ask for entitlements of its own
    if (release.multiArtifact && !(await visibleArtifactIds(this.db.manager, bearer, accountId, [artifact])).has(artifact.id)) throw ApiError.notFound('The artifact was not found');
    return (await this.issueDownload(bearer, accountId, release, undefined, artifact)).url;
  }

  /**
   * An absolute signed URL to the artifact's bytes, valid for `ttlSeconds` and only while the
   * release stays as it is now (downloadGeneration). Whatever the storage: with S3 the signed
   * route checks the release, then redirects to a presigned URL of PRESIGN_TTL_SECONDS.
   * `memos`: the product load the artifact was found in, which keeps each URL for the second it
   * expires at (update checks hand out the same link many times a second: signed once).
   * `licenseId`: the license the URL is issued to (boundLicense), which each download checks.
   */
  downloadUrl(artifact: Artifact, release: DownloadRelease, ttlSeconds: number, memos?: UrlMemos, licenseId?: string): string {
    const storageKey = artifact.storageKey;
    if (!storageKey) throw ApiError.notFound('The release has no uploaded artifact');
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    const sign = () => {
      const generation = downloadGeneration(storageKey, release);
      const signature = this.signer.sign({ accountId: artifact.accountId, artifactId: artifact.id, filename: artifact.filename, expires, generation, licenseId });
      const bound = licenseId === undefined ? '' : `&l=${licenseId}`;
      return `${this.config.publicUrl}${accountPath(artifact.accountId)}/artifacts/${artifact.id}/${encodeFilenamePath(artifact.filename)}?expires=${expires}&g=${generation}${bound}&signature=${signature}`;
    };
    if (!memos) return sign();
    // what the URL is bound to (downloadGeneration's inputs, the license) and its second of expiry
    const yanked = release.yanked ? new Date(release.yanked).getTime() : 0;
    return memos.table('downloadUrl').get(`${artifact.id}|${storageKey}|${release.status}|${yanked}|${expires}|${licenseId ?? ''}`, sign);
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
}

/**
 * The caller of a request to a file URL as downloads count it: a request whose Range does not
 * start at byte 0 continues a download already counted (a resumed download, a differential
 * update's blocks), so its URL is issued uncounted (docs/updaters.md, "Downloads counted").
 */
export function downloadCaller(bearer: Bearer, req: { headers: { range?: string } }): Bearer {
  return continuesDownload(req.headers.range) ? asProbe(bearer) : bearer;
}

/**
 * The license a download URL issued to this caller is bound to: a license caller's own, so that
 * the URL stops working when the license may no longer download the file (see LicensedArtifacts).
 */
export function boundLicense(bearer: Bearer): string | undefined {
  return bearer.kind === 'license' ? bearer.license.id : undefined;
}

/** Whether `artifact` is the release's uploaded file (what issue signs). */
export function usableArtifact(artifact: Artifact, release: DownloadRelease): boolean {
  return artifact.status === 'UPLOADED' && artifact.releaseId === release.id;
}

/** Where a product load keeps signed URLs (the catalogue's Memos, MEMO_KINDS.downloadUrl). */
export interface UrlMemos {
  table(kind: 'downloadUrl'): { get(key: string, compute: () => string): string };
}
