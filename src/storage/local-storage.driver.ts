import { randomUUID } from 'node:crypto';
import { createWriteStream, constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertSafeKey, ByteRange, DigestMeter, StagedObject, StorageDriver, StorageNotFoundError } from './storage-driver';

const TEMP_SUFFIX = '.part';
const MINUTE_MS = 60_000;

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}

/** fsync a directory so that a rename into it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Files under `<DATA_DIR>/artifacts/<key>`. Uploads are written to `<root>/.tmp/<uuid>.part` (same
 * filesystem, so the commit is an atomic rename), fsynced, then renamed into place.
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
  }

  pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async stage(key: string, source: Readable): Promise<StagedObject> {
    const finalPath = this.pathOf(key);
    const tempPath = path.join(this.tempDir, `${randomUUID()}${TEMP_SUFFIX}`);
    const meter = new DigestMeter();
    // flush: fsync before the stream closes, so that the committed file is on disk
    const file = createWriteStream(tempPath, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 1024 * 1024 });
    try {
      await pipeline(source, meter, file);
    } catch (error) {
      // a stream destroyed while its file was still opening creates the file afterwards: remove it
      // once the stream has closed, or a .part would be left behind
      if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
      await fsp.rm(tempPath, { force: true });
      throw error;
    }
    const digest = meter.digest();
    let committed = false;
    return {
      key,
      ...digest,
      commit: async () => {
        await this.renameInto(tempPath, finalPath);
        committed = true;
      },
      discard: async () => {
        await fsp.rm(tempPath, { force: true });
        if (committed) await this.delete(key);
      },
    };
  }

  private async renameInto(from: string, to: string): Promise<void> {
    const dir = path.dirname(to);
    for (let attempt = 0; ; attempt++) {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        await fsp.rename(from, to);
        break;
      } catch (error) {
        // a concurrent delete may have pruned the (then empty) directory between mkdir and rename
        if (!isCode(error, 'ENOENT') || attempt >= 2) throw error;
      }
    }
    await syncDir(dir);
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
