import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { READINESS_CHECKS } from '../health/health.controller';
import { ReleaseStatusModule } from '../releases/release-status.module';
import { ArtifactStorageService } from './artifact-storage.service';
import { ArtifactUploadsService } from './artifact-uploads.service';
import { ReleaseArtifactController } from './artifacts.controller';
import { DownloadUrlsService } from './download-urls.service';
import { DownloadSigner, loadSigningSecret } from './download-signer';
import { SignedDownloadController } from './signed-download.controller';
import { SignedUploadController } from './signed-upload.controller';
import { UploadUrlsService } from './upload-urls.service';
import { storageDriverProvider, storageReadinessCheck } from './storage/storage.provider';
import { STORAGE_DRIVER } from './storage/storage-driver';
import type { StorageDriver } from './storage/storage-driver';

/** Artifact storage, uploads and downloads; releases, products, upgrades and v3 import it. */
@Module({
  imports: [ReleaseStatusModule],
  controllers: [ReleaseArtifactController, SignedDownloadController, SignedUploadController],
  providers: [
    storageDriverProvider,
    {
      provide: DownloadSigner,
      useFactory: async (config: AppConfig) => new DownloadSigner(await loadSigningSecret(config)),
      inject: [APP_CONFIG],
    },
    {
      provide: READINESS_CHECKS,
      useFactory: (storage: StorageDriver) => [storageReadinessCheck(storage)],
      inject: [STORAGE_DRIVER],
    },
    ArtifactUploadsService,
    DownloadUrlsService,
    ArtifactStorageService,
    UploadUrlsService,
  ],
  exports: [DownloadUrlsService, ArtifactStorageService, STORAGE_DRIVER, DownloadSigner, READINESS_CHECKS],
})
export class ArtifactsModule {}
