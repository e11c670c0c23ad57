import { Global, Module } from '@nestjs/common';
import { CommittedChanges, CatalogueSettleInterceptor } from '../database/settle.interceptor';
import { ProductDirectory } from '../products/product-ref';
import { CatalogueListener } from './catalogue-listener';
import { CatalogueService } from './catalogue.service';
import { LicensedArtifacts } from '../artifacts/licensed-artifacts';
import { CatalogueLicensedArtifacts } from './licensed-artifacts';

/** The hot path's in-memory catalogue and its change listener (which also settles writes). */
@Global()
@Module({
  providers: [CatalogueService, CatalogueListener, { provide: CommittedChanges, useExisting: CatalogueListener }, { provide: ProductDirectory, useExisting: CatalogueService }, { provide: LicensedArtifacts, useClass: CatalogueLicensedArtifacts }, CatalogueSettleInterceptor],
  exports: [CatalogueService, CatalogueListener, CommittedChanges, ProductDirectory, LicensedArtifacts, CatalogueSettleInterceptor],
})
export class CatalogueModule {}
