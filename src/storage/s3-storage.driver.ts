import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Config } from '../config/config';
import { assertSafeKey, ByteRange, DigestMeter, PresignOptions, StagedObject, StorageDriver, StorageNotFoundError } from './storage-driver';

/** S3's minimum part size is 5 MiB; 8 MiB parts, at most 3 in flight, bound an upload's memory to ~40 MiB. */
export const S3_PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 3;

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Receives a stream into S3 in parts. Nothing becomes visible before `complete()`: a multipart
 * upload is completed only then, and a small object (under one part) is held in memory and PUT
 * only then. `abort()` undoes whatever was started.
 */
class S3PartSink extends Writable {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private uploadId: string | undefined;
  private readonly parts: Array<{ PartNumber: number; ETag: string }> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private nextPartNumber = 1;
  private failure: unknown;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly contentType: string,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < S3_PART_SIZE) return callback();
    this.flushPart().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const finish = async () => {
      // the last part may be short; an exact multiple of the part size leaves nothing to send
      if (this.uploadId && this.buffered > 0) await this.flushPart();
      await Promise.all(this.inFlight);
      if (this.failure) throw this.failure;
    };
    finish().then(() => callback(), callback);
  }

  private async flushPart(): Promise<void> {
    if (this.failure) throw this.failure;
    const body = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    if (!this.uploadId) {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: this.contentType }),
      );
      this.uploadId = created.UploadId!;
    }
    const partNumber = this.nextPartNumber++;
    const upload: Promise<void> = this.client
      .send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }))
      .then((r) => {
        this.parts.push({ PartNumber: partNumber, ETag: r.ETag! });
      })
      .catch((error) => {
        this.failure ??= error;
      })
      .finally(() => this.inFlight.delete(upload));
    this.inFlight.add(upload);
    // backpressure: the writer waits while too many parts are on their way
    while (this.inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async complete(): Promise<void> {
    if (this.uploadId) {
      const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }),
      );
      this.uploadId = undefined;
    } else {
      const body = Buffer.concat(this.chunks, this.buffered);
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body, ContentLength: body.length, ContentType: this.contentType }),
      );
    }
    this.chunks = [];
    this.buffered = 0;
  }

  async abort(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    await Promise.allSettled(this.inFlight);
    if (this.uploadId) {
      const uploadId = this.uploadId;
      this.uploadId = undefined;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId })).catch(() => undefined);
    }
  }
}

/**
 * Objects in one S3 (or S3-compatible) bucket. Uploads stream in parts; downloads are presigned
 * GET URLs. Abandoned multipart uploads of a crashed process are best cleaned by a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload).
 */
export class S3StorageDriver implements StorageDriver {
  readonly name = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;

  constructor(config: S3Config) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials:
        config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // we compute SHA-256/512 ourselves; default CRC trailers are not understood by every S3-compatible server
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async stage(key: string, source: Readable, options: { contentType: string }): Promise<StagedObject> {
    assertSafeKey(key);
    const meter = new DigestMeter();
    const sink = new S3PartSink(this.client, this.bucket, key, options.contentType);
    try {
      await pipeline(source, meter, sink);
    } catch (error) {
      await sink.abort();
      throw error;
    }
    let committed = false;
    return {
      key,
      ...meter.digest(),
      commit: async () => {
        await sink.complete();
        committed = true;
      },
      discard: async () => {
        await sink.abort();
        if (committed) await this.delete(key);
      },
    };
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertSafeKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return res.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    assertSafeKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: Number(res.ContentLength ?? 0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  presignGet(key: string, options: PresignOptions): Promise<string> {
    assertSafeKey(key);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: options.contentDisposition,
      ResponseContentType: options.contentType,
    });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
  }

  presignPut(key: string, options: { expiresInSeconds: number }): Promise<string> {
    assertSafeKey(key);
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: options.expiresInSeconds });
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}
