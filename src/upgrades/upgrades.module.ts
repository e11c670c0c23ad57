import { Module } from '@nestjs/common';

// placeholder: filled in by the upgrades work
@Module({})
export class UpgradesModule {}
