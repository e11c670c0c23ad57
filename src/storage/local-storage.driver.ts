import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DurableWrites } from './durable-writes';
import { assertSafeKey, ByteRange, DigestMeter, StagedObject, StorageDriver, StorageNotFoundError } from './storage-driver';

const TEMP_SUFFIX = '.part';
const MINUTE_MS = 60_000;
/** An upload this small is held in memory until its commit writes it (in one job); a bigger one streams to a temporary file. */
export const HELD_UPLOAD_BYTES = 64 * 1024;

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}

/**
 * Where a staged upload's bytes go: kept in memory while they are at most `limit` bytes; past
 * that, all of them go to the temporary file `tempPath`, which is flushed to disk before the
 * stream finishes.
 */
class StagedBytes extends Writable {
  private chunks: Buffer[] = [];
  private held = 0;
  /** The temporary file, once the bytes went past the limit. */
  private opening: Promise<fsp.FileHandle> | null = null;

  constructor(
    private readonly tempPath: string,
    private readonly limit: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /** The bytes, if they stayed in memory (null: they are in the temporary file). */
  get inMemory(): Buffer | null {
    return this.opening ? null : Buffer.concat(this.chunks, this.held);
  }

  _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const size = chunks.reduce((n, c) => n + c.chunk.length, 0);
    if (!this.opening && this.held + size <= this.limit) {
      for (const c of chunks) this.chunks.push(c.chunk);
      this.held += size;
      callback();
      return;
    }
    this.spill(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  private async spill(chunks: Buffer[]): Promise<void> {
    if (!this.opening) {
      this.opening = fsp.open(this.tempPath, 'wx', 0o600);
      chunks = [...this.chunks, ...chunks];
      this.chunks = [];
      this.held = 0;
    }
    await (await this.opening).writev(chunks);
  }

  _final(callback: (error?: Error | null) => void): void {
    if (!this.opening) return callback();
    this.opening.then((fh) => fh.sync()).then(() => callback(), callback);
  }

  _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // a file still opening is closed once open, so that no descriptor is left behind
    const opening = this.opening;
    if (!opening) return callback(error);
    opening.then((fh) => fh.close()).then(
      () => callback(error),
      () => callback(error),
    );
  }
}

/**
 * Files under `<DATA_DIR>/artifacts/<key>`. Uploads are written to `<root>/.tmp/<uuid>.part` (same
 * filesystem, so the commit is an atomic rename), fsynced, then renamed into place; an upload of
 * at most HELD_UPLOAD_BYTES is held in memory and written at its commit. The commit's file
 * operations run as one job in a thread of their own (DurableWrites).
 */
export class LocalStorageDriver implements StorageDriver {
  readonly name = 'local' as const;
  readonly root: string;
  readonly tempDir: string;
  /** How often temporary files are looked at. */
  readonly sweepEveryMs: number;
  /**
   * A temporary file untouched for longer than this is a leftover (of this process killed
   * mid-upload, or of another instance sharing DATA_DIR): a live upload writes at least once per
   * upload idle timeout, or is abandoned. With the sweep interval, no leftover outlives the idle
   * timeout plus a minute.
   */
  readonly staleAfterMs: number;
  private sweeper?: NodeJS.Timeout;
  private readonly durable = new DurableWrites();

  constructor(dataDir: string, uploadIdleTimeoutMs = 120_000) {
    this.root = path.join(dataDir, 'artifacts');
    this.tempDir = path.join(this.root, '.tmp');
    this.sweepEveryMs = Math.min(15_000, Math.max(1000, Math.floor(uploadIdleTimeoutMs / 4)));
    this.staleAfterMs = uploadIdleTimeoutMs + MINUTE_MS - this.sweepEveryMs;
  }

  /** Creates the directories, removes leftovers now, then sweeps for them while running. */
  async init(): Promise<void> {
    await fsp.mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), this.sweepEveryMs);
    this.sweeper.unref();
  }

  /** Removes temporary files untouched for longer than staleAfterMs; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    const names = await fsp.readdir(this.tempDir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const file = path.join(this.tempDir, name);
      const stat = await fsp.stat(file).catch(() => null);
      if (stat && now - stat.mtimeMs > this.staleAfterMs) {
        await fsp.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.durable.close();
  }

  pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async stage(key: string, source: Readable): Promise<StagedObject> {
    const finalPath = this.pathOf(key);
    const tempPath = path.join(this.tempDir, `${randomUUID()}${TEMP_SUFFIX}`);
    const meter = new DigestMeter();
    const bytes = new StagedBytes(tempPath, HELD_UPLOAD_BYTES);
    try {
      await pipeline(source, meter, bytes);
    } catch (error) {
      // a stream destroyed while its file was still opening creates the file afterwards: remove it
      // once the stream has closed, or a .part would be left behind
      if (!bytes.closed) await once(bytes, 'close').catch(() => undefined);
      await fsp.rm(tempPath, { force: true });
      throw error;
    }
    const digest = meter.digest();
    const held = bytes.inMemory;
    let committed = false;
    return {
      key,
      ...digest,
      commit: async () => {
        if (held) await this.durable.write(held, tempPath, finalPath);
        else await this.durable.rename(tempPath, finalPath);
        committed = true;
      },
      discard: async () => {
        await fsp.rm(tempPath, { force: true });
        if (committed) await this.delete(key);
      },
    };
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await fsp.rm(file, { force: true });
    // prune empty `<artifact>` and `<account>` directories; a concurrent upload recreates them
    let dir = path.dirname(file);
    while (dir.startsWith(this.root + path.sep) && dir !== this.tempDir) {
      try {
        await fsp.rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.pathOf(key), 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) throw new StorageNotFoundError(key);
      throw error;
    }
    // the handle is closed by the stream (autoClose); an unlinked file stays readable until then
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 256 * 1024 });
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await fsp.stat(this.pathOf(key));
      return { size: s.size };
    } catch (error) {
      if (isCode(error, 'ENOENT')) return null;
      throw error;
    }
  }

  async ping(): Promise<void> {
    await fsp.access(this.root, fsConstants.R_OK | fsConstants.W_OK);
    await fsp.access(this.tempDir, fsConstants.W_OK);
  }
}
