import { Module } from '@nestjs/common';
import { UpgradeFinder } from './upgrade-finder';

@Module({
  providers: [UpgradeFinder],
  exports: [UpgradeFinder],
})
export class UpgradesModule {}
