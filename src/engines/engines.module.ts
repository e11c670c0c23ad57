import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { FeedsModule } from '../feeds/feeds.module';
import { NpmController } from './npm/npm.controller';
import { PackageCatalogue } from './package-catalogue';
import { PypiController } from './pypi/pypi.controller';
import { RawController } from './raw/raw.controller';

/** The package-manager engines (PyPI, npm, raw): thin translations of what the caller may install. */
@Module({
  imports: [ArtifactsModule, FeedsModule],
  controllers: [PypiController, NpmController, RawController],
  providers: [PackageCatalogue],
})
export class EnginesModule {}
