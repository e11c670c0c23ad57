import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { V3AccountLocator } from './v3-account.locator';
import { V3Controller } from './v3.controller';
import { V3Service } from './v3.service';

@Module({
  imports: [UpgradesModule, ArtifactsModule],
  controllers: [V3Controller],
  providers: [V3Service, V3AccountLocator],
  exports: [V3Service],
})
export class V3Module {}
