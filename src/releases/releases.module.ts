import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Artifact } from '../artifacts/artifact.entity';
import { ConstraintsController } from '../constraints/constraints.controller';
import { ConstraintsService } from '../constraints/constraints.service';
import { ReleaseConstraint } from '../constraints/release-constraint.entity';
import { Entitlement } from '../entitlements/entitlement.entity';
import { Product } from '../products/product.entity';
import { ReleaseActionsController } from './release-actions.controller';
import { Release } from './release.entity';
import { ReleaseStatusModule } from './release-status.module';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ReleasesController } from './releases.controller';
import { ReleasesService } from './releases.service';

/** Releases, their status actions and their constraints (src/constraints has no module of its own). */
@Module({
  imports: [TypeOrmModule.forFeature([Release, ReleaseConstraint, Product, Entitlement, Artifact]), ReleaseStatusModule, ArtifactsModule],
  controllers: [ReleasesController, ReleaseActionsController, ConstraintsController],
  providers: [ReleasesService, ConstraintsService],
  exports: [ReleasesService, ReleaseStatusModule, ConstraintsService],
})
export class ReleasesModule {}
