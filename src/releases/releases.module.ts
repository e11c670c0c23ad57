import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Entitlement } from '../entitlements/entitlement.entity';
import { Product } from '../products/product.entity';
import { StorageModule } from '../storage/storage.module';
import { Artifact } from './artifact.entity';
import { ReleaseActionsController } from './release-actions.controller';
import { ReleaseConstraint } from './release-constraint.entity';
import { Release } from './release.entity';
import { ReleaseStatusModule } from './release-status.module';
import { ReleasesController } from './releases.controller';
import { ReleasesService } from './releases.service';

/** Releases and their status actions (their constraints' routes are ConstraintsModule's). */
@Module({
  imports: [TypeOrmModule.forFeature([Release, ReleaseConstraint, Product, Entitlement, Artifact]), ReleaseStatusModule, StorageModule],
  controllers: [ReleasesController, ReleaseActionsController],
  providers: [ReleasesService],
  exports: [ReleasesService, ReleaseStatusModule],
})
export class ReleasesModule {}
