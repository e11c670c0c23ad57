import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { STORAGE_DRIVER } from './storage-driver';
import type { StorageDriver } from './storage-driver';

/**
 * Stored bytes going away once their rows are gone (a release's artifact removed, the files of
 * deleted releases, products or accounts, objects an upload replaced), best effort; and the
 * storage driver's lifetime.
 */
@Injectable()
export class StoredFiles implements OnModuleDestroy {
  private readonly logger = new Logger('StoredFiles');

  constructor(@Inject(STORAGE_DRIVER) private readonly storage: StorageDriver) {}

  async onModuleDestroy(): Promise<void> {
    await this.storage.close?.();
  }

  /**
   * Removes the bytes of artifacts whose rows were deleted with their releases, product or
   * account (call after the commit). Never throws; missing objects are fine.
   */
  async removeStoredFiles(files: Array<{ storageKey: string | null }>): Promise<void> {
    for (const f of files) if (f.storageKey) await this.deleteObject(f.storageKey);
  }

  /** Best effort: the row is already gone, so a leftover object is only wasted space (logged). */
  async deleteObject(key: string): Promise<void> {
    await this.storage.delete(key).catch((e) => this.logger.warn(`deleting storage object ${key} failed: ${(e as Error)?.message}`));
  }
}
