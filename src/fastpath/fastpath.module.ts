import { Global, Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { FeedsModule } from '../feeds/feeds.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { V3Module } from '../v3/v3.module';
import { CallerFastPath } from '../auth/caller.fast-path';
import { FeedsFastPath } from '../feeds/feeds.fast-path';
import { ReleaseListFastPath } from '../releases/release-list.fast-path';
import { UpgradeCheckFastPath } from '../upgrades/upgrade-check.fast-path';
import { V3UpdateFastPath } from '../v3/v3-update.fast-path';
import { CallerFromMemory } from './caller';
import { FeedsFromMemory } from './feeds';
import { ReleaseListFromMemory } from './release-list';
import { UpgradeCheckFromMemory } from './upgrade-check';
import { V3UpdateFromMemory } from './v3-update';
import { WarmCatalogue } from './warm';

/**
 * The fast path: each hot route's answer from memory, synchronously, or NOT_WARM. The routes'
 * folders declare what they expect (an abstract class each); this module provides it, so that no
 * domain folder imports this layer (docs/architecture.md).
 */
@Global()
@Module({
  imports: [UpgradesModule, V3Module, FeedsModule, ArtifactsModule],
  providers: [
    WarmCatalogue,
    { provide: CallerFastPath, useClass: CallerFromMemory },
    { provide: UpgradeCheckFastPath, useClass: UpgradeCheckFromMemory },
    { provide: V3UpdateFastPath, useClass: V3UpdateFromMemory },
    { provide: FeedsFastPath, useClass: FeedsFromMemory },
    { provide: ReleaseListFastPath, useClass: ReleaseListFromMemory },
  ],
  exports: [CallerFastPath, UpgradeCheckFastPath, V3UpdateFastPath, FeedsFastPath, ReleaseListFastPath],
})
export class FastPathModule {}
