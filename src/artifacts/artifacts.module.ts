import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { READINESS_CHECKS } from '../health/health.controller';
import { ReleaseStatusService } from '../releases/release-status.service';
import { ReleaseArtifactController } from './artifacts.controller';
import { ArtifactsService } from './artifacts.service';
import { DownloadSigner, loadSigningSecret } from './download-signer';
import { SignedDownloadController } from './signed-download.controller';
import { storageDriverProvider, storageReadinessCheck } from './storage/storage.provider';
import { STORAGE_DRIVER } from './storage/storage-driver';
import type { StorageDriver } from './storage/storage-driver';

/** The token ReleasesService resolves to remove a deleted release's file (declared there as the same string). */
const RELEASE_ARTIFACT_CLEANUP = 'RELEASE_ARTIFACT_CLEANUP';

/**
 * Artifact storage, uploads and downloads. ReleaseStatusService (stateless) is provided here
 * rather than imported from ReleasesModule, so that ReleasesModule (and the upgrade and v3
 * modules) can import this module without a circular import.
 */
@Module({
  controllers: [ReleaseArtifactController, SignedDownloadController],
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
    ReleaseStatusService,
    ArtifactsService,
    // ReleasesService looks this up app-wide when a release is deleted (see releases.service.ts)
    { provide: RELEASE_ARTIFACT_CLEANUP, useExisting: ArtifactsService },
  ],
  exports: [ArtifactsService, STORAGE_DRIVER, DownloadSigner, READINESS_CHECKS, RELEASE_ARTIFACT_CLEANUP],
})
export class ArtifactsModule {}
