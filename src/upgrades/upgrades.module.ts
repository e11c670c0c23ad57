import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { License } from '../licenses/license.entity';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ReleasesModule } from '../releases/releases.module';
import { UpgradeFinder } from './upgrade-finder';
import { UpgradesController } from './upgrades.controller';
import { UpgradesService } from './upgrades.service';
import { ExplainService } from './explain.service';

@Module({
  imports: [ReleasesModule, ArtifactsModule, AuthModule, TypeOrmModule.forFeature([License])],
  controllers: [UpgradesController],
  providers: [UpgradeFinder, UpgradesService, ExplainService],
  exports: [UpgradeFinder, UpgradesService],
})
export class UpgradesModule {}
