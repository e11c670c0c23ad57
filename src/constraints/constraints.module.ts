import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Entitlement } from '../entitlements/entitlement.entity';
import { ReleaseConstraint } from '../releases/release-constraint.entity';
import { ReleasesModule } from '../releases/releases.module';
import { ConstraintsController } from './constraints.controller';
import { ConstraintsService } from './constraints.service';

/**
 * The routes of a release's constraints. The constraint rows belong to the release (its entity and
 * serializer live in releases/, which reads them for visibility and `include=`); this module
 * attaches and detaches them for whoever may see or write the release.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ReleaseConstraint, Entitlement]), ReleasesModule],
  controllers: [ConstraintsController],
  providers: [ConstraintsService],
})
export class ConstraintsModule {}
