import { Module } from '@nestjs/common';
import { STORAGE_DRIVER } from './storage-driver';
import { storageDriverProvider } from './storage.provider';
import { StoredFiles } from './stored-files';

/**
 * The storage driver named by STORAGE_DRIVER (local files or S3), one per application, and the
 * removal of stored files: artifacts/ reads and writes through it; accounts, products and releases
 * remove the files of what they delete.
 */
@Module({
  providers: [storageDriverProvider, StoredFiles],
  exports: [STORAGE_DRIVER, StoredFiles],
})
export class StorageModule {}
