import type { Provider } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { LocalStorageDriver } from './local-storage.driver';
import { STORAGE_DRIVER, StorageDriver } from './storage-driver';

/** Builds the driver named by STORAGE_DRIVER. */
export async function createStorageDriver(config: AppConfig): Promise<StorageDriver> {
  if (config.storageDriver === 's3') {
    if (!config.s3) throw new Error('S3 storage selected without S3 configuration');
    // the AWS SDK is loaded only by servers that store in S3 (about 20 MiB of RSS otherwise)
    const { S3StorageDriver } = await import('./s3-storage.driver');
    return new S3StorageDriver(config.s3);
  }
  const local = new LocalStorageDriver(config.dataDir, config.uploadIdleTimeoutMs);
  await local.init();
  return local;
}

export const storageDriverProvider: Provider = {
  provide: STORAGE_DRIVER,
  useFactory: (config: AppConfig) => createStorageDriver(config),
  inject: [APP_CONFIG],
};

/** `GET /health/ready` asks the storage too (a ReadinessCheck of health/). */
export function storageReadinessCheck(storage: StorageDriver): { name: string; check(): Promise<void> } {
  return { name: 'storage', check: () => storage.ping() };
}
