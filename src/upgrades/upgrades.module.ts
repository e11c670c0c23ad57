import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ReleasesModule } from '../releases/releases.module';
import { UpgradeFinder } from './upgrade-finder';
import { UpgradesController } from './upgrades.controller';
import { UpgradesService } from './upgrades.service';

@Module({
  imports: [ReleasesModule, ArtifactsModule],
  controllers: [UpgradesController],
  providers: [UpgradeFinder, UpgradesService],
  exports: [UpgradeFinder],
})
export class UpgradesModule {}
