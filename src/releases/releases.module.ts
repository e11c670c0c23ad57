import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Artifact } from '../artifacts/artifact.entity';
import { Entitlement } from '../entitlements/entitlement.entity';
import { Product } from '../products/product.entity';
import { ReleaseActionsController } from './release-actions.controller';
import { ReleaseConstraint } from './release-constraint.entity';
import { Release } from './release.entity';
import { ReleaseStatusModule } from './release-status.module';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ReleasesController } from './releases.controller';
import { ReleasesService } from './releases.service';

/** Releases and their status actions (their constraints' routes are ConstraintsModule's). */
@Module({
  imports: [TypeOrmModule.forFeature([Release, ReleaseConstraint, Product, Entitlement, Artifact]), ReleaseStatusModule, ArtifactsModule],
  controllers: [ReleasesController, ReleaseActionsController],
  providers: [ReleasesService],
  exports: [ReleasesService, ReleaseStatusModule],
})
export class ReleasesModule {}
