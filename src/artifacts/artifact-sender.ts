import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { ArtifactErrorCode } from './artifact-errors';
import type { Artifact } from '../releases/artifact.entity';
import { contentDisposition, ifRangeAllows, noneMatch, parseRange } from './http-range';
import { StorageNotFoundError } from '../storage/storage-driver';
import type { ByteRange, StorageDriver } from '../storage/storage-driver';

const logger = new Logger('ArtifactSender');

/** The strong validator of an artifact's bytes: its SHA-256. */
export function artifactEtag(artifact: Pick<Artifact, 'sha256'>): string {
  return `"${artifact.sha256}"`;
}

function isClientGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Streams an uploaded artifact as a file download: `HEAD`, a single `Range` (206, 416 with
 * `Content-Range: bytes *\/size`), `ETag` = `"<sha256>"` with `If-None-Match` (304) and `If-Range`,
 * `Content-Disposition: attachment` with the file's basename. Used by the signed download route and
 * by the Cryptlex `/v3/:releaseId` route; the caller has already decided the caller may have it.
 * Errors before the first byte are thrown as ApiError (404 when the bytes are gone); after it,
 * the connection is cut.
 */
export async function sendArtifact(req: Request, res: Response, artifact: Artifact, storage: StorageDriver): Promise<void> {
  if (artifact.status !== 'UPLOADED' || !artifact.storageKey) throw ApiError.notFound('The artifact was not found');
  const size = artifact.filesize ?? 0;
  const etag = artifactEtag(artifact);
  res.setHeader('ETag', etag);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', 'private, no-cache');
  if (noneMatch(req.headers['if-none-match'], etag)) {
    res.status(304).end();
    return;
  }

  let range: ByteRange | undefined;
  const wanted = ifRangeAllows(req.headers['if-range'] as string | undefined, etag) ? parseRange(req.headers.range, size) : { kind: 'full' as const };
  if (wanted.kind === 'unsatisfiable') {
    throw new ApiError(416, ArtifactErrorCode.RANGE_NOT_SATISFIABLE, `The file has ${size} bytes`, { header: 'Range' }, {
      'Content-Range': `bytes */${size}`,
    });
  }
  if (wanted.kind === 'partial') range = wanted.range;

  const head = req.method === 'HEAD';
  let body: NodeJS.ReadableStream | undefined;
  if (!head && size > 0) {
    try {
      body = await storage.read(artifact.storageKey, range);
    } catch (error) {
      if (error instanceof StorageNotFoundError) {
        logger.error(`artifact ${artifact.id} has no bytes in storage`);
        throw ApiError.notFound('The artifact was not found');
      }
      logger.error(`reading artifact ${artifact.id} failed: ${(error as Error)?.message}`);
      throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, 'The storage is unavailable, try again later', undefined, { 'Retry-After': '5' });
    }
  }

  res.status(range ? 206 : 200);
  res.setHeader('Content-Type', artifact.contentType || 'application/octet-stream');
  res.setHeader('Content-Disposition', contentDisposition(artifact.filename));
  res.setHeader('Last-Modified', artifact.updated.toUTCString());
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', String(range ? range.end - range.start + 1 : size));
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  if (!body) {
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch (error) {
    if (!isClientGone(error)) logger.warn(`streaming artifact ${artifact.id} failed: ${(error as Error)?.message}`);
    res.destroy();
  }
}
