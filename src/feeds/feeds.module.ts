import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { FeedsController } from './feeds.controller';
import { FeedsService } from './feeds.service';

/** electron-updater, Tauri and Sparkle feeds, generated from the catalogue. */
@Module({
  imports: [UpgradesModule, ArtifactsModule],
  controllers: [FeedsController],
  providers: [FeedsService],
  exports: [FeedsService],
})
export class FeedsModule {}
