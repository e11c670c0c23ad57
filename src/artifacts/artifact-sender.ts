import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { ArtifactErrorCode } from './artifact-errors';
import type { Artifact } from '../releases/artifact.entity';
import { byterangesFrame } from './byteranges';
import type { ByterangesFrame } from './byteranges';
import { contentDisposition, ifRangeAllows, namesSeveralRanges, noneMatch, parseRange } from './http-range';
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
 * Whether a request for an artifact kept in S3 must be answered with its bytes rather than a
 * redirect to a presigned URL: S3 answers one range per request (a Range of several gets the whole
 * object, 200, and electron-updater's differential download fails on it), so several ranges are
 * read from S3 one by one and framed as multipart/byteranges here.
 */
export function servesSeveralRanges(req: Request, artifact: Pick<Artifact, 'sha256'>): boolean {
  return namesSeveralRanges(req.headers.range) && ifRangeAllows(req.headers['if-range'] as string | undefined, artifactEtag(artifact));
}

/**
 * Streams an uploaded artifact as a file download: `HEAD`, `Range` (one range: 206 with
 * `Content-Range`; several: 206 `multipart/byteranges`, see parseRange for what is merged or
 * ignored; none satisfiable: 416 with `Content-Range: bytes *\/size`), `ETag` = `"<sha256>"` with
 * `If-None-Match` (304) and `If-Range`, `Content-Disposition: attachment` with the file's basename.
 * Used by the signed download route and by the Cryptlex `/v3/:releaseId` route; the caller has
 * already decided the caller may have it. The bytes stream from storage, one range at a time and
 * never whole in memory. Errors before the first byte are thrown as ApiError (404 when the bytes
 * are gone); after it, the connection is cut.
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

  const wanted = ifRangeAllows(req.headers['if-range'] as string | undefined, etag) ? parseRange(req.headers.range, size) : { kind: 'full' as const };
  if (wanted.kind === 'unsatisfiable') {
    throw new ApiError(416, ArtifactErrorCode.RANGE_NOT_SATISFIABLE, `The file has ${size} bytes`, { header: 'Range' }, {
      'Content-Range': `bytes */${size}`,
    });
  }
  const ranges = wanted.kind === 'partial' ? wanted.ranges : [];
  const range: ByteRange | undefined = ranges.length === 1 ? ranges[0] : undefined;
  const frame = ranges.length > 1 ? byterangesFrame(ranges, size, artifact.contentType || 'application/octet-stream') : undefined;

  const head = req.method === 'HEAD';
  // the first bytes are opened before the status is sent, so that missing bytes are still a 404
  const body = !head && size > 0 ? await open(storage, artifact, frame ? frame.parts[0].range : range) : undefined;

  res.status(range || frame ? 206 : 200);
  res.setHeader('Content-Type', frame ? frame.contentType : artifact.contentType || 'application/octet-stream');
  res.setHeader('Content-Disposition', contentDisposition(artifact.filename));
  res.setHeader('Last-Modified', artifact.updated.toUTCString());
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', String(frame ? frame.length : range ? range.end - range.start + 1 : size));
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  if (!body) {
    res.end();
    return;
  }
  try {
    await pipeline(frame ? partsOf(frame, body, storage, artifact.storageKey) : body, res);
  } catch (error) {
    if (!isClientGone(error)) logger.warn(`streaming artifact ${artifact.id} failed: ${(error as Error)?.message}`);
    res.destroy();
  } finally {
    (body as Readable).destroy(); // a no-op once streamed; closes the first part if the answer never got to it
  }
}

/** Opens the artifact's bytes (or a range of them): 404 when storage has none, 503 when storage fails. */
async function open(storage: StorageDriver, artifact: Artifact, range: ByteRange | undefined): Promise<Readable> {
  try {
    return await storage.read(artifact.storageKey!, range);
  } catch (error) {
    if (error instanceof StorageNotFoundError) {
      logger.error(`artifact ${artifact.id} has no bytes in storage`);
      throw ApiError.notFound('The artifact was not found');
    }
    logger.error(`reading artifact ${artifact.id} failed: ${(error as Error)?.message}`);
    throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, 'The storage is unavailable, try again later', undefined, { 'Retry-After': '5' });
  }
}

/**
 * The multipart body: each part's header lines, then its range read from storage (the first range
 * already open), one range open at a time.
 */
async function* partsOf(frame: ByterangesFrame, first: Readable, storage: StorageDriver, key: string): AsyncGenerator<Buffer> {
  for (const [i, part] of frame.parts.entries()) {
    yield Buffer.from(part.head, 'latin1');
    const bytes = i === 0 ? first : await storage.read(key, part.range);
    // leaving the loop early (the client went away) destroys the stream
    for await (const chunk of bytes) yield chunk as Buffer;
  }
  yield Buffer.from(frame.tail, 'latin1');
}
