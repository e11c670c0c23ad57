import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { releaseDialect } from './release-documents';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { singleDocument } from '../jsonapi/serializer';
import { ReleaseSerializer } from './release.serializer';
import { ReleasesService } from './releases.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument } from '../openapi/decorators';

/** Status actions (Keygen's sub-resources); the status machine in release-status.ts decides. */
@SettlesCatalogue()
@Controller('v1/accounts/:account/releases/:id/actions')
export class ReleaseActionsController {
  constructor(private readonly releases: ReleasesService) {}

  /** Hides the release from customers and stamps `yanked`; repeating it is 200. */
  @ApiDocument(ReleaseSerializer, 'single')
  @Post('yank')
  @HttpCode(200)
  async yank(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Req() req: Request) {
    const dialect = releaseDialect(req);
    return singleDocument(dialect.serializer, await this.releases.act(bearer, account.id, id, 'yank', dialect.narrow));
  }

  /** Publishes an unpublished or yanked release whose artifact is uploaded (else 422 ARTIFACT_NOT_UPLOADED). */
  @ApiDocument(ReleaseSerializer, 'single')
  @Post('publish')
  @HttpCode(200)
  async publish(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Req() req: Request) {
    const dialect = releaseDialect(req);
    return singleDocument(dialect.serializer, await this.releases.act(bearer, account.id, id, 'publish', dialect.narrow));
  }

  /** Back to DRAFT (NOT_PUBLISHED in 1.0): customers no longer see it; `yanked` is cleared. */
  @ApiDocument(ReleaseSerializer, 'single')
  @Post('draft')
  @HttpCode(200)
  async draft(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Req() req: Request) {
    const dialect = releaseDialect(req);
    return singleDocument(dialect.serializer, await this.releases.act(bearer, account.id, id, 'draft', dialect.narrow));
  }
}
