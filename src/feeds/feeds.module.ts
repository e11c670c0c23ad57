import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ReleasesModule } from '../releases/releases.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { AuthModule } from '../auth/auth.module';
import { AccountArtifactsController } from './account-artifacts.controller';
import { FeedsController } from './feeds.controller';
import { FeedsService } from './feeds.service';

/**
 * electron-updater, Tauri and Sparkle feeds, generated from the catalogue; and Keygen's account-level
 * artifact route, which electron-updater's Keygen provider also asks for its channel file.
 */
@Module({
  imports: [UpgradesModule, ReleasesModule, ArtifactsModule, AuthModule],
  controllers: [FeedsController, AccountArtifactsController],
  providers: [FeedsService],
  exports: [FeedsService],
})
export class FeedsModule {}
