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
import { ArtifactsV11Controller } from './artifacts-v11.controller';
import { ArtifactsV11Service } from './artifacts-v11.service';
import { ReleasesModule } from '../releases/releases.module';
import { storageReadinessCheck } from '../storage/storage.provider';
import { StorageModule } from '../storage/storage.module';
import { STORAGE_DRIVER } from '../storage/storage-driver';
import type { StorageDriver } from '../storage/storage-driver';

/** Artifact uploads and downloads (the storage itself is storage/'s); upgrades, feeds, v3 and the fast path import it. */
@Module({
  imports: [ReleaseStatusModule, StorageModule, ReleasesModule],
  // the 1.1 routes before the signed URLs' (`/artifacts/:id/constraints` is not a file named constraints)
  controllers: [ReleaseArtifactController, ArtifactsV11Controller, SignedDownloadController, SignedUploadController],
  providers: [
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
    ArtifactsV11Service,
  ],
  exports: [DownloadUrlsService, ArtifactsV11Service, StorageModule, DownloadSigner, READINESS_CHECKS],
})
export class ArtifactsModule {}
